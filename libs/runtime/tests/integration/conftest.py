"""Fixtures of the runtime's integration tests, all on the real PostgreSQL and RabbitMQ: a
migrated `svc` schema and its pool, this test's broker topology, and a tap on its events exchange.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from opentelemetry.sdk.trace import TracerProvider

from atiende_contracts import Names
from atiende_runtime import db
from atiende_runtime.broker import Topology
from atiende_runtime.outbox import OutboxRelay
from atiende_runtime.telemetry import setup_tracing

SCHEMA = "svc"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on schema `svc`, migrated with the runtime's tables only (outbox, inbox)."""
    await db.migrate(database_url, SCHEMA, db.RUNTIME_MIGRATIONS)
    pool = await db.create_pool(database_url, SCHEMA, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def topology(amqp_url: str, broker_namespace: str) -> AsyncIterator[Topology]:
    topology = Topology(amqp_url, Names(broker_namespace), delivery_limit=2)
    await topology.connect()
    yield topology
    await topology.close()


@pytest.fixture
def relay_for(
    database_url: str, pool: asyncpg.Pool, topology: Topology
) -> Callable[..., OutboxRelay]:
    """`relay_for(batch_size=7)`: an outbox relay of `svc` on this test's pool and topology."""

    def make(**options: Any) -> OutboxRelay:
        return OutboxRelay(pool, topology, database_url=database_url, schema=SCHEMA, **options)

    return make


@pytest.fixture
async def amqp_channel(amqp_url: str) -> AsyncIterator[AbstractChannel]:
    """A channel of the test's own, as a consumer or operator would use it."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel()


@dataclass
class EventTap:
    """Every message published on the events exchange, in arrival order."""

    messages: list[AbstractIncomingMessage] = field(default_factory=list)

    async def wait_for(self, count: int, *, timeout: float = 10) -> list[AbstractIncomingMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} message(s) within {timeout}s, got {len(self.messages)}"
                )
            await asyncio.sleep(0.02)
        return self.messages


@pytest.fixture
async def event_tap(amqp_channel: AbstractChannel, topology: Topology) -> EventTap:
    tap = EventTap()
    queue = await amqp_channel.declare_queue(exclusive=True)
    await queue.bind(topology.names.events_exchange, routing_key="#")

    async def keep(message: AbstractIncomingMessage) -> None:
        tap.messages.append(message)

    await queue.consume(keep, no_ack=True)
    return tap


@pytest.fixture(scope="session")
def tracer_provider() -> TracerProvider:
    """The runtime's process-wide provider: with it, spans have ids and `traceparent` travels."""
    return setup_tracing("runtime-tests")
