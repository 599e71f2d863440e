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
from .outbox import PendingEvent, pend, write_pending


class UndeclaredEvent(TypeError):
    """A service emitted an event its ServiceDefinition does not list in `publishes`."""


@dataclass
class UnitOfWork:
    conn: Connection
    source: str
    publishes: frozenset[str] | None = None
    """The event types this service declares it publishes (None: not checked)."""
    emitted: list[Envelope] = field(default_factory=list)
    deferred: bool = False
    """Hold emitted events and write them in one statement at `flush()`, which whoever owns the
    transaction calls before committing (`unit_of_work()` and the inbox do); otherwise each
    event is written as it is emitted."""
    _pending: list[PendingEvent] = field(default_factory=list, repr=False)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> Envelope:
        if self.publishes is not None and data.event_type not in self.publishes:
            raise UndeclaredEvent(
                f"{self.source} emitted {data.event_type}, which its ServiceDefinition does not"
                " list in publishes"
            )
        pending = pend(data, source=self.source, subject=subject)
        if self.deferred:
            self._pending.append(pending)
        else:
            await write_pending(self.conn, [pending])
        self.emitted.append(pending.envelope)
        return pending.envelope

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A savepoint in this transaction: if the block raises, its writes are undone and so are
        the events it emitted (held ones are dropped, not written later)."""
        held, emitted = len(self._pending), len(self.emitted)
        try:
            async with self.conn.transaction():
                yield
        except BaseException:
            del self._pending[held:]
            del self.emitted[emitted:]
            raise

    async def flush(self) -> None:
        """Write the events held so far to the outbox (in emission order, one statement)."""
        pending, self._pending = self._pending, []
        await write_pending(self.conn, pending)

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """An erased customer's data out of this service's outbox and Idempotency-Key store
        (atiende_runtime.erasure), in this transaction."""
        await self.flush()  # what this transaction emitted before is scrubbed too
        return await scrub_copies(self.conn, subjects=subjects, values=values, free_text=free_text)


@asynccontextmanager
async def unit_of_work(
    pool: asyncpg.Pool, source: str, publishes: frozenset[str] | None = None
) -> AsyncIterator[UnitOfWork]:
    async with pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn=conn, source=source, publishes=publishes, deferred=True)
        yield uow
        await uow.flush()  # the events commit with the changes that caused them
