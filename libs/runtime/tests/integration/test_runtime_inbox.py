"""The inbox: a handler's effects and "this consumer handled this event" commit together, so a
redelivered event is a no-op and a failed one leaves nothing behind and can run again."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from atiende_contracts import CaseAssigned, CaseResolved, Envelope
from atiende_runtime.inbox import HandlerContext, Subscription, handle_delivery
from atiende_runtime.logs import current_case_id

SOURCE = "/atiende/svc"
CONSUMER = "svc.record-resolution"


class RecordResolution:
    """A handler that stores the resolution and emits an event; it fails its first `failures` runs."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.runs: list[tuple[CaseResolved, str | None]] = []

    async def __call__(self, ctx: HandlerContext, event: CaseResolved) -> None:
        self.runs.append((event, current_case_id.get()))
        await ctx.conn.execute(
            "INSERT INTO resolutions (case_id, resolution) VALUES ($1, $2)",
            event.case_id,
            event.resolution,
        )
        await ctx.emit(
            CaseAssigned(
                case_id=event.case_id,
                case_number=event.case_number,
                team="closed",
                assigned_at=datetime.now(UTC),
            ),
            subject=event.case_id,
        )
        if len(self.runs) <= self.failures:
            raise RuntimeError("handler failed after writing")


@pytest.fixture
async def resolutions(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(
        "CREATE TABLE resolutions (case_id uuid PRIMARY KEY, resolution text NOT NULL)"
    )
    return pool


def case_resolved(case_id: uuid.UUID) -> Envelope:
    data = CaseResolved(
        case_id=case_id,
        case_number="AT-2026-000007",
        resolution="refund",
        resolved_at=datetime.now(UTC),
    )
    return Envelope.wrap(data, source="/atiende/routing", subject=str(case_id))


async def deliver(
    pool: asyncpg.Pool,
    handler: Any,
    headers: dict[str, Any],
    body: bytes,
    *,
    consumer: str = CONSUMER,
) -> bool:
    subscription = Subscription("record-resolution", ("case.resolved.v1",), handler, CaseResolved)
    return await handle_delivery(
        pool,
        consumer=consumer,
        source=SOURCE,
        subscription=subscription,
        headers=headers,
        body=body,
        settings=None,
    )


def as_amqp(envelope: Envelope) -> tuple[dict[str, Any], bytes]:
    return dict(envelope.amqp_headers()), json.dumps(envelope.data).encode()


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    """(resolutions, inbox rows, outbox rows)"""
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM resolutions), (SELECT count(*) FROM inbox), (SELECT count(*) FROM outbox)"
    )
    return tuple(row)  # type: ignore[return-value]


async def test_redelivered_event_is_handled_once(resolutions: asyncpg.Pool) -> None:
    case_id = uuid.uuid4()
    envelope = case_resolved(case_id)
    handler = RecordResolution()

    assert await deliver(resolutions, handler, *as_amqp(envelope)) is True
    assert await deliver(resolutions, handler, *as_amqp(envelope)) is False

    [(event, case_in_logs)] = handler.runs
    assert event == CaseResolved.model_validate(envelope.data)
    assert case_in_logs == str(case_id)
    assert await counts(resolutions) == (1, 1, 1)
    inbox = await resolutions.fetchrow("SELECT * FROM inbox")
    assert (inbox["consumer"], inbox["event_id"]) == (CONSUMER, envelope.id)
    assert (inbox["event_type"], inbox["subject"]) == ("io.atiende.case.resolved.v1", str(case_id))
    assert current_case_id.get() is None  # reset once handled


async def test_same_event_is_handled_once_per_consumer(resolutions: asyncpg.Pool) -> None:
    envelope = case_resolved(uuid.uuid4())

    assert await deliver(resolutions, RecordResolution(), *as_amqp(envelope)) is True
    await resolutions.execute("DELETE FROM resolutions")  # both handlers write the same row
    assert (
        await deliver(resolutions, RecordResolution(), *as_amqp(envelope), consumer="other.record")
        is True
    )

    assert await resolutions.fetchval("SELECT count(*) FROM inbox") == 2


async def test_failed_handler_leaves_nothing_and_runs_again_on_redelivery(
    resolutions: asyncpg.Pool,
) -> None:
    envelope = case_resolved(uuid.uuid4())
    handler = RecordResolution(failures=1)

    with pytest.raises(RuntimeError, match="handler failed"):
        await deliver(resolutions, handler, *as_amqp(envelope))

    # its write, its event and the inbox row were rolled back together
    assert await counts(resolutions) == (0, 0, 0)

    assert await deliver(resolutions, handler, *as_amqp(envelope)) is True
    assert len(handler.runs) == 2
    assert await counts(resolutions) == (1, 1, 1)


def failed_count() -> float:
    labels = {"consumer": CONSUMER, "outcome": "failed"}
    return REGISTRY.get_sample_value("atiende_events_handled_total", labels) or 0.0


def drop(headers: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in headers.items() if k != name}


MALFORMED = {
    "body not JSON": lambda h, b: (h, b"{not json"),
    "body not an object": lambda h, b: (h, b"[]"),
    "no ce-id": lambda h, b: (drop(h, "ce-id"), b),
    "no ce-type": lambda h, b: (drop(h, "ce-type"), b),
    "no ce-dataversion": lambda h, b: (drop(h, "ce-dataversion"), b),
    "unknown type": lambda h, b: ({**h, "ce-type": "io.atiende.case.reopened.v1"}, b),
    "data breaks the schema": lambda h, b: (h, json.dumps({"case_id": "nope"}).encode()),
}


@pytest.mark.parametrize("mangle", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_message_raises_value_error_and_changes_nothing(
    resolutions: asyncpg.Pool, mangle: Any
) -> None:
    handler = RecordResolution()
    failed_before = failed_count()

    with pytest.raises(ValueError):
        await deliver(resolutions, handler, *mangle(*as_amqp(case_resolved(uuid.uuid4()))))

    assert handler.runs == []
    assert await counts(resolutions) == (0, 0, 0)
    assert failed_count() == failed_before + 1  # visible in the metrics, not only in the logs
