"""The timer worker: fires routing's durable timers (SLA warnings and breaches, and whatever
kinds the lifecycle registers, such as commitments) within a second of their deadline.

Each round is one transaction (usecases.timers.fire_due): claim due rows FOR UPDATE SKIP LOCKED,
run each kind's handler (which emits its event), set fired_at, commit. Hence:
- exactly once: a row's fired_at and its event commit together; a crash (even kill -9) before
  the commit leaves the row pending, and the next round — here or in another replica — fires it;
- replicas share the work: SKIP LOCKED hands them different rows, and each row records which
  replica fired it (fired_by = host:pid);
- on time: the runtime's PollingWorker sleeps until `next_due` (never longer than the poll
  interval); the NOTIFY a new or moved timer sends on `<schema>_timers` carries its due time, and
  wakes the worker only when that comes before the wake it planned (migration 009): a new case's
  timers, due hours later, cost no round.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from prometheus_client import Counter

from atiende_runtime.service import ServiceRuntime
from atiende_runtime.worker import PollingWorker

from ..repository import PostgresUnitOfWork
from ..settings import RoutingSettings
from ..usecases import timers

TIMERS_FIRED = Counter("atiende_routing_timers_fired_total", "Timers fired by this replica")


def replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def timer_worker(runtime: ServiceRuntime[RoutingSettings]) -> PollingWorker:
    settings = runtime.settings
    name = settings.replica_name or replica_name()

    async def fire_round() -> int:
        now = datetime.now(UTC)
        async with runtime.unit_of_work() as tx:
            fired = await timers.fire_due(
                PostgresUnitOfWork(tx), now, settings.timer_batch_size, worker=name
            )
        TIMERS_FIRED.inc(fired)
        return fired

    async def next_due() -> float | None:
        async with runtime.unit_of_work() as tx:
            due = await timers.next_due(PostgresUnitOfWork(tx))
        if due is None:
            return None
        return (due - datetime.now(UTC)).total_seconds()

    return PollingWorker(
        "routing-timers",
        fire_round,
        database_url=settings.session_database_url,
        channel=f"{settings.db_schema}_timers",
        batch_size=settings.timer_batch_size,
        poll_interval=settings.timer_poll_interval,
        grace=settings.shutdown_timeout,
        next_due=next_due,
    )
