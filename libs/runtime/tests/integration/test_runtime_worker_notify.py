"""The polling worker's wake-up on a real NOTIFY: a payload that says when the new work falls due
wakes it only when that comes before the wake it planned anyway; one that comes while a round
runs still shortens the wait after it; any other payload wakes it at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from atiende_runtime.worker import PollingWorker, listener_name
from atiende_testing import eventually

CHANNEL = "svc_work"


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def listening(conn: asyncpg.Connection) -> None:
    async def check() -> bool:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = $1 AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')",
            listener_name(CHANNEL),
        )
        return count == 1

    await eventually(check, timeout=5, message=f"the worker never listened on {CHANNEL}")


async def notify(conn: asyncpg.Connection, payload: str) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)


class Rounds:
    def __init__(self) -> None:
        self.count = 0
        self.gate: asyncio.Event | None = None
        self.in_round = asyncio.Event()

    async def step(self) -> int:
        self.count += 1
        if self.gate is not None:
            self.in_round.set()
            await self.gate.wait()
            self.gate = None
        return 0

    async def reach(self, count: int) -> None:
        async def reached() -> bool:
            return self.count >= count

        await eventually(reached, timeout=5, message=f"the worker never ran round {count}")


def worker(database_url: str, rounds: Rounds) -> PollingWorker:
    # a 30 s poll: any round within the test comes from a NOTIFY
    return PollingWorker(
        "test",
        rounds.step,
        database_url=database_url,
        channel=CHANNEL,
        batch_size=10,
        poll_interval=30,
    )


async def settled(conn: asyncpg.Connection, w: PollingWorker, rounds: Rounds) -> int:
    """The worker listening and asleep after its first rounds; how many it ran."""
    await listening(conn)
    await rounds.reach(1)
    await asyncio.sleep(0.2)  # the catch-up round after LISTEN, if any, is over
    return rounds.count


async def test_work_due_after_the_planned_wake_leaves_the_worker_asleep(
    database_url: str, conn: asyncpg.Connection
) -> None:
    rounds = Rounds()
    w = worker(database_url, rounds)
    await w.start()
    try:
        base = await settled(conn, w, rounds)
        await notify(conn, str(time.time() + 3600))  # an hour away: the next poll finds it
        await asyncio.sleep(0.3)
        assert rounds.count == base
        await notify(conn, str(time.time() + 0.1))  # before the poll: woken for it
        await rounds.reach(base + 1)
        await notify(conn, "")  # not said when: at once
        await rounds.reach(base + 2)
    finally:
        await w.stop()


async def test_work_notified_during_a_round_shortens_the_wait_after_it(
    database_url: str, conn: asyncpg.Connection
) -> None:
    rounds = Rounds()
    w = worker(database_url, rounds)
    await w.start()
    try:
        base = await settled(conn, w, rounds)
        rounds.gate = asyncio.Event()
        await notify(conn, "")
        await asyncio.wait_for(rounds.in_round.wait(), timeout=5)
        # due in 0.2 s while the round runs: the wait after the round must not last 30 s
        await notify(conn, str(time.time() + 0.2))
        await asyncio.sleep(0.2)  # the NOTIFY reaches the listener before the round ends
        rounds.gate.set()
        await rounds.reach(base + 2)
    finally:
        await w.stop()
