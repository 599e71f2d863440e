"""The outbox relay under concurrency: two relays keep each case's order and publish every row
once; a running relay wakes on NOTIFY instead of waiting for its next poll, and prunes what it
published long ago."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aio_pika.abc import AbstractIncomingMessage

from atiende_contracts import CaseResolved, Names
from atiende_runtime import db
from atiende_runtime.broker import Topology
from atiende_runtime.outbox import OutboxRelay
from atiende_runtime.uow import unit_of_work
from atiende_testing import eventually

SOURCE = "/atiende/svc"
SCHEMA = "svc"


def resolved(case_id: uuid.UUID, sequence: int = 0) -> CaseResolved:
    """An event whose `resolution` records its place in its case's sequence."""
    return CaseResolved(
        case_id=case_id,
        case_number="AT-2026-000001",
        resolution=str(sequence),
        resolved_at=datetime.now(UTC),
    )


async def emit(pool: asyncpg.Pool, case_id: uuid.UUID, sequence: int = 0) -> str:
    async with unit_of_work(pool, SOURCE) as uow:
        envelope = await uow.emit(resolved(case_id, sequence), subject=case_id)
    return str(envelope.id)


async def pending(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return count


async def test_two_relays_keep_each_cases_order_and_publish_every_row_once(
    database_url: str,
    amqp_url: str,
    broker_namespace: str,
    pool: asyncpg.Pool,
    relay_for: Callable[..., OutboxRelay],
    event_tap: Any,
) -> None:
    cases = [uuid.uuid4() for _ in range(5)]
    for position in range(50):  # interleaved: case 0, 1, 2, 3, 4, 0, 1, ...
        await emit(pool, cases[position % 5], sequence=position // 5)
    # the second relay stands for another replica: its own pool and broker connection
    other_pool = await db.create_pool(database_url, SCHEMA, min_size=1, max_size=2)
    other_topology = Topology(amqp_url, Names(broker_namespace))
    await other_topology.connect()
    relays = [
        relay_for(batch_size=7),
        OutboxRelay(
            other_pool, other_topology, database_url=database_url, schema=SCHEMA, batch_size=7
        ),
    ]

    async def drain(relay: OutboxRelay) -> None:
        while await pending(pool):
            await relay.publish_batch()

    try:
        await asyncio.wait_for(asyncio.gather(*(drain(relay) for relay in relays)), timeout=30)
    finally:
        await other_topology.close()
        await other_pool.close()

    assert sum(relay.published for relay in relays) == 50
    rows = await pool.fetch("SELECT published_at, attempts FROM outbox")
    assert len(rows) == 50
    assert all(row["published_at"] is not None and row["attempts"] == 1 for row in rows)
    # sentinel: when it arrives, every copy published before it (duplicates too) has arrived
    sentinel = await emit(pool, uuid.uuid4())
    assert await relays[0].publish_batch() == 1
    await eventually(lambda: any(m.message_id == sentinel for m in event_tap.messages))
    events = [m for m in event_tap.messages if m.message_id != sentinel]
    ids = [m.headers["ce-id"] for m in events]
    assert len(ids) == len(set(ids)) == 50
    assert sequences_by_case(events) == {str(case): [str(n) for n in range(10)] for case in cases}


async def test_relay_waits_for_an_earlier_row_of_the_case_held_by_another_relay(
    database_url: str,
    pool: asyncpg.Pool,
    relay_for: Callable[..., OutboxRelay],
    event_tap: Any,
) -> None:
    held_case, free_case = uuid.uuid4(), uuid.uuid4()
    first = await emit(pool, held_case, 0)
    second = await emit(pool, held_case, 1)
    free = await emit(pool, free_case)
    relay = relay_for()
    other_relay = await asyncpg.connect(database_url)
    try:
        # what another relay's open batch looks like: the case's first row claimed, not yet marked
        other_batch = other_relay.transaction()
        await other_batch.start()
        await other_relay.execute(
            "SELECT 1 FROM svc.outbox WHERE event_id = $1 FOR UPDATE", uuid.UUID(first)
        )

        assert await relay.publish_batch() == 1

        await other_batch.rollback()
    finally:
        await other_relay.close()
    assert await relay.publish_batch() == 2

    messages = await event_tap.wait_for(3)
    assert [m.message_id for m in messages] == [free, first, second]


def sequences_by_case(messages: list[AbstractIncomingMessage]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        out[str(message.headers["ce-subject"])].append(json.loads(message.body)["resolution"])
    return dict(out)


async def listening(pool: asyncpg.Pool) -> None:
    """Wait until the relay's LISTEN connection is up, so the next row is found by its NOTIFY."""

    async def check() -> bool:
        count: int = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'atiende-listen-svc_outbox'"
            " AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')"  # past its LISTEN
        )
        return count == 1

    await eventually(check, timeout=5, message="the relay never listened on svc_outbox")


async def test_running_relay_wakes_on_notify_long_before_its_poll_interval(
    pool: asyncpg.Pool, relay_for: Callable[..., OutboxRelay], event_tap: Any
) -> None:
    relay = relay_for(poll_interval=30)
    await relay.start()
    try:
        await listening(pool)
        for sequence in range(3):
            event_id = await emit(pool, uuid.uuid4(), sequence)
            [*_, last] = await event_tap.wait_for(sequence + 1, timeout=2)
            assert last.message_id == event_id
    finally:
        await relay.stop()


class RelayWithAHook(OutboxRelay):
    """Runs `after_first_batch` once, right after its first non-empty batch and before the relay
    decides whether to wait: the moment when a NOTIFY can arrive while the relay is busy."""

    after_first_batch: Callable[[], Awaitable[None]] | None = None

    async def publish_batch(self) -> int:
        count = await super().publish_batch()
        if count and self.after_first_batch is not None:
            hook, self.after_first_batch = self.after_first_batch, None
            await hook()
        return count


async def test_notify_arriving_while_a_batch_is_published_is_not_lost(
    database_url: str, pool: asyncpg.Pool, topology: Topology, event_tap: Any
) -> None:
    relay = RelayWithAHook(
        pool, topology, database_url=database_url, schema=SCHEMA, poll_interval=30
    )
    late: list[str] = []

    async def commit_a_row_meanwhile() -> None:
        late.append(await emit(pool, uuid.uuid4()))
        await asyncio.sleep(0.3)  # its NOTIFY reaches the listener before the batch returns

    relay.after_first_batch = commit_a_row_meanwhile
    await relay.start()
    try:
        await listening(pool)
        await emit(pool, uuid.uuid4())
        messages = await event_tap.wait_for(2, timeout=3)
        assert messages[1].message_id == late[0]
    finally:
        await relay.stop()


async def test_running_relay_deletes_published_rows_past_retention(
    pool: asyncpg.Pool, relay_for: Callable[..., OutboxRelay], event_tap: Any
) -> None:
    expired = uuid.UUID(await emit(pool, uuid.uuid4()))
    await pool.execute(
        "UPDATE outbox SET published_at = now() - interval '2 days' WHERE event_id = $1", expired
    )
    fresh = uuid.UUID(await emit(pool, uuid.uuid4()))
    relay = relay_for(retention_hours=24)

    async def expired_is_gone() -> bool:
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", expired) == 0

    await relay.start()
    try:
        await event_tap.wait_for(1)
        await eventually(expired_is_gone, timeout=5, message="the expired row was never pruned")
    finally:
        await relay.stop()
    # the row published just now stays: retention counts from publication
    assert await pool.fetchval("SELECT array_agg(event_id) FROM outbox") == [fresh]
