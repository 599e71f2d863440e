"""Idempotent consumers. A handler's effects and the inbox row "this consumer handled this event"
commit in one transaction; a redelivered event finds the row and is acknowledged with no effect.
The message is acknowledged only after that commit (FastStream's NACK_ON_ERROR policy): an
exception requeues it, and the queue's delivery limit parks a message that keeps failing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
from prometheus_client import Counter

from atiende_contracts import Envelope, EventData, parse_data

from .db import Connection
from .logs import current_case_id
from .settings import Settings
from .uow import UnitOfWork

log = logging.getLogger(__name__)

EVENTS_HANDLED = Counter(
    "atiende_events_handled_total", "Events handled by a consumer", ["consumer", "outcome"]
)

E = TypeVar("E", bound=EventData)
S = TypeVar("S", bound=Settings)


@dataclass
class HandlerContext(Generic[S]):
    """What a handler gets besides the event: the inbox's transaction (as a unit of work), the
    envelope, and the service's own settings, typed."""

    uow: UnitOfWork
    envelope: Envelope
    settings: S

    @property
    def conn(self) -> Connection:
        return self.uow.conn

    async def emit(self, data: EventData, *, subject: Any = None) -> Envelope:
        return await self.uow.emit(data, subject=subject)


Handler = Callable[[HandlerContext[Any], Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A consumer group: one queue, the routing keys bound to it, and its handler."""

    name: str
    binding_keys: tuple[str, ...]
    handler: Handler
    model: type[EventData] | None  # None: the handler takes any known event (e.g. indicators)


class Consumers(Generic[S]):
    """The event handlers of one service, declared with a decorator in its consumers module;
    `Consumers[IntakeSettings]()` types `ctx.settings` in every handler."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription[Any]] = []

    def on(
        self, model: type[E], *, name: str | None = None
    ) -> Callable[
        [Callable[[HandlerContext[S], E], Awaitable[None]]],
        Callable[[HandlerContext[S], E], Awaitable[None]],
    ]:
        def register(
            fn: Callable[[HandlerContext[S], E], Awaitable[None]],
        ) -> Callable[[HandlerContext[S], E], Awaitable[None]]:
            group = name or model.event_type.replace(".", "-")
            self.subscriptions.append(Subscription(group, (model.routing_key(),), fn, model))
            return fn

        return register

    def on_any(
        self, binding_keys: Sequence[str], *, name: str
    ) -> Callable[
        [Callable[[HandlerContext[S], EventData], Awaitable[None]]],
        Callable[[HandlerContext[S], EventData], Awaitable[None]],
    ]:
        def register(
            fn: Callable[[HandlerContext[S], EventData], Awaitable[None]],
        ) -> Callable[[HandlerContext[S], EventData], Awaitable[None]]:
            self.subscriptions.append(Subscription(name, tuple(binding_keys), fn, None))
            return fn

        return register


async def handle_delivery(
    pool: asyncpg.Pool,
    *,
    consumer: str,
    source: str,
    subscription: Subscription[Any],
    headers: dict[str, Any],
    body: bytes,
    settings: Settings,
    publishes: frozenset[str] | None = None,
) -> bool:
    """Parse, deduplicate and handle one delivery; returns False when it was a duplicate.

    Raises on a malformed message or a failing handler, so the caller does not acknowledge it.
    """
    try:
        envelope = Envelope.from_amqp(headers, body)
        data = parse_data(envelope)
    except ValueError:
        # a poison message is the failure an operator most needs to see: count and log it too
        EVENTS_HANDLED.labels(consumer, "failed").inc()
        log.exception(
            "malformed event; it will be redelivered until the delivery limit, then parked",
            extra={"consumer": consumer, "ce_id": str(headers.get("ce-id"))},
        )
        raise
    token = current_case_id.set(envelope.subject)
    try:
        async with pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                """INSERT INTO inbox (consumer, event_id, event_type, subject)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
                consumer,
                envelope.id,
                envelope.type,
                envelope.subject,
            )
            if not first_time:
                EVENTS_HANDLED.labels(consumer, "duplicate").inc()
                log.info(
                    "duplicate event ignored",
                    extra={
                        "consumer": consumer,
                        "event_id": str(envelope.id),
                        "event_type": envelope.type,
                    },
                )
                return False
            ctx = HandlerContext(UnitOfWork(conn, source, publishes), envelope, settings)
            await subscription.handler(ctx, data)
        EVENTS_HANDLED.labels(consumer, "handled").inc()
        log.info(
            "event handled",
            extra={"consumer": consumer, "event_id": str(envelope.id), "event_type": envelope.type},
        )
        return True
    except Exception:
        EVENTS_HANDLED.labels(consumer, "failed").inc()
        log.exception(
            "event handling failed; it will be redelivered until the delivery limit",
            extra={"consumer": consumer, "event_id": str(envelope.id), "event_type": envelope.type},
        )
        raise
    finally:
        current_case_id.reset(token)
