"""How the harness sees what the services did, each sighting stamped with `time.monotonic()` on
arrival (the clock the load generator stamps its requests with, in this same process):

- `MailSink`: a real SMTP server (aiosmtpd) on this process's event loop, keeping the headers of
  every email it accepts;
- `EventTap`: a queue of its own bound with `#` to the run's events exchange, keeping every event;
- `IndicatorsPoller`: GET /indicators at a fixed interval, keeping each reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aiosmtpd.smtp import SMTP

from atiende_contracts import Names

from .accounting import ASSIGNED, OPENED, IndicatorCounts, ObservedEmail, ObservedEvent
from .cluster import free_port

# only these events' bodies are read: the others are counted by id
_DATA_WANTED = {OPENED, ASSIGNED}


@dataclass
class MailSink:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    received: list[tuple[float, ObservedEmail]] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        sink = self
        parser = BytesHeaderParser()

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                headers = parser.parsebytes(envelope.original_content or envelope.content)
                [(_, to)] = getaddresses([headers.get("To", "")]) or [("", "")]
                sink.received.append(
                    (
                        time.monotonic(),
                        ObservedEmail(
                            to=to,
                            message_id=headers.get("Message-ID", ""),
                            subject=headers.get("Subject", ""),
                        ),
                    )
                )
                return "250 Message accepted"

        handler = Handler()
        loop = asyncio.get_running_loop()
        # an explicit hostname: aiosmtpd would otherwise resolve this host's FQDN per connection
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="atiende-harness"), self.host, self.port
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)

    @property
    def emails(self) -> list[ObservedEmail]:
        return [email for _, email in self.received]


class EventTap:
    """Every event published on the run's exchange, as the exchange routed it.

    `durable=True` (chaos) uses a quorum queue that outlives a broker restart and a robust
    connection that consumes it again afterwards, so no event published meanwhile is missed;
    `durable=False` (bench) uses a lighter exclusive classic queue."""

    def __init__(self, amqp_url: str, namespace: str, *, durable: bool) -> None:
        self.amqp_url = amqp_url
        self.names = Names(namespace)
        self.durable = durable
        self.queue_name = f"{namespace}.harness.tap"
        self.received: list[tuple[float, ObservedEvent]] = []
        self._connection: AbstractRobustConnection | None = None
        self._consumer: tuple[AbstractQueue, str] | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, client_properties={"connection_name": self.queue_name}
        )
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=1000)
        exchange = await channel.get_exchange(self.names.events_exchange)
        if self.durable:
            queue = await channel.declare_queue(
                self.queue_name, durable=True, arguments={"x-queue-type": "quorum"}
            )
        else:
            queue = await channel.declare_queue(self.queue_name, exclusive=True)
        await queue.bind(exchange, routing_key="#")
        self._consumer = (queue, await queue.consume(self._on_message))

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        key = message.routing_key or ""
        data: dict[str, Any] = {}
        if key in _DATA_WANTED:
            with contextlib.suppress(ValueError):
                data = json.loads(message.body)
        event_id = headers.get("ce-id") or message.message_id or ""
        subject = headers.get("ce-subject")
        self.received.append(
            (
                time.monotonic(),
                ObservedEvent(
                    str(event_id), key, str(subject) if subject is not None else None, data
                ),
            )
        )
        await message.ack()

    async def stop(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            if self._consumer is not None:
                queue, tag = self._consumer
                await queue.cancel(tag)  # before the delete, which would cancel it noisily
            channel = await self._connection.channel()
            if self.durable:
                await channel.queue_delete(self.queue_name)
        with contextlib.suppress(Exception):
            await self._connection.close()

    @property
    def events(self) -> list[ObservedEvent]:
        return [event for _, event in self.received]


class IndicatorsPoller:
    """Readings of GET /indicators; a failed poll (service down) is skipped."""

    def __init__(
        self, url: str, interval: float = 0.1, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """`headers`: the Authorization of a caller with role manager or supervisor."""
        self.url = f"{url}/indicators"
        self.headers = dict(headers or {})
        self.interval = interval
        self.readings: list[tuple[float, IndicatorCounts]] = []
        self._task: asyncio.Task[None] | None = None

    async def read(self, client: httpx.AsyncClient) -> IndicatorCounts | None:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            response = await client.get(self.url, timeout=5)
            if response.status_code == 200:
                body = response.json()
                return IndicatorCounts(
                    body["cases_opened"], body["cases_assigned"], body["notifications_sent"]
                )
        return None

    async def read_now(self) -> IndicatorCounts | None:
        async with httpx.AsyncClient(headers=self.headers) as client:
            return await self.read(client)

    async def _run(self) -> None:
        async with httpx.AsyncClient(headers=self.headers) as client:
            while True:
                counts = await self.read(client)
                if counts is not None:
                    self.readings.append((time.monotonic(), counts))
                await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="indicators-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def latest(self) -> IndicatorCounts | None:
        return self.readings[-1][1] if self.readings else None
