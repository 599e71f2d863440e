"""Cases' SQL, and the case lookups the "one case per problem" rule needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from atiende_contracts import CaseType, Channel, Severity
from atiende_runtime.db import Connection

from ..domain.cases import Case
from ..domain.contacts import CaseRef, CaseStatus
from .sql import Conditions, Position


@dataclass(frozen=True)
class CaseFilter:
    """GET /cases' filters; None means any. `opened_from` inclusive, `opened_to` exclusive."""

    customer_id: uuid.UUID | None = None
    motive: str | None = None
    channel: Channel | None = None
    status: CaseStatus | None = None
    type: CaseType | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


CASE_COLUMNS = "c.*, cu.name AS customer_name, c.reply_email AS customer_email"
CASE_FROM = "cases c JOIN customers cu ON cu.id = c.customer_id"
REF_COLUMNS = "id, number, customer_id, motive, status, opened_at, merged_into"


def case_of(row: asyncpg.Record) -> Case:
    return Case(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        customer_email=row["customer_email"],
        type=CaseType(row["type"]),
        channel=Channel(row["channel"]),
        description=row["description"],
        opened_at=row["opened_at"],
        motive=row["motive"],
        cause=row["cause"],
        touchpoint=row["touchpoint"],
        product=row["product"],
        severity=Severity(row["severity"]) if row["severity"] else None,
        upset=row["upset"],
        expectation=row["expectation"],
        status=CaseStatus(row["status"]),
        status_changed_at=row["status_changed_at"],
        version=row["version"],
        merged_into=row["merged_into"],
        related_case_id=row["related_case_id"],
        opened_by=row["opened_by"],
    )


def case_ref_of(row: asyncpg.Record) -> CaseRef:
    return CaseRef(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        motive=row["motive"],
        status=CaseStatus(row["status"]),
        opened_at=row["opened_at"],
        merged_into=row["merged_into"],
    )


class PostgresCasesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def next_case_sequence(self, year: int) -> int:
        """Next number of the year; the row lock serialises concurrent openings, so no gaps or
        repeats (a rolled-back transaction gives its number back)."""
        sequence: int = await self.conn.fetchval(
            """INSERT INTO case_number_counters (year, last) VALUES ($1, 1)
               ON CONFLICT (year) DO UPDATE SET last = case_number_counters.last + 1
               RETURNING last""",
            year,
        )
        return sequence

    async def add(self, case: Case) -> None:
        await self.conn.execute(
            """INSERT INTO cases (id, number, customer_id, type, channel, description, opened_at,
                   motive, cause, touchpoint, product, severity, upset, expectation, reply_email,
                   related_case_id, opened_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   $17)""",
            case.id,
            case.number,
            case.customer_id,
            case.type.value,
            case.channel.value,
            case.description,
            case.opened_at,
            case.motive,
            case.cause,
            case.touchpoint,
            case.product,
            case.severity.value if case.severity else None,
            case.upset,
            case.expectation,
            case.customer_email,
            case.related_case_id,
            case.opened_by,
        )

    async def get(self, case_id: uuid.UUID) -> Case | None:
        row = await self.conn.fetchrow(
            f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = $1", case_id
        )
        return case_of(row) if row else None

    async def exists(self, case_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)", case_id)
        )

    async def search(self, where: CaseFilter, after: Position | None, limit: int) -> list[Case]:
        """Cases matching `where`, newest first, starting after `after`."""
        sql = Conditions()
        sql.add("c.customer_id = {}", where.customer_id)
        sql.add("c.motive = {}", where.motive)
        sql.add("c.channel = {}", where.channel)
        sql.add("c.status = {}", where.status)
        sql.add("c.type = {}", where.type)
        sql.add("c.opened_at >= {}", where.opened_from)
        sql.add("c.opened_at < {}", where.opened_to)
        if after is not None:
            sql.add("(c.opened_at, c.id) < ({}, {})", *after)
        rows = await self.conn.fetch(
            f"""SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE {sql.where}
                ORDER BY c.opened_at DESC, c.id DESC LIMIT {sql.param(limit)}""",
            *sql.args,
        )
        return [case_of(r) for r in rows]

    async def set_status(self, case_id: uuid.UUID, status: CaseStatus, at: datetime) -> None:
        """Intake's copy of the lifecycle routing owns; an older event never overrides a newer one."""
        await self.conn.execute(
            """UPDATE cases SET status = $2, status_changed_at = $3
               WHERE id = $1 AND (status_changed_at IS NULL OR status_changed_at <= $3)""",
            case_id,
            status.value,
            at,
        )

    async def ref_by_number(self, number: str) -> CaseRef | None:
        row = await self.conn.fetchrow(f"SELECT {REF_COLUMNS} FROM cases WHERE number = $1", number)
        return case_ref_of(row) if row else None

    async def ref(self, case_id: uuid.UUID) -> CaseRef | None:
        row = await self.conn.fetchrow(f"SELECT {REF_COLUMNS} FROM cases WHERE id = $1", case_id)
        return case_ref_of(row) if row else None

    async def open_with_motive(
        self, customer_id: uuid.UUID, motive: str, since: datetime
    ) -> list[CaseRef]:
        """The customer's open cases with this motive opened since `since`, newest first."""
        rows = await self.conn.fetch(
            f"""SELECT {REF_COLUMNS} FROM cases
               WHERE customer_id = $1 AND motive = $2 AND status = 'open' AND opened_at >= $3
               ORDER BY opened_at DESC, id DESC LIMIT 5""",
            customer_id,
            motive,
            since,
        )
        return [case_ref_of(r) for r in rows]

    async def lock(self, case_id: uuid.UUID) -> Case | None:
        """The case, its row locked until the unit of work ends (triage changes one at a time)."""
        row = await self.conn.fetchrow(
            f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = $1 FOR UPDATE OF c", case_id
        )
        return case_of(row) if row else None

    async def reclassify(self, case: Case) -> None:
        """Store the case's classification and bump its version."""
        await self.conn.execute(
            """UPDATE cases SET type = $2, motive = $3, cause = $4, touchpoint = $5, product = $6,
                   severity = $7, upset = $8, version = version + 1
               WHERE id = $1""",
            case.id,
            case.type.value,
            case.motive,
            case.cause,
            case.touchpoint,
            case.product,
            case.severity.value if case.severity else None,
            case.upset,
        )

    async def touch(self, case_id: uuid.UUID) -> None:
        """Bump the version: the case changed (a contact split off it, a case merged into it)."""
        await self.conn.execute("UPDATE cases SET version = version + 1 WHERE id = $1", case_id)

    async def mark_merged(self, case_id: uuid.UUID, into_id: uuid.UUID, at: datetime) -> None:
        """The absorbed case is closed, naming its survivor."""
        await self.conn.execute(
            """UPDATE cases SET merged_into = $2, status = 'closed', status_changed_at = $3,
                   version = version + 1
               WHERE id = $1""",
            case_id,
            into_id,
            at,
        )
