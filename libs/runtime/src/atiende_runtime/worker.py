"""One background loop for every "do the due work" job: the outbox relay, the notifications
dispatcher, and every timer (SLA deadlines, commitment due times, survey delays).

A `PollingWorker` runs `step()` — claim due rows (FOR UPDATE SKIP LOCKED), act, commit — again and
again. It wakes at once on a PostgreSQL NOTIFY on its channel, and polls every `poll_interval`
as a fallback (which also picks up rows that fall due with time, such as retries and deadlines).
A NOTIFY whose payload is a number says when the new work falls due (seconds since the epoch):
it wakes the worker only if that comes before the wake the worker has planned anyway (the next
poll, or `next_due`), since that round will find it. Any other payload wakes it at once.
The LISTEN connection is probed with a query each interval, because a connection that died
quietly otherwise never delivers a notification again. `stop()` lets the step in flight finish
(its side effects are already out: record them) within `grace` seconds, then cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[int]]
"""One round of work; returns how many items it handled (a full batch means: run again now)."""

MAX_BACKOFF = 30.0


def listener_name(channel: str) -> str:
    """The application_name of a worker's LISTEN connection (visible in pg_stat_activity)."""
    return f"atiende-listen-{channel}"


Notified = Callable[[asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, int, str, object], None]


async def listen(
    database_url: str,
    channel: str,
    on_notify: Notified,
    *,
    probe_interval: float,
    stopping: asyncio.Event,
    on_up: Callable[[], None] = lambda: None,
    on_down: Callable[[], None] = lambda: None,
    lost: str = "listener lost",
    extra: dict[str, str] | None = None,
) -> None:
    """LISTEN on `channel` until `stopping` is set, on a connection of its own, reconnecting
    after a failure. `on_up` runs once each connection listens (what was notified before is
    not heard: catch up then), `on_down` whenever it stops listening. The connection is probed
    every `probe_interval` seconds, because one that died quietly never delivers again."""
    while not stopping.is_set():
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(
                database_url, server_settings={"application_name": listener_name(channel)}
            )
            await conn.add_listener(channel, on_notify)
            on_up()
            while not stopping.is_set():
                await conn.fetchval("SELECT 1")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=probe_interval)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(lost, extra={"channel": channel, **(extra or {}), "error": str(exc)})
            on_down()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=probe_interval)
        finally:
            on_down()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()


class PollingWorker:
    def __init__(
        self,
        name: str,
        step: Step,
        *,
        database_url: str,
        channel: str | None,
        batch_size: int,
        poll_interval: float = 1.0,
        grace: float = 15.0,
        idle: Callable[[], Awaitable[None]] | None = None,
        next_due: Callable[[], Awaitable[float | None]] | None = None,
    ) -> None:
        """`channel`: the NOTIFY channel that signals new work (None: poll only).
        `idle`: housekeeping run when a round found less than a full batch (e.g. pruning).
        `next_due`: seconds until the earliest known due item, so a timer wakes on time instead of
        at the next poll (None: nothing scheduled)."""
        self.name = name
        self._step = step
        self._database_url = database_url
        self._channel = channel
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._grace = grace
        self._idle = idle
        self._next_due = next_due
        self._wake = asyncio.Event()
        self._planned: float | None = None
        """While sleeping: when (epoch seconds) the worker wakes anyway. None during a round."""
        self._held: float | None = None
        """The earliest due time notified during the current round (its wait must not outlast
        it: the round's own queries may have missed that work)."""
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.handled = 0

    async def start(self) -> None:
        if self._channel is not None:
            self._listen_task = asyncio.create_task(self._listen(), name=f"{self.name}-listen")
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._listen_task is not None:
            await _cancel(self._listen_task)
        if self._task is not None:
            _, running = await asyncio.wait({self._task}, timeout=self._grace)
            for task in running:
                await _cancel(task)

    def wake(self) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        assert self._channel is not None
        await listen(
            self._database_url,
            self._channel,
            self._on_notify,
            probe_interval=self._poll_interval,
            stopping=self._stopping,
            on_up=self._wake.set,  # catch up on whatever arrived while not listening
            lost="listener lost; polling meanwhile",
            extra={"worker": self.name},
        )

    def _on_notify(
        self,
        _conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        _pid: int,
        _channel: str,
        payload: object,
    ) -> None:
        due = _due_time(payload)
        if due is None:
            self._wake.set()  # new work, due now (or not said when)
        elif self._planned is None:
            # a round is running: remembered, so the wait after it ends by then
            self._held = due if self._held is None else min(self._held, due)
        elif due < self._planned:
            self._wake.set()
        # else: due after the planned wake, whose round (or next_due) will find it

    async def _run(self) -> None:
        backoff = self._poll_interval
        while not self._stopping.is_set():
            # cleared before the round, not after: a NOTIFY for work committed while this round
            # runs must still wake the next one
            self._wake.clear()
            self._planned = None
            self._held = None
            try:
                count = await self._step()
                backoff = self._poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "worker round failed; retrying", extra={"worker": self.name, "error": repr(exc)}
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self.rounds += 1
            self.handled += count
            if count >= self._batch_size:
                continue  # more may be waiting
            if self._idle is not None:
                try:
                    await self._idle()
                except Exception as exc:
                    log.warning(
                        "housekeeping failed", extra={"worker": self.name, "error": repr(exc)}
                    )
            timeout = await self._sleep_for()
            now = time.time()
            if self._held is not None:
                timeout = max(0.0, min(timeout, self._held - now))
            # from here a NOTIFY is judged against this wake (no await since the round ended)
            self._planned = now + timeout
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _sleep_for(self) -> float:
        if self._next_due is None:
            return self._poll_interval
        try:
            due_in = await self._next_due()
        except Exception:
            return self._poll_interval
        if due_in is None:
            return self._poll_interval
        return max(0.0, min(due_in, self._poll_interval))


def _due_time(payload: object) -> float | None:
    """The due time a NOTIFY payload states (epoch seconds), or None: wake at once."""
    if not isinstance(payload, str):
        return None
    try:
        due = float(payload)
    except ValueError:
        return None
    return due if math.isfinite(due) else None


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
