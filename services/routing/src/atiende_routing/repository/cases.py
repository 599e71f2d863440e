"""Routing's copy of each case and its timeline: the port the use cases see and its SQL."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from atiende_contracts import Rank
from atiende_runtime.db import Connection

from ..domain.cases import CaseStatus, RoutedCase

CLOSED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class TimelineEntry:
    case_id: uuid.UUID
    at: datetime
    kind: str
    summary: str
    actor: str | None = None


@dataclass(frozen=True)
class QueueFilter:
    team: str | None = None
    agent_id: str | None = None
    status: str | None = None
    priority: str | None = None
    escalated: bool | None = None
    unassigned: bool = False


@dataclass(frozen=True)
class QueuePosition:
    """Where a page of a queue ends (a cursor); queues order escalated first, then by deadline."""

    escalated: bool
    due_at: datetime | None
    opened_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps(
            [
                self.escalated,
                self.due_at.isoformat() if self.due_at else None,
                self.opened_at.isoformat(),
                str(self.id),
            ]
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> QueuePosition:
        """Raises ValueError on a cursor this service never made."""
        padded = cursor + "=" * (-len(cursor) % 4)
        escalated, due, opened, case_id = json.loads(base64.urlsafe_b64decode(padded))
        return cls(
            bool(escalated),
            datetime.fromisoformat(due) if due else None,
            datetime.fromisoformat(opened),
            uuid.UUID(case_id),
        )

    @classmethod
    def of(cls, case: RoutedCase) -> QueuePosition:
        return cls(case.escalation is not None, case.sla_due_at, case.opened_at, case.id)


class CasesRepository(Protocol):
    async def add(self, case: RoutedCase) -> bool:
        """Store a new case; False if it was already known."""
        ...

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None: ...

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        """The case, locked until the unit of work ends (its changes are then not lost)."""
        ...

    async def save(self, case: RoutedCase, *, assignment: bool = False) -> None:
        """Store every field of a known case (an unknown one stores nothing); `assignment`
        counts one more assignment made (the reliability tests assert exactly one per case)."""
        ...

    async def set_agent(
        self, case_id: uuid.UUID, team: str, agent_id: str | None, now: datetime
    ) -> RoutedCase | None:
        """Organisation's moves (queue -> agent, hand back): the case with its new holder, or None
        when it is not open any more. A new or reopened case becomes assigned."""
        ...

    async def of_customer(self, customer_id: uuid.UUID) -> list[RoutedCase]: ...

    async def recoveries_of(self, case_id: uuid.UUID) -> list[RoutedCase]:
        """The recovery cases opened for `case_id`, oldest first."""
        ...

    async def queue(
        self, where: QueueFilter, after: QueuePosition | None, limit: int
    ) -> list[RoutedCase]:
        """Open cases matching `where`: escalated first, then the earliest deadline, then the
        oldest; those after the `after` position."""
        ...

    async def add_timeline(self, *entries: TimelineEntry) -> None:
        """Append entries to their cases' timelines, in the order given (one statement)."""
        ...

    async def timeline(self, case_id: uuid.UUID) -> list[TimelineEntry]: ...

    async def erase_timeline(self, case_id: uuid.UUID, placeholder: str) -> None:
        """What the case's timeline says in words replaced by `placeholder` (kinds and times stay;
        only openings and assignments, which hold no free text, keep their words)."""
        ...


_COLUMNS = tuple(f.name for f in fields(RoutedCase))


def case_of(row: asyncpg.Record) -> RoutedCase:
    values: dict[str, Any] = {name: row[name] for name in _COLUMNS}
    values["status"] = CaseStatus(row["status"])
    values["escalation"] = Rank(row["escalation"]) if row["escalation"] else None
    return RoutedCase(**values)


def _values(case: RoutedCase) -> list[Any]:
    out: list[Any] = []
    for name in _COLUMNS:
        value = getattr(case, name)
        if name in ("status", "escalation") and value is not None:
            value = value.value
        out.append(value)
    return out


class PostgresCasesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, case: RoutedCase) -> bool:
        placeholders = ", ".join(f"${i + 1}" for i in range(len(_COLUMNS)))
        inserted = await self.conn.fetchval(
            f"""INSERT INTO cases ({", ".join(_COLUMNS)}) VALUES ({placeholders})
                ON CONFLICT (id) DO NOTHING RETURNING true""",
            *_values(case),
        )
        return bool(inserted)

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None:
        row = await self.conn.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
        return case_of(row) if row else None

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        row = await self.conn.fetchrow("SELECT * FROM cases WHERE id = $1 FOR UPDATE", case_id)
        return case_of(row) if row else None

    async def save(self, case: RoutedCase, *, assignment: bool = False) -> None:
        sets = ", ".join(f"{name} = ${i + 1}" for i, name in enumerate(_COLUMNS) if name != "id")
        counted = ", assignments = assignments + 1" if assignment else ""
        await self.conn.execute(
            f"UPDATE cases SET {sets}{counted} WHERE id = ${_COLUMNS.index('id') + 1}",
            *_values(case),
        )

    async def set_agent(
        self, case_id: uuid.UUID, team: str, agent_id: str | None, now: datetime
    ) -> RoutedCase | None:
        row = await self.conn.fetchrow(
            """UPDATE cases SET team = $2, agent_id = $3, assigned_at = $4,
                      status = CASE WHEN status IN ('new', 'reopened') THEN 'assigned' ELSE status END,
                      version = version + 1, assignments = assignments + 1
               WHERE id = $1 AND status NOT IN ('resolved', 'closed') RETURNING *""",
            case_id,
            team,
            agent_id,
            now,
        )
        return case_of(row) if row else None

    async def of_customer(self, customer_id: uuid.UUID) -> list[RoutedCase]:
        rows = await self.conn.fetch(
            "SELECT * FROM cases WHERE customer_id = $1 ORDER BY opened_at, id", customer_id
        )
        return [case_of(row) for row in rows]

    async def recoveries_of(self, case_id: uuid.UUID) -> list[RoutedCase]:
        rows = await self.conn.fetch(
            "SELECT * FROM cases WHERE recovery_of = $1 ORDER BY opened_at, id", case_id
        )
        return [case_of(row) for row in rows]

    async def queue(
        self, where: QueueFilter, after: QueuePosition | None, limit: int
    ) -> list[RoutedCase]:
        conditions = ["status NOT IN ('resolved', 'closed')"]
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if where.team is not None:
            conditions.append(f"team = {arg(where.team)}")
        if where.agent_id is not None:
            conditions.append(f"agent_id = {arg(where.agent_id)}")
        if where.unassigned:
            conditions.append("agent_id IS NULL")
        if where.status is not None:
            conditions.append(f"status = {arg(where.status)}")
        if where.priority is not None:
            conditions.append(f"priority = {arg(where.priority)}")
        if where.escalated is not None:
            conditions.append("escalation IS NOT NULL" if where.escalated else "escalation IS NULL")
        # the sort key as one row value: (not escalated, deadline with no deadline last, opened, id)
        key = "(escalation IS NULL, COALESCE(sla_due_at, 'infinity'::timestamptz), opened_at, id)"
        if after is not None:
            conditions.append(
                f"{key} > ({arg(not after.escalated)}::boolean,"
                f" COALESCE({arg(after.due_at)}::timestamptz, 'infinity'::timestamptz),"
                f" {arg(after.opened_at)}::timestamptz, {arg(after.id)}::uuid)"
            )
        rows = await self.conn.fetch(
            f"""SELECT * FROM cases WHERE {" AND ".join(conditions)}
                ORDER BY escalation IS NULL, COALESCE(sla_due_at, 'infinity'::timestamptz),
                         opened_at, id
                LIMIT {arg(limit)}""",
            *args,
        )
        return [case_of(row) for row in rows]

    async def add_timeline(self, *entries: TimelineEntry) -> None:
        if not entries:
            return
        # ORDER BY n: the serial ids (the timeline's order) follow the order given
        await self.conn.execute(
            """INSERT INTO timeline (case_id, at, kind, actor, summary)
               SELECT case_id, at, kind, actor, summary
               FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])
                    WITH ORDINALITY AS e(case_id, at, kind, actor, summary, n)
               ORDER BY n""",
            [e.case_id for e in entries],
            [e.at for e in entries],
            [e.kind for e in entries],
            [e.actor for e in entries],
            [e.summary for e in entries],
        )

    async def timeline(self, case_id: uuid.UUID) -> list[TimelineEntry]:
        rows = await self.conn.fetch(
            "SELECT * FROM timeline WHERE case_id = $1 ORDER BY id", case_id
        )
        return [
            TimelineEntry(r["case_id"], r["at"], r["kind"], r["summary"], r["actor"]) for r in rows
        ]

    async def erase_timeline(self, case_id: uuid.UUID, placeholder: str) -> None:
        await self.conn.execute(
            "UPDATE timeline SET summary = $2 WHERE case_id = $1 AND kind NOT IN ('opened', 'assigned')",
            case_id,
            placeholder,
        )
