"""Batched handling: deliveries that arrive together share one transaction and one inbox insert,
and a failing event is isolated — its neighbours commit, it alone is answered with its error."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from atiende_contracts import CaseResolved
from atiende_runtime.inbox import BatchHandler, HandlerContext, Subscription

from .test_runtime_inbox import SOURCE, as_amqp, case_resolved

CONSUMER = "svc.batch"


@pytest.fixture
async def resolutions(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(
        "CREATE TABLE resolutions (case_id uuid PRIMARY KEY, resolution text NOT NULL)"
    )
    return pool


class Record:
    """Stores each resolution; raises for the cases named poison, every time."""

    def __init__(self, poison: set[uuid.UUID] = frozenset()) -> None:  # type: ignore[assignment]
        self.poison = poison
        self.runs: list[uuid.UUID] = []

    async def __call__(self, ctx: HandlerContext, event: CaseResolved) -> None:
        self.runs.append(event.case_id)
        await ctx.conn.execute(
            "INSERT INTO resolutions (case_id, resolution) VALUES ($1, $2)",
            event.case_id,
            event.resolution,
        )
        if event.case_id in self.poison:
            raise RuntimeError("poison")


def batch_handler(pool: asyncpg.Pool, handler: Any, max_size: int = 32) -> BatchHandler:
    return BatchHandler(
        lambda: pool,
        consumer=CONSUMER,
        source=SOURCE,
        subscription=Subscription("batch", ("case.resolved.v1",), handler, CaseResolved),
        settings=None,  # type: ignore[arg-type]
        publishes=None,
        max_size=max_size,
    )


async def submit_all(batch: BatchHandler, messages: list[tuple[dict[str, Any], bytes]], **kw: Any):
    return await asyncio.gather(
        *(batch.submit(h, b, redelivered=kw.get("redelivered", False)) for h, b in messages),
        return_exceptions=True,
    )


async def test_deliveries_arriving_together_commit_as_one_batch(resolutions: asyncpg.Pool) -> None:
    cases = [uuid.uuid4() for _ in range(10)]
    handler = Record()
    batch = batch_handler(resolutions, handler)
    statements_before = await resolutions.fetchval(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    )

    outcomes = await submit_all(batch, [as_amqp(case_resolved(c)) for c in cases])

    assert outcomes == [True] * 10
    assert handler.runs == cases  # in delivery order
    assert await resolutions.fetchval("SELECT count(*) FROM resolutions") == 10
    assert await resolutions.fetchval("SELECT count(*) FROM inbox") == 10
    commits = (
        await resolutions.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        - statements_before
    )
    assert commits < 10  # one transaction for the batch (plus this test's own reads)


async def test_a_poison_event_fails_alone_and_its_neighbours_commit(
    resolutions: asyncpg.Pool,
) -> None:
    cases = [uuid.uuid4() for _ in range(6)]
    handler = Record(poison={cases[2]})
    batch = batch_handler(resolutions, handler)

    outcomes = await submit_all(batch, [as_amqp(case_resolved(c)) for c in cases])

    assert [o for i, o in enumerate(outcomes) if i != 2] == [True] * 5
    assert isinstance(outcomes[2], RuntimeError)
    stored = {r[0] for r in await resolutions.fetch("SELECT case_id FROM resolutions")}
    assert stored == set(cases) - {cases[2]}  # the poison's write was rolled back
    inbox = {r[0] for r in await resolutions.fetch("SELECT subject FROM inbox")}
    assert inbox == {str(c) for c in cases} - {str(cases[2])}

    # redelivered, it is handled alone: it fails again, alone, until the queue parks it
    again = await submit_all(batch, [as_amqp(case_resolved(cases[2]))], redelivered=True)
    assert isinstance(again[0], RuntimeError)
    assert await resolutions.fetchval("SELECT count(*) FROM resolutions") == 5


async def test_malformed_and_duplicate_deliveries_in_a_batch(resolutions: asyncpg.Pool) -> None:
    first, second = case_resolved(uuid.uuid4()), case_resolved(uuid.uuid4())
    handler = Record()
    batch = batch_handler(resolutions, handler)
    assert await submit_all(batch, [as_amqp(first)]) == [True]

    outcomes = await submit_all(
        batch,
        [as_amqp(first), ({"ce-id": "x"}, b"{not json"), as_amqp(second), as_amqp(second)],
    )

    assert outcomes[0] is False  # handled before: a duplicate, acknowledged with no effect
    assert isinstance(outcomes[1], ValueError)  # malformed: nacked, parked at the limit
    assert outcomes[2:] == [True, False]  # the same event twice in one batch: handled once
    assert await resolutions.fetchval("SELECT count(*) FROM resolutions") == 2


async def test_batches_are_cut_at_the_maximum_size(resolutions: asyncpg.Pool) -> None:
    handler = Record()
    batch = batch_handler(resolutions, handler, max_size=3)
    outcomes = await submit_all(batch, [as_amqp(case_resolved(uuid.uuid4())) for _ in range(7)])
    assert outcomes == [True] * 7
    assert await resolutions.fetchval("SELECT count(*) FROM inbox") == 7
