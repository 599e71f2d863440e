"""Idempotent consumers. A handler's effects and the inbox row "this consumer handled this event"
commit in one transaction; a redelivered event finds the row and is acknowledged with no effect.
The message is acknowledged only after that commit: an exception nacks it with requeue, and the
queue's delivery limit parks a message that keeps failing.

Deliveries that arrive together are handled as a batch (`BatchHandler`): one transaction, one
multi-row inbox insert, each handler in delivery order; a failing event is taken out of the batch
and the rest handled again without it, so a poison message never blocks or parks its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
from opentelemetry import context as otel_context
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


@dataclass
class BatchContext(Generic[S]):
    """What a batch handler gets besides the events: the inbox's transaction and the settings."""

    uow: UnitOfWork
    settings: S

    @property
    def conn(self) -> Connection:
        return self.uow.conn


BatchHandlerFn = Callable[[BatchContext[Any], list[tuple[Envelope, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A consumer group: one queue, the routing keys bound to it, and its handler."""

    name: str
    binding_keys: tuple[str, ...]
    handler: Handler
    model: type[EventData] | None  # None: the handler takes any known event (e.g. indicators)
    batch: BatchHandlerFn | None = None
    """Handles every new event of a batch in one call (e.g. aggregated upserts); `handler` then
    runs it on one event, when a failure in a batch makes each event go alone."""


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

    def on_any_batch(
        self, binding_keys: Sequence[str], *, name: str
    ) -> Callable[
        [Callable[[BatchContext[S], list[tuple[Envelope, EventData]]], Awaitable[None]]],
        Callable[[BatchContext[S], list[tuple[Envelope, EventData]]], Awaitable[None]],
    ]:
        """Like `on_any`, but the handler takes every new event of a batch at once, in delivery
        order. If it raises, each event of the batch is handled again alone, to find the one."""

        def register(
            fn: Callable[[BatchContext[S], list[tuple[Envelope, EventData]]], Awaitable[None]],
        ) -> Callable[[BatchContext[S], list[tuple[Envelope, EventData]]], Awaitable[None]]:
            async def one(ctx: HandlerContext[S], event: EventData) -> None:
                await fn(BatchContext(ctx.uow, ctx.settings), [(ctx.envelope, event)])

            self.subscriptions.append(Subscription(name, tuple(binding_keys), one, None, fn))
            return fn

        return register


_INBOX_INSERT = """
INSERT INTO inbox (consumer, event_id, event_type, subject)
SELECT $1, e.event_id, e.event_type, e.subject
FROM unnest($2::uuid[], $3::text[], $4::text[]) AS e(event_id, event_type, subject)
ON CONFLICT DO NOTHING
RETURNING event_id
"""


@dataclass
class Delivery:
    """One message taken from a consumer queue, waiting for its outcome: True handled, False a
    duplicate, or the exception that must keep it unacknowledged."""

    headers: dict[str, Any]
    body: bytes
    redelivered: bool = False
    trace_context: otel_context.Context = field(default_factory=otel_context.get_current)
    outcome: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, result: bool | BaseException) -> None:
        if self.outcome.done():  # its waiter gave up (shutdown): nothing to tell
            return
        if isinstance(result, BaseException):
            self.outcome.set_exception(result)
        else:
            self.outcome.set_result(result)


@dataclass
class _Parsed:
    delivery: Delivery
    envelope: Envelope
    data: EventData


class _HandlerFailed(Exception):
    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(repr(error))
        self.index = index
        self.error = error


class BatchHandler:
    """Handles the deliveries of one consumer in batches: whatever arrived together (up to
    `max_size`) goes through one transaction with one multi-row inbox insert, then every
    delivery of it is acknowledged. Batches run one at a time, in delivery order.

    Keeps each guarantee of one-at-a-time handling: the inbox rows commit with the effects, an
    acknowledgement only after the commit, and a failing event is isolated — the batch is rolled
    back and handled again without it, the failing one is nacked, and once redelivered it is
    handled alone, so a poison message reaches the delivery limit and is parked on its own.
    """

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        *,
        consumer: str,
        source: str,
        subscription: Subscription[Any],
        settings: Settings,
        publishes: frozenset[str] | None,
        max_size: int,
        unavailable: tuple[type[BaseException], ...] = (),
        retry_seconds: float = 60.0,
    ) -> None:
        self._pool = pool
        self.consumer = consumer
        self.source = source
        self.subscription = subscription
        self.settings = settings
        self.publishes = publishes
        self.max_size = max_size
        self.unavailable = unavailable
        self.retry_seconds = retry_seconds
        self._pending: list[Delivery] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, headers: dict[str, Any], body: bytes, *, redelivered: bool) -> bool:
        """Queue one delivery and wait for its outcome (raises when it must not be acked)."""
        delivery = Delivery(headers, body, redelivered)
        self._pending.append(delivery)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name=f"batch-{self.consumer}")
        return await delivery.outcome

    async def _drain(self) -> None:
        # deliveries read from the socket together are each in their own task: let them join
        for _ in range(3):
            await asyncio.sleep(0)
        while self._pending:
            batch, self._pending = self._pending[: self.max_size], self._pending[self.max_size :]
            try:
                await self.handle(batch)
            except BaseException as exc:
                for delivery in batch:
                    delivery.settle(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
                if not isinstance(exc, Exception):
                    raise

    async def handle(self, deliveries: list[Delivery]) -> None:
        parsed: list[_Parsed] = []
        for delivery in deliveries:
            try:
                envelope = Envelope.from_amqp(delivery.headers, delivery.body)
                parsed.append(_Parsed(delivery, envelope, parse_data(envelope)))
            except ValueError as exc:
                # a poison message is the failure an operator most needs to see: count and log it
                EVENTS_HANDLED.labels(self.consumer, "failed").inc()
                log.error(
                    "malformed event; it will be redelivered until the delivery limit, then parked",
                    exc_info=exc,
                    extra={"consumer": self.consumer, "ce_id": str(delivery.headers.get("ce-id"))},
                )
                delivery.settle(exc)
        # a delivery that failed before is handled alone: it cannot take its neighbours down again
        fresh = [p for p in parsed if not p.delivery.redelivered]
        if fresh:
            await self._handle_group(fresh)
        for again in (p for p in parsed if p.delivery.redelivered):
            await self._handle_group([again])

    async def _handle_group(self, group: list[_Parsed]) -> None:
        while group:
            try:
                outcomes = await self._transaction_retrying(group)
            except _HandlerFailed as failed:
                # roll back, answer the failing event, handle the others again without it
                self._failed(group.pop(failed.index), failed.error)
                continue
            except Exception as exc:
                if len(group) == 1:
                    self._failed(group[0], exc)
                else:  # not one handler's failure (e.g. the commit): find the culprit alone
                    for item in group:
                        await self._handle_group([item])
                return
            for item, first_time in zip(group, outcomes, strict=True):
                self._handled(item, first_time)
            return

    async def _transaction_retrying(self, group: list[_Parsed]) -> list[bool]:
        delay, waited = 0.5, 0.0
        while True:
            try:
                return await self._transaction(group)
            except self.unavailable:
                # Not the events' fault: retried here, still unacknowledged, so a database restart
                # does not use up their delivery limit and park good events. (A commit cut off
                # mid-way is safe to retry: the inbox drops the repeat.)
                if waited >= self.retry_seconds:
                    raise
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)

    async def _transaction(self, group: list[_Parsed]) -> list[bool]:
        async with self._pool().acquire() as conn, conn.transaction():
            new = {
                row[0]
                for row in await conn.fetch(
                    _INBOX_INSERT,
                    self.consumer,
                    [p.envelope.id for p in group],
                    [p.envelope.type for p in group],
                    [p.envelope.subject for p in group],
                )
            }
            outcomes: list[bool] = []
            for item in group:
                outcomes.append(item.envelope.id in new)
                new.discard(item.envelope.id)  # the same event twice in one batch: once
            fresh = [item for item, first in zip(group, outcomes, strict=True) if first]
            # what the batch's handlers emit is written in one statement before the commit
            uow = UnitOfWork(conn, self.source, self.publishes, deferred=True)
            if self.subscription.batch is not None and len(fresh) > 1:
                # one call for the batch; a failure is no single event's: each goes alone then
                await self.subscription.batch(
                    BatchContext(uow, self.settings),
                    [(item.envelope, item.data) for item in fresh],
                )
                await uow.flush()
                return outcomes
            for index, item in enumerate(group):
                if not outcomes[index]:
                    continue
                case_token = current_case_id.set(item.envelope.subject)
                # the handler runs in its message's trace: what it emits carries that trace on
                trace_token = otel_context.attach(item.delivery.trace_context)
                try:
                    ctx = HandlerContext(uow, item.envelope, self.settings)
                    await self.subscription.handler(ctx, item.data)
                except self.unavailable:
                    raise
                except Exception as exc:
                    raise _HandlerFailed(index, exc) from exc
                finally:
                    otel_context.detach(trace_token)
                    current_case_id.reset(case_token)
            await uow.flush()
        return outcomes

    def _handled(self, item: _Parsed, first_time: bool) -> None:
        EVENTS_HANDLED.labels(self.consumer, "handled" if first_time else "duplicate").inc()
        self._log(
            item,
            logging.INFO,
            "event handled" if first_time else "duplicate event ignored",
        )
        item.delivery.settle(first_time)

    def _failed(self, item: _Parsed, error: Exception) -> None:
        EVENTS_HANDLED.labels(self.consumer, "failed").inc()
        self._log(
            item,
            logging.ERROR,
            "event handling failed; it will be redelivered until the delivery limit",
            error,
        )
        item.delivery.settle(error)

    def _log(self, item: _Parsed, level: int, message: str, error: Exception | None = None) -> None:
        # one line per event, in its own trace and case, whichever batch it was handled in
        case_token = current_case_id.set(item.envelope.subject)
        trace_token = otel_context.attach(item.delivery.trace_context)
        try:
            log.log(
                level,
                message,
                exc_info=error,
                extra={
                    "consumer": self.consumer,
                    "event_id": str(item.envelope.id),
                    "event_type": item.envelope.type,
                },
            )
        finally:
            otel_context.detach(trace_token)
            current_case_id.reset(case_token)


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
    """Parse, deduplicate and handle one delivery alone; returns False when it was a duplicate.

    Raises on a malformed message or a failing handler, so the caller does not acknowledge it.
    """
    batch = BatchHandler(
        lambda: pool,
        consumer=consumer,
        source=source,
        subscription=subscription,
        settings=settings,
        publishes=publishes,
        max_size=1,
    )
    delivery = Delivery(headers, body)
    await batch.handle([delivery])
    return await delivery.outcome
