"""The runtime microbenchmark: what the runtime itself costs per event, with no service code.

- **consumer**: `events` messages wait in one consumer queue; a runtime with one no-op handler
  takes them end to end (delivery → inbox row → no-op handler → commit → ack). The rate is
  counted between the first and the last inbox row committed.
- **relay**: `events` outbox rows wait unpublished; the runtime's outbox relay publishes them
  with publisher confirms and marks them sent. The rate is counted from the relay's start to the
  last row marked.

It runs in a process of its own (`python -m atiende_harness.microbench`), set up like a service
process (uvloop, INFO JSON logs, tracing as configured by the OTEL_* variables), so the harness's
own work does not weigh on it and the runtime's process-wide tracing does not instrument the
harness. Each figure is compared with the floor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika

from atiende_contracts import Envelope, EventData, Names, NotificationChannel, NotificationSent
from atiende_runtime import db
from atiende_runtime.broker import Topology
from atiende_runtime.inbox import Consumers, HandlerContext
from atiende_runtime.logs import configure_logging
from atiende_runtime.outbox import OutboxRelay, enqueue, to_amqp_message
from atiende_runtime.service import ServiceRuntime
from atiende_runtime.settings import Settings

SERVICE = "microbench"


def _event() -> NotificationSent:
    return NotificationSent(
        delivery_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        template="acknowledgement",
        channel=NotificationChannel.EMAIL,
        recipient="ana@example.com",
        sent_at=datetime.now(UTC),
    )


async def _wait_count(
    pool: Any, sql: str, target: int, timeout: float
) -> tuple[float | None, float | None]:
    """Poll `sql` (a count) every 10 ms: when it first moved and when it reached `target`."""
    first = last = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = await pool.fetchval(sql)
        now = time.monotonic()
        if count and first is None:
            first = now
        if count >= target:
            last = now
            break
        await asyncio.sleep(0.01)
    return first, last


async def consumer_rate(settings: Settings, events: int, timeout: float) -> dict[str, Any]:
    consumers: Consumers[Settings] = Consumers()

    @consumers.on(NotificationSent, name="noop")
    async def noop(ctx: HandlerContext[Settings], event: NotificationSent) -> None:
        return None

    runtime: ServiceRuntime[Settings] = ServiceRuntime(settings, "atiende_runtime", consumers, [])
    names = Names(settings.broker_namespace)
    queue = names.queue(SERVICE, "noop")
    # fill the queue before the consumer starts, so the figure is the consumer's alone
    topology = Topology(settings.amqp_url, names, delivery_limit=settings.delivery_limit)
    await topology.connect()
    try:
        await topology.declare_consumer_queue(queue, (NotificationSent.routing_key(),))
        exchange = await topology.events_exchange()
        for start in range(0, events, 500):
            await asyncio.gather(
                *(
                    exchange.publish(
                        to_amqp_message(Envelope.wrap(_event(), source="/microbench")),
                        routing_key=NotificationSent.routing_key(),
                    )
                    for _ in range(start, min(events, start + 500))
                )
            )
    finally:
        await topology.close()
    await runtime.start()
    try:
        first, last = await _wait_count(runtime.pool, "SELECT count(*) FROM inbox", events, timeout)
        handled = await runtime.pool.fetchval("SELECT count(*) FROM inbox")
    finally:
        await runtime.stop()
    seconds = (last or time.monotonic()) - (first or time.monotonic())
    return {
        "events": events,
        "handled": handled,
        "seconds": round(seconds, 2),
        "events_per_s": round((handled - 1) / seconds, 1) if seconds > 0 and last else None,
        "prefetch": settings.prefetch,
    }


async def relay_rate(settings: Settings, events: int, timeout: float) -> dict[str, Any]:
    names = Names(settings.broker_namespace)
    pool = await db.create_pool(settings.database_url, settings.db_schema, min_size=2, max_size=4)
    topology = Topology(settings.amqp_url, names)
    await topology.connect()
    sink = f"{settings.broker_namespace}.microbench.sink"
    relay: OutboxRelay | None = None
    try:
        queue = await topology.channel.declare_queue(
            sink, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(await topology.events_exchange(), routing_key="#")
        await pool.execute("TRUNCATE outbox")
        data: list[EventData] = [_event() for _ in range(events)]
        async with pool.acquire() as conn, conn.transaction():
            for item in data:
                await enqueue(conn, item, source="/microbench", subject=str(uuid.uuid4()))
        relay = OutboxRelay(
            pool,
            topology,
            database_url=settings.database_url,
            schema=settings.db_schema,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
        )
        started = time.monotonic()
        await relay.start()
        _, last = await _wait_count(
            pool, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL", events, timeout
        )
        published = await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
        )
    finally:
        if relay is not None:
            await relay.stop()
        with contextlib.suppress(Exception):
            await topology.channel.queue_delete(sink)
        await topology.close()
        await pool.close()
    seconds = (last or time.monotonic()) - started
    return {
        "events": events,
        "published": published,
        "seconds": round(seconds, 2),
        "events_per_s": round(published / seconds, 1) if seconds > 0 and last else None,
        "batch_size": settings.relay_batch_size,
    }


async def _cleanup(settings: Settings) -> None:
    names = Names(settings.broker_namespace)
    queue = names.queue(SERVICE, "noop")
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for name in (queue, Names.parking_queue(queue), names.unrouted_queue):
            with contextlib.suppress(Exception):
                await (await connection.channel()).queue_delete(name)
        for exchange in (
            names.events_exchange,
            names.unrouted_exchange,
            names.dead_letter_exchange,
        ):
            with contextlib.suppress(Exception):
                await (await connection.channel()).exchange_delete(exchange)
    conn = await db.connect(settings.database_url, settings.db_schema)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
    finally:
        await conn.close()


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        service_name=SERVICE,
        database_url=args.database_url,
        # the run's own database, whatever ATIENDE_DATABASE_ADMIN_URL the shell (make) exports
        database_admin_url=None,
        amqp_url=args.amqp_url,
        broker_namespace=args.namespace,
        log_level=args.log_level,
        auth_mode="off",  # consumers and relay only: no HTTP route is served
    )
    configure_logging(SERVICE, settings.log_level)
    result: dict[str, Any] = {}
    try:
        result["consumer"] = await consumer_rate(settings, args.events, args.timeout)
        result["relay"] = await relay_rate(settings, args.events, args.timeout)
    finally:
        await _cleanup(settings)
    return result


def run_in_process(
    database_url: str,
    amqp_url: str,
    namespace: str,
    *,
    events: int,
    log_path: Path,
    env: dict[str, str],
    timeout: float = 120,
) -> dict[str, Any]:
    """Run the microbenchmark in a process of its own; its logs go to `log_path`."""
    out = log_path.with_suffix(".json")
    with log_path.open("ab") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "atiende_harness.microbench",
                "--database-url",
                database_url,
                "--amqp-url",
                amqp_url,
                "--namespace",
                namespace,
                "--events",
                str(events),
                "--timeout",
                str(timeout),
                "--log-level",
                env.get("ATIENDE_LOG_LEVEL", "INFO"),
                "--output",
                str(out),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=timeout * 3,
        )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atiende_harness.microbench", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        runner = asyncio.run
    result = runner(_main(args))
    args.output.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
