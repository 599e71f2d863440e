"""Unit of work: one transaction in which state changes and the events they cause commit together."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from atiende_contracts import Envelope, EventData

from .db import Connection
from .erasure import Scrubbed, scrub_copies
from .outbox import enqueue


class UndeclaredEvent(TypeError):
    """A service emitted an event its ServiceDefinition does not list in `publishes`."""


@dataclass
class UnitOfWork:
    conn: Connection
    source: str
    publishes: frozenset[str] | None = None
    """The event types this service declares it publishes (None: not checked)."""
    emitted: list[Envelope] = field(default_factory=list)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> Envelope:
        if self.publishes is not None and data.event_type not in self.publishes:
            raise UndeclaredEvent(
                f"{self.source} emitted {data.event_type}, which its ServiceDefinition does not"
                " list in publishes"
            )
        envelope = await enqueue(self.conn, data, source=self.source, subject=subject)
        self.emitted.append(envelope)
        return envelope

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """An erased customer's data out of this service's outbox and Idempotency-Key store
        (atiende_runtime.erasure), in this transaction."""
        return await scrub_copies(self.conn, subjects=subjects, values=values, free_text=free_text)


@asynccontextmanager
async def unit_of_work(
    pool: asyncpg.Pool, source: str, publishes: frozenset[str] | None = None
) -> AsyncIterator[UnitOfWork]:
    async with pool.acquire() as conn, conn.transaction():
        yield UnitOfWork(conn=conn, source=source, publishes=publishes)
