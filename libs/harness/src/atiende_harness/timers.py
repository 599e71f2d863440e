"""atiende-bench-timers: how late routing's durable timers fire with many deadlines pending.

Starts one real routing process on a database of its own, fills the timers table with
`--pending` deadlines spread over the next 30 days (they stay pending: the table and its index
are what is measured against), then starts the SLA clocks of `--probes`/4 cases on a calendar-time
policy so that `--probes` real warnings and breaches fall due over `--window` seconds. Each fires
through the worker (claim with SKIP LOCKED, emit the event into the outbox, set fired_at, commit).
Lateness = fired_at - due_at of the probes; p50, p99 and max are printed and written to
results/bench-timers-*.json. `--pending 100000,1000000` measures each size in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from .cluster import SERVICE_NAMES, ServiceProcess, free_port, service_env
from .procs import delete_topology, with_database
from .report import infrastructure_options, write


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="atiende-bench-timers", description=__doc__)
    parser.add_argument(
        "--pending",
        default="100000",
        help="pending deadlines to measure against, comma-separated sizes (e.g. 100000,1000000)",
    )
    parser.add_argument("--probes", type=int, default=2000, help="timers that fire per size")
    parser.add_argument("--window", type=float, default=20, help="seconds the probes fall due in")
    infrastructure_options(parser)
    options = parser.parse_args(argv)
    options.sizes = [int(s) for s in str(options.pending).split(",")]
    return options


@dataclass(frozen=True)
class _Case:
    id: uuid.UUID
    number: str
    priority: str = "urgent"
    status: str = "assigned"


async def _fill(conn: asyncpg.Connection, upto: int) -> None:
    """Pending deadlines in the next 30 days, made by the server (fast), until there are `upto`."""
    have = await conn.fetchval(
        "SELECT count(*) FROM routing.timers WHERE kind = 'bench_pending' AND fired_at IS NULL"
    )
    missing = upto - have
    if missing <= 0:
        return
    await conn.execute(
        """INSERT INTO routing.timers (id, kind, case_id, ref, due_at, payload)
           SELECT gen_random_uuid(), 'bench_pending', gen_random_uuid(), 'x',
                  now() + interval '1 hour' + random() * interval '30 days', '{}'
           FROM generate_series(1, $1)""",
        missing,
    )
    await conn.execute("ANALYZE routing.timers")


async def _probe(database_url: str, probes: int, window: float, round_: int) -> datetime:
    """Start the clocks of probes/4 cases so that their warnings and breaches fall due over
    `window` seconds, starting in 2 s (through routing's own use cases)."""
    from atiende_routing.domain.sla import DEFAULT_POLICY
    from atiende_routing.repository import PostgresUnitOfWork
    from atiende_routing.usecases import sla
    from atiende_runtime import db
    from atiende_runtime.uow import UnitOfWork

    policy_id = f"bench-{round_}"
    policy = DEFAULT_POLICY.next_version(
        id=policy_id,
        name="Bench seconds",
        business_hours=False,
        warn_at_percent=(50,),
        warn_minutes_before=(),
        targets={
            p: {
                c: timedelta(seconds=2 if c == "first_response" else 4)
                for c in ("first_response", "next_update", "resolution")
            }
            for p in ("low", "normal", "high", "urgent")
        },
    )
    conn = await db.connect(database_url, "routing")
    try:
        async with conn.transaction():
            uow = PostgresUnitOfWork(UnitOfWork(conn=conn, source="/atiende/bench"))
            await sla.save_policy(uow, policy, datetime.now(UTC), None, create=True)
            stored = await sla.policy_for(uow, policy_id)
            cases = max(1, probes // 4)
            # the first warning falls 1 s after its start, the last breach 4 s after; the
            # start leaves time to commit them all (those due before the commit are not counted)
            base = datetime.now(UTC) + timedelta(seconds=3 + probes * 0.002)
            spread = max(0.0, window - 4)
            for i in range(cases):
                at = base + timedelta(seconds=spread * i / cases)
                case = _Case(uuid.uuid4(), f"BENCH-{round_}-{i:06d}")
                await sla.start_clocks(uow, case, stored, None, at)
    finally:
        await conn.close()
    return datetime.now(UTC)


async def _measure(
    conn: asyncpg.Connection, since: datetime, committed: datetime, timeout: float
) -> dict[str, Any]:
    query = """SELECT extract(epoch FROM fired_at - due_at) AS late, fired_at IS NOT NULL AS done
               FROM routing.timers
               WHERE kind LIKE 'sla_%' AND created_at >= $1 AND due_at > $2"""
    deadline = time.monotonic() + timeout
    while True:
        rows = await conn.fetch(query, since, committed)
        if rows and all(r["done"] for r in rows):
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    late = sorted(float(r["late"]) for r in rows if r["done"])
    unfired = sum(1 for r in rows if not r["done"])

    def pct(p: float) -> float:
        return late[min(len(late) - 1, int(p * len(late)))] if late else float("nan")

    return {
        "probes": len(rows),
        "due_before_commit_excluded": await conn.fetchval(
            "SELECT count(*) FROM routing.timers"
            " WHERE kind LIKE 'sla_%' AND created_at >= $1 AND due_at <= $2",
            since,
            committed,
        ),
        "unfired": unfired,
        "lateness_p50_s": round(pct(0.50), 4),
        "lateness_p99_s": round(pct(0.99), 4),
        "lateness_max_s": round(late[-1], 4) if late else None,
        "lateness_mean_s": round(statistics.fmean(late), 4) if late else None,
    }


async def bench(options: argparse.Namespace) -> dict[str, Any]:
    name = f"atiende_bench_timers_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(options.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = with_database(options.database_url, name)
    ports = {service: free_port() for service in SERVICE_NAMES}
    namespace = f"bench-timers-{uuid.uuid4().hex[:6]}"
    env = service_env(
        "routing",
        ports,
        database_url=database_url,
        amqp_url=options.amqp_url,
        namespace=namespace,
        smtp=("127.0.0.1", 2525),
        ATIENDE_LOG_LEVEL=options.log_level,
        **dict(e.split("=", 1) for e in options.env),
    )
    log_path = options.results / f"bench-timers-{name}.log"
    options.results.mkdir(parents=True, exist_ok=True)
    routing = ServiceProcess("routing", ports["routing"], env, log_path)
    results: list[dict[str, Any]] = []
    routing.start()
    try:
        await routing.wait_ready()
        conn = await asyncpg.connect(database_url)
        try:
            for round_, size in enumerate(options.sizes):
                started = time.monotonic()
                await _fill(conn, size)
                filled_in = time.monotonic() - started
                since = await conn.fetchval("SELECT now()")
                committed = await _probe(database_url, options.probes, options.window, round_)
                measured = await _measure(conn, since, committed, options.window + 60)
                pending = await conn.fetchval(
                    "SELECT count(*) FROM routing.timers WHERE fired_at IS NULL"
                )
                measured |= {
                    "pending": size,
                    "pending_at_end": pending,
                    "fill_seconds": round(filled_in, 1),
                }
                results.append(measured)
                print(_line(measured), flush=True)
        finally:
            await conn.close()
    finally:
        routing.stop()
        if not options.keep:
            await delete_topology(options.amqp_url, namespace)
            admin = await asyncpg.connect(options.database_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    return {
        "kind": "bench-timers",
        "at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "probes": options.probes,
        "window_s": options.window,
        "results": results,
    }


def _line(r: dict[str, Any]) -> str:
    return (
        f"pending={r['pending']:>9,}  probes={r['probes']:,} (unfired {r['unfired']})  "
        f"lateness p50={r['lateness_p50_s'] * 1000:.1f} ms  p99={r['lateness_p99_s'] * 1000:.1f} ms"
        f"  max={(r['lateness_max_s'] or 0) * 1000:.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    result = asyncio.run(bench(options))
    path = write(options.results, "bench-timers", result)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
