"""The floor: what this machine's PostgreSQL and RabbitMQ do with no service in between.

One "operation" is what the pipeline needs at least once per case: a committed asyncpg INSERT
and a persistent publish to a quorum queue confirmed by the broker. `workers` tasks loop on it for
`seconds`; the rate is the ceiling any pipeline on these two servers could reach with that much
concurrency, and the pipeline's rate is reported as a fraction of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import aio_pika
import asyncpg


async def measure_floor(
    database_url: str, amqp_url: str, namespace: str, *, seconds: float, workers: int = 16
) -> dict[str, Any]:
    queue_name = f"{namespace}.harness.floor"
    pool = await asyncpg.create_pool(database_url, min_size=workers, max_size=workers)
    assert pool is not None
    connection = await aio_pika.connect(amqp_url)
    done = 0
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS harness_floor (id uuid PRIMARY KEY, body text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        setup = await connection.channel()
        await setup.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            channel = await connection.channel(publisher_confirms=True)
            body = b'{"floor": true}'
            while time.monotonic() < deadline:
                await pool.execute(
                    "INSERT INTO harness_floor (id, body) VALUES ($1, $2)", uuid.uuid4(), "x" * 200
                )
                await channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=queue_name,
                )
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.monotonic() - started
    finally:
        with contextlib.suppress(Exception):
            await (await connection.channel()).queue_delete(queue_name)
        await connection.close()
        with contextlib.suppress(Exception):
            await pool.execute("DROP TABLE IF EXISTS harness_floor")
        await pool.close()
    return {
        "operations_per_s": round(done / elapsed, 1),
        "workers": workers,
        "seconds": round(elapsed, 1),
        "operation": "asyncpg INSERT (autocommit) + persistent publish to a quorum queue, confirmed",
    }
