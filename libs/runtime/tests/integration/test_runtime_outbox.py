"""The transactional outbox: an event commits with its state change or not at all, and the relay
publishes it, CloudEvents headers and trace context included, marking it only once confirmed."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractChannel
from opentelemetry.sdk.trace import TracerProvider

from atiende_contracts import CaseAssigned, CaseResolved, SurveyAnswered
from atiende_runtime.broker import Topology
from atiende_runtime.outbox import OutboxRelay, enqueue
from atiende_runtime.uow import unit_of_work
from atiende_testing import eventually

SOURCE = "/atiende/svc"


def resolved(case_id: uuid.UUID) -> CaseResolved:
    return CaseResolved(
        case_id=case_id,
        case_number="AT-2026-000001",
        resolution="refund",
        resolved_at=datetime.now(UTC),
    )


def assigned(case_id: uuid.UUID) -> CaseAssigned:
    return CaseAssigned(
        case_id=case_id, case_number="AT-2026-000001", team="general", assigned_at=datetime.now(UTC)
    )


async def test_event_of_a_rolled_back_transaction_is_never_written(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE TABLE resolutions (case_id uuid PRIMARY KEY)")
    case_id = uuid.uuid4()

    async def resolve_then_fail() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO resolutions VALUES ($1)", case_id)
            await enqueue(conn, resolved(case_id), source=SOURCE, subject=case_id)
            raise RuntimeError("failure after the event was enqueued")

    with pytest.raises(RuntimeError, match="after the event"):
        await resolve_then_fail()

    assert await pool.fetchval("SELECT count(*) FROM resolutions") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

    async with unit_of_work(pool, SOURCE) as uow:
        await uow.conn.execute("INSERT INTO resolutions VALUES ($1)", case_id)
        envelope = await uow.emit(resolved(case_id), subject=case_id)

    assert uow.emitted == [envelope]
    assert await pool.fetchval("SELECT count(*) FROM resolutions") == 1
    row = await pool.fetchrow("SELECT * FROM outbox")
    assert row["event_id"] == envelope.id
    assert row["routing_key"] == "case.resolved.v1"
    assert row["subject"] == str(case_id)
    assert row["published_at"] is None


async def test_relay_publishes_cloudevents_headers_and_the_writers_trace(
    pool: asyncpg.Pool,
    relay_for: Callable[..., OutboxRelay],
    event_tap: Any,
    tracer_provider: TracerProvider,
) -> None:
    case_id = uuid.uuid4()
    with tracer_provider.get_tracer("test").start_as_current_span("POST /cases") as request_span:
        async with unit_of_work(pool, SOURCE) as uow:
            envelope = await uow.emit(resolved(case_id), subject=case_id)

    assert await relay_for().publish_batch() == 1

    [message] = await event_tap.wait_for(1)
    headers = message.headers
    assert headers["ce-id"] == str(envelope.id)
    assert headers["ce-type"] == "io.atiende.case.resolved.v1"
    assert headers["ce-source"] == SOURCE
    assert headers["ce-subject"] == str(case_id)
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-dataschema"] == "urn:atiende:events:case.resolved:v1"
    assert headers["ce-dataversion"] == "1"
    assert datetime.fromisoformat(str(headers["ce-time"])) == envelope.time
    assert message.message_id == str(envelope.id)
    assert message.routing_key == "case.resolved.v1"
    assert message.content_type == "application/json"
    assert json.loads(message.body) == envelope.data
    # the publish span is a child of the span that wrote the row: one trace end to end
    match = re.fullmatch(
        r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}", str(headers["traceparent"])
    )
    assert match is not None
    assert match[1] == format(request_span.get_span_context().trace_id, "032x")
    assert match[2] != format(request_span.get_span_context().span_id, "016x")
    row = await pool.fetchrow("SELECT published_at, attempts, last_error FROM outbox")
    assert row["published_at"] is not None
    assert (row["attempts"], row["last_error"]) == (1, None)


async def test_row_the_broker_refuses_stays_pending_and_holds_back_its_subject(
    pool: asyncpg.Pool,
    relay_for: Callable[..., OutboxRelay],
    topology: Topology,
    amqp_channel: AbstractChannel,
    event_tap: Any,
) -> None:
    # A full queue that rejects publishes makes the broker nack case.resolved: no confirm.
    full = await amqp_channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await full.bind(topology.names.events_exchange, routing_key="case.resolved.v1")
    held_case, other_case = uuid.uuid4(), uuid.uuid4()
    async with unit_of_work(pool, SOURCE) as uow:
        refused = await uow.emit(resolved(held_case), subject=held_case)
        held_back = await uow.emit(assigned(held_case), subject=held_case)
        independent = await uow.emit(assigned(other_case), subject=other_case)
    relay = relay_for()

    with pytest.raises(RuntimeError, match="1 outbox rows not confirmed"):
        await relay.publish_batch()

    rows = {r["event_id"]: r for r in await pool.fetch("SELECT * FROM outbox")}
    assert rows[refused.id]["published_at"] is None
    assert rows[refused.id]["attempts"] == 1
    assert "DeliveryError" in rows[refused.id]["last_error"]
    # the later event of the same case is not published ahead of the refused one
    assert rows[held_back.id]["published_at"] is None
    assert rows[held_back.id]["attempts"] == 0
    assert rows[independent.id]["published_at"] is not None

    await full.unbind(topology.names.events_exchange, routing_key="case.resolved.v1")
    assert await relay.publish_batch() == 2

    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    # sentinel: once it arrives, everything published before it has arrived too
    async with unit_of_work(pool, SOURCE) as uow:
        sentinel = await uow.emit(resolved(uuid.uuid4()))
    assert await relay.publish_batch() == 1
    await eventually(lambda: any(m.message_id == str(sentinel.id) for m in event_tap.messages))
    held_case_ids = [
        m.message_id for m in event_tap.messages if m.headers.get("ce-subject") == str(held_case)
    ]
    # a nack does not take the copy back from the queues that did accept it; the retry
    # republishes it with the same event id, which every consumer's inbox drops
    assert held_case_ids[-2:] == [str(refused.id), str(held_back.id)]
    assert set(held_case_ids[:-2]) <= {str(refused.id)}


async def test_event_no_queue_is_bound_for_lands_in_the_unrouted_queue(
    pool: asyncpg.Pool,
    relay_for: Callable[..., OutboxRelay],
    topology: Topology,
    amqp_channel: AbstractChannel,
) -> None:
    async with unit_of_work(pool, SOURCE) as uow:
        envelope = await uow.emit(
            SurveyAnswered(
                invitation_id=uuid.uuid4(),
                case_id=uuid.uuid4(),
                satisfaction=4,
                answered_at=datetime.now(UTC),
            )
        )

    assert await relay_for().publish_batch() == 1

    unrouted = await amqp_channel.get_queue(topology.names.unrouted_queue)
    message = await eventually(lambda: unrouted.get(no_ack=True, fail=False), timeout=5)
    assert message.message_id == str(envelope.id)
    assert message.routing_key == "survey.answered.v1"
    assert await pool.fetchval("SELECT published_at IS NOT NULL FROM outbox") is True
