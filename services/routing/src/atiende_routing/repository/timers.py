"""The one durable timers table: schedule, cancel, claim what is due (FOR UPDATE SKIP LOCKED, so
replicas never take the same row), record the firing in the claiming transaction, and say when
the next one is due (the worker sleeps until then)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol

import asyncpg

from atiende_runtime.db import Connection

from ..domain.timers import Timer, TimerOutcome


class TimersRepository(Protocol):
    async def schedule(self, *timers: Timer) -> None:
        """Add pending timers (in one statement); one already pending for the same case, kind and
        ref is moved. Of two given for the same case, kind and ref, the later wins."""
        ...

    async def cancel(
        self, case_id: uuid.UUID, *, kinds: Collection[str], ref_prefix: str | Sequence[str] = ""
    ) -> int:
        """Drop the case's pending timers of these kinds whose ref starts with `ref_prefix` (or
        with any of several prefixes)."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> list[Timer]:
        """Pending timers due by `now`, earliest first, locked until the unit of work ends;
        rows another worker holds are skipped, not waited for."""
        ...

    async def mark_fired(
        self, timer_ids: Sequence[uuid.UUID], outcome: TimerOutcome, at: datetime, by: str
    ) -> None: ...

    async def next_due(self) -> datetime | None:
        """The earliest pending deadline."""
        ...

    def isolated(self) -> contextlib.AbstractAsyncContextManager[object]:
        """A savepoint: what a failing handler did inside it is undone, the round goes on."""
        ...

    async def postpone(self, timer_id: uuid.UUID, until: datetime, error: str) -> None:
        """A handler failed: try this timer again at `until`, counting the attempt."""
        ...

    async def pending(self, case_id: uuid.UUID) -> list[Timer]: ...


def _timer(row: asyncpg.Record) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        case_id=row["case_id"],
        ref=row["ref"],
        due_at=row["due_at"],
        payload=dict(row["payload"]),
        fired_at=row["fired_at"],
        fired_by=row["fired_by"],
        outcome=TimerOutcome(row["outcome"]) if row["outcome"] else None,
    )


class PostgresTimersRepository:
    def __init__(
        self,
        conn: Connection,
        savepoint: Callable[[], contextlib.AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        """`savepoint`: the unit of work's, which also drops the events a failed block emitted
        (they are held until the commit); a bare connection's savepoint otherwise."""
        self.conn = conn
        self._savepoint = savepoint

    async def schedule(self, *timers: Timer) -> None:
        # one row per (case, kind, ref), the last given winning: what one upsert after another
        # left, and ON CONFLICT may not touch a row twice in one statement
        rows = list({(t.case_id, t.kind, t.ref): t for t in timers}.values())
        if not rows:
            return
        await self.conn.execute(
            """INSERT INTO timers (id, kind, case_id, ref, due_at, payload)
               SELECT id, kind, case_id, ref, due_at, payload
               FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::timestamptz[],
                           $6::jsonb[]) AS t(id, kind, case_id, ref, due_at, payload)
               ON CONFLICT (case_id, kind, ref) WHERE fired_at IS NULL
               DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload""",
            [t.id for t in rows],
            [t.kind for t in rows],
            [t.case_id for t in rows],
            [t.ref for t in rows],
            [t.due_at for t in rows],
            [t.payload for t in rows],
        )

    async def cancel(
        self, case_id: uuid.UUID, *, kinds: Collection[str], ref_prefix: str | Sequence[str] = ""
    ) -> int:
        prefixes = [ref_prefix] if isinstance(ref_prefix, str) else list(ref_prefix)
        if not prefixes:
            return 0
        result = await self.conn.execute(
            """DELETE FROM timers WHERE case_id = $1 AND kind = ANY($2::text[])
               AND fired_at IS NULL
               AND EXISTS (SELECT FROM unnest($3::text[]) AS p(prefix)
                           WHERE starts_with(ref, p.prefix))""",
            case_id,
            list(kinds),
            prefixes,
        )
        return int(result.split()[-1])

    async def claim_due(self, now: datetime, limit: int) -> list[Timer]:
        rows = await self.conn.fetch(
            """SELECT * FROM timers WHERE fired_at IS NULL AND due_at <= $1
               ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
        return [_timer(row) for row in rows]

    async def mark_fired(
        self, timer_ids: Sequence[uuid.UUID], outcome: TimerOutcome, at: datetime, by: str
    ) -> None:
        await self.conn.execute(
            """UPDATE timers SET fired_at = $2, fired_by = $3, outcome = $4
               WHERE id = ANY($1::uuid[]) AND fired_at IS NULL""",
            list(timer_ids),
            at,
            by,
            outcome.value,
        )

    async def next_due(self) -> datetime | None:
        due: datetime | None = await self.conn.fetchval(
            "SELECT due_at FROM timers WHERE fired_at IS NULL ORDER BY due_at LIMIT 1"
        )
        return due

    def isolated(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._savepoint() if self._savepoint else self.conn.transaction()

    async def postpone(self, timer_id: uuid.UUID, until: datetime, error: str) -> None:
        await self.conn.execute(
            """UPDATE timers SET due_at = $2, attempts = attempts + 1, last_error = $3
               WHERE id = $1 AND fired_at IS NULL""",
            timer_id,
            until,
            error[:2000],
        )

    async def pending(self, case_id: uuid.UUID) -> list[Timer]:
        rows = await self.conn.fetch(
            "SELECT * FROM timers WHERE case_id = $1 AND fired_at IS NULL ORDER BY due_at, ref",
            case_id,
        )
        return [_timer(row) for row in rows]
