"""The one polling worker: rounds until the work is drained, backs off on failure, wakes on
demand, stops promptly, and lets the round in flight finish."""

from __future__ import annotations

import asyncio

from atiende_runtime.worker import PollingWorker


def worker(step, **kwargs) -> PollingWorker:  # type: ignore[no-untyped-def]
    params = {"database_url": "postgresql://unused", "channel": None, "batch_size": 10}
    return PollingWorker("test", step, **{**params, **kwargs})


async def test_runs_again_at_once_while_batches_are_full() -> None:
    backlog = [10, 10, 3]
    done = asyncio.Event()

    async def step() -> int:
        count = backlog.pop(0) if backlog else 0
        if not backlog:
            done.set()
        return count

    w = worker(step, poll_interval=30)
    await w.start()
    await asyncio.wait_for(done.wait(), timeout=2)  # no 30 s poll between full batches
    await w.stop()
    assert w.handled == 23


async def test_wake_ends_the_wait_before_the_poll_interval() -> None:
    rounds: list[float] = []

    async def step() -> int:
        rounds.append(asyncio.get_running_loop().time())
        return 0

    w = worker(step, poll_interval=30)
    await w.start()
    await asyncio.sleep(0.05)
    w.wake()
    await asyncio.sleep(0.05)
    await w.stop()
    assert len(rounds) == 2


async def test_a_failing_round_is_retried_and_housekeeping_runs_when_idle() -> None:
    calls = {"step": 0, "idle": 0}

    async def step() -> int:
        calls["step"] += 1
        if calls["step"] == 1:
            raise RuntimeError("database restarting")
        return 0

    async def idle() -> None:
        calls["idle"] += 1

    w = worker(step, poll_interval=0.01, idle=idle)
    await w.start()
    await asyncio.sleep(0.2)
    await w.stop()
    assert calls["step"] >= 2
    assert calls["idle"] >= 1


async def test_next_due_shortens_the_sleep_to_the_earliest_deadline() -> None:
    rounds: list[float] = []

    async def step() -> int:
        rounds.append(asyncio.get_running_loop().time())
        return 0

    async def next_due() -> float:
        return 0.05

    w = worker(step, poll_interval=30, next_due=next_due)
    await w.start()
    await asyncio.sleep(0.3)
    await w.stop()
    assert len(rounds) >= 3


async def test_stop_lets_the_round_in_flight_finish_within_grace() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def step() -> int:
        started.set()
        await asyncio.sleep(0.1)
        finished.set()
        return 0

    w = worker(step, poll_interval=30, grace=5)
    await w.start()
    await started.wait()
    await w.stop()
    assert finished.is_set()
