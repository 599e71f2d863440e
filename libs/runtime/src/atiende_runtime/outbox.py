"""Transactional outbox: events are rows written in the same transaction as the state change;
the relay publishes them with publisher confirms and marks them sent only after the confirm.

Guarantees and limits (docs/architecture.md has the long form):
- nothing lost: a row is marked published only after RabbitMQ confirmed it;
- at-least-once: a crash between the confirm and the commit republishes the row, with the same
  event id, which every consumer's inbox drops;
- per-subject order: rows of one subject (case) are published in `position` order, even with two
  relays, because a relay never publishes a row while an earlier row of its subject is pending in
  another relay's batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractExchange
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from atiende_contracts import Envelope, EventData

from . import idempotency
from .broker import Topology
from .db import Connection
from .worker import PollingWorker

log = logging.getLogger(__name__)
tracer = trace.get_tracer("atiende.outbox")


async def enqueue(
    conn: Connection,
    data: EventData,
    *,
    source: str,
    subject: str | uuid.UUID | None = None,
) -> Envelope:
    """Record `data` as an event to publish; call inside the transaction of the state change."""
    pending = pend(data, source=source, subject=subject)
    await write_pending(conn, [pending])
    return pending.envelope


@dataclass(frozen=True)
class PendingEvent:
    """An event wrapped and given its trace context at the moment it was emitted, not yet
    written: a unit of work writes what its transaction emitted in one statement."""

    envelope: Envelope
    trace_headers: dict[str, str]


def pend(data: EventData, *, source: str, subject: str | uuid.UUID | None = None) -> PendingEvent:
    envelope = Envelope.wrap(data, source=source, subject=str(subject) if subject else None)
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)  # now: the span current when the event was emitted
    return PendingEvent(envelope, trace_headers)


# rows are numbered in emission order: `position` (the publish order) follows it
_WRITE = """
INSERT INTO outbox (event_id, type, routing_key, subject, source, occurred_at,
                    dataschema, dataversion, data, trace_headers)
SELECT e.event_id, e.type, e.routing_key, e.subject, e.source, e.occurred_at,
       e.dataschema, e.dataversion, e.data, e.trace_headers
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
            $7::text[], $8::int[], $9::jsonb[], $10::jsonb[])
     WITH ORDINALITY AS e(event_id, type, routing_key, subject, source, occurred_at,
                          dataschema, dataversion, data, trace_headers, n)
ORDER BY e.n
"""


async def write_pending(conn: Connection, events: list[PendingEvent]) -> None:
    """Write emitted events to the outbox, in emission order: one statement whatever their
    number."""
    if not events:
        return
    envelopes = [p.envelope for p in events]
    await conn.execute(
        _WRITE,
        [e.id for e in envelopes],
        [e.type for e in envelopes],
        [e.routing_key for e in envelopes],
        [e.subject for e in envelopes],
        [e.source for e in envelopes],
        [e.time for e in envelopes],
        [e.dataschema for e in envelopes],
        [e.dataversion for e in envelopes],
        [e.data for e in envelopes],
        [p.trace_headers for p in events],
    )


_CLAIM = """
WITH batch AS (
    SELECT position, subject FROM outbox
    WHERE published_at IS NULL
    ORDER BY position
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
SELECT o.* FROM outbox o JOIN batch b USING (position)
WHERE NOT EXISTS (            -- an earlier row of the same subject is held by another relay
    SELECT 1 FROM outbox e
    WHERE e.published_at IS NULL AND e.subject = b.subject AND e.position < b.position
      AND e.position NOT IN (SELECT position FROM batch))
ORDER BY o.position
"""


def envelope_of(row: asyncpg.Record) -> Envelope:
    """Rebuild the envelope of an outbox row (also from a connection without the jsonb codec)."""
    data = row["data"]
    return Envelope(
        id=row["event_id"],
        source=row["source"],
        type=row["type"],
        time=row["occurred_at"],
        subject=row["subject"],
        dataschema=row["dataschema"],
        dataversion=row["dataversion"],
        data=json.loads(data) if isinstance(data, str) else data,
    )


class OutboxRelay:
    """Publishes pending outbox rows, on the shared polling worker (woken by the outbox's
    NOTIFY, polling as a fallback)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        topology: Topology,
        *,
        database_url: str,
        schema: str,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        retention_hours: float = 168,
    ) -> None:
        self._pool = pool
        self._topology = topology
        self._batch_size = batch_size
        self._retention_hours = retention_hours
        self._next_prune = 0.0
        self._worker = PollingWorker(
            "outbox-relay",
            self.publish_batch,
            database_url=database_url,
            channel=f"{schema}_outbox",
            batch_size=batch_size,
            poll_interval=poll_interval,
            idle=self._prune_if_due,
        )
        self.published = 0

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    def wake(self) -> None:
        self._worker.wake()

    async def _prune_if_due(self) -> None:
        """Delete published rows past retention and expired Idempotency-Keys (at most once a
        minute): the outbox is a queue, not an archive, and its rows may carry personal data such
        as a survey link."""
        now = asyncio.get_running_loop().time()
        if now < self._next_prune:
            return
        self._next_prune = now + 60
        async with self._pool.acquire() as conn:
            await conn.execute(
                "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)",
                self._retention_hours * 3600,
            )
            # expired Idempotency-Keys go too: their stored responses may hold personal data
            await idempotency.prune(conn)

    async def publish_batch(self) -> int:
        """Claim, publish and mark one batch; returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            exchange = await self._topology.events_exchange()
            by_subject: dict[Any, list[asyncpg.Record]] = defaultdict(list)
            for row in rows:
                # rows without a subject have no order to keep: each is its own lane
                by_subject[row["subject"] or row["position"]].append(row)
            results = await asyncio.gather(
                *(self._publish_lane(exchange, lane) for lane in by_subject.values())
            )
            done = [position for lane_done, _ in results for position in lane_done]
            failures = [(position, err) for _, failed in results for position, err in failed]
            if done:
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1,"
                    " last_error = NULL WHERE position = ANY($1::bigint[])",
                    done,
                )
            for position, err in failures:
                await conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE position = $1",
                    position,
                    err,
                )
        self.published += len(done)
        if failures:
            raise RuntimeError(f"{len(failures)} outbox rows not confirmed: {failures[0][1]}")
        return len(done)

    async def _publish_lane(
        self, exchange: AbstractExchange, lane: list[asyncpg.Record]
    ) -> tuple[list[int], list[tuple[int, str]]]:
        done: list[int] = []
        for row in lane:
            try:
                await self._publish_row(exchange, row)
            except Exception as exc:
                # stop this lane: later rows of the subject must not overtake this one
                return done, [(row["position"], repr(exc))]
            done.append(row["position"])
        return done, []

    async def _publish_row(self, exchange: AbstractExchange, row: asyncpg.Record) -> None:
        envelope = envelope_of(row)
        parent = propagate.extract(row["trace_headers"] or {})
        token = otel_context.attach(parent)
        try:
            with tracer.start_as_current_span(
                f"{envelope.routing_key} publish",
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": exchange.name,
                    "messaging.rabbitmq.destination.routing_key": envelope.routing_key,
                    "messaging.message.id": str(envelope.id),
                    "atiende.case_id": envelope.subject or "",
                },
            ):
                trace_headers: dict[str, str] = {}
                propagate.inject(trace_headers)
                message = to_amqp_message(envelope, trace_headers)
                # mandatory: an unroutable message is returned (raising) rather than dropped; the
                # events exchange's alternate exchange normally catches it first, so it is kept.
                await exchange.publish(message, routing_key=envelope.routing_key, mandatory=True)
        finally:
            otel_context.detach(token)


def to_amqp_message(
    envelope: Envelope, extra_headers: dict[str, str] | None = None
) -> aio_pika.Message:
    """The AMQP message of an event: JSON data as the body, CloudEvents attributes as properties
    and `ce-` headers (binary content mode), plus e.g. the W3C trace context headers."""
    headers: dict[str, Any] = {**envelope.amqp_headers(), **(extra_headers or {})}
    return aio_pika.Message(
        body=_json_bytes(envelope.data),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(envelope.id),
        correlation_id=envelope.subject,
        type=envelope.type,
        app_id=envelope.source,
        timestamp=envelope.time,
        headers=headers,
    )


def _json_bytes(data: Any) -> bytes:
    # compact UTF-8 JSON, as json.dumps(separators=(",", ":"), ensure_ascii=False) wrote it
    encoded: bytes = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return encoded
