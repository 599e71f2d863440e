"""RabbitMQ topology: declared once here, so every service builds the same one.

- the events exchange (durable topic) with an alternate exchange, so an event no queue is bound
  for lands in the `unrouted` queue instead of vanishing;
- one durable quorum queue per consumer group, with a delivery limit and at-least-once
  dead-lettering to the dead-letter exchange;
- one parking queue per consumer queue, bound on the DLX by the consumer queue's name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from atiende_contracts import Names

log = logging.getLogger(__name__)


def events_exchange_arguments(names: Names) -> dict[str, Any]:
    return {"alternate-exchange": names.unrouted_exchange}


def consumer_queue_arguments(names: Names, queue: str, delivery_limit: int) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": names.dead_letter_exchange,
        "x-dead-letter-routing-key": queue,
        # at-least-once dead-lettering: the message leaves the queue only once the DLQ has it
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


class Topology:
    """Owns the service's aio-pika connection used for declaring topology and for publishing."""

    def __init__(self, amqp_url: str, names: Names, *, delivery_limit: int = 5) -> None:
        self.amqp_url = amqp_url
        self.names = names
        self.delivery_limit = delivery_limit
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, client_properties={"connection_name": f"{self.names.namespace}-topology"}
        )
        # publisher confirms on: publish() returns only after the broker took the message
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        await self.declare_shared()

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    @property
    def channel(self) -> AbstractRobustChannel:
        if self._channel is None:
            raise RuntimeError("topology not connected")
        return self._channel

    async def declare_shared(self) -> None:
        ch = self.channel
        unrouted = await ch.declare_exchange(
            self.names.unrouted_exchange, aio_pika.ExchangeType.FANOUT, durable=True
        )
        unrouted_queue = await ch.declare_queue(
            self.names.unrouted_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await unrouted_queue.bind(unrouted)
        self._exchange = await ch.declare_exchange(
            self.names.events_exchange,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            arguments=events_exchange_arguments(self.names),
        )
        await ch.declare_exchange(
            self.names.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
        )

    async def events_exchange(self) -> AbstractExchange:
        if self._exchange is None:
            raise RuntimeError("topology not connected")
        return self._exchange

    async def declare_consumer_queue(self, queue: str, binding_keys: Iterable[str]) -> None:
        ch = self.channel
        dlx = await ch.get_exchange(self.names.dead_letter_exchange)
        parking = await ch.declare_queue(
            self.names.parking_queue(queue), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await parking.bind(dlx, routing_key=queue)
        q = await ch.declare_queue(
            queue,
            durable=True,
            arguments=consumer_queue_arguments(self.names, queue, self.delivery_limit),
        )
        exchange = await self.events_exchange()
        for key in binding_keys:
            await q.bind(exchange, routing_key=key)
