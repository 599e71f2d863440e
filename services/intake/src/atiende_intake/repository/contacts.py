"""Contacts' SQL, and the case lookups the "one case per problem" rule needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import asyncpg

from atiende_contracts import Channel, ContactKind
from atiende_runtime.db import Connection

from ..domain.contacts import CaseRef, CaseStatus, Contact

Position = tuple[datetime, uuid.UUID]
"""Where a page ended: the (time, id) of its last row."""


def case_ref_of(row: asyncpg.Record) -> CaseRef:
    return CaseRef(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        motive=row["motive"],
        status=CaseStatus(row["status"]),
        opened_at=row["opened_at"],
    )


@dataclass(frozen=True)
class ContactFilter:
    """GET /contacts' filters; None means any. `received_from` inclusive, `received_to`
    exclusive."""

    customer_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    motive: str | None = None
    channel: Channel | None = None
    kind: ContactKind | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


class Conditions:
    """A WHERE clause built from optional filters, with numbered query parameters."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.args: list[object] = []

    def add(self, template: str, *values: object) -> None:
        """Add `template` (one `{}` per value) unless a value is None (that filter is unset)."""
        if any(value is None for value in values):
            return
        self.terms.append(template.format(*(self.param(value) for value in values)))

    def param(self, value: object) -> str:
        self.args.append(value.value if isinstance(value, Enum) else value)
        return f"${len(self.args)}"

    @property
    def where(self) -> str:
        return " AND ".join(self.terms) or "true"


CONTACT_COLUMNS = "ct.*, cs.number AS case_number"
CONTACT_FROM = "contacts ct LEFT JOIN cases cs ON cs.id = ct.case_id"


async def hold_advisory_locks(conn: Connection, keys: Iterable[int]) -> None:
    """Wait for, then hold until commit, a transaction-level advisory lock per key. Taken in
    ascending order, so two transactions wanting overlapping keys cannot deadlock."""
    for key in sorted(set(keys)):
        await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


class ContactsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def case_by_number(self, number: str) -> CaseRef | None:
        row = await self.conn.fetchrow(
            "SELECT id, number, customer_id, motive, status, opened_at FROM cases WHERE number = $1",
            number,
        )
        return case_ref_of(row) if row else None

    async def case_by_id(self, case_id: uuid.UUID) -> CaseRef | None:
        row = await self.conn.fetchrow(
            "SELECT id, number, customer_id, motive, status, opened_at FROM cases WHERE id = $1",
            case_id,
        )
        return case_ref_of(row) if row else None

    async def open_cases_with_motive(
        self, customer_id: uuid.UUID, motive: str, since: datetime
    ) -> list[CaseRef]:
        """The customer's open cases with this motive opened since `since`, newest first."""
        rows = await self.conn.fetch(
            """SELECT id, number, customer_id, motive, status, opened_at FROM cases
               WHERE customer_id = $1 AND motive = $2 AND status = 'open' AND opened_at >= $3
               ORDER BY opened_at DESC, id DESC LIMIT 5""",
            customer_id,
            motive,
            since,
        )
        return [case_ref_of(r) for r in rows]

    async def by_external_ref(self, channel: str, external_ref: str) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM contacts WHERE channel = $1 AND external_ref = $2", channel, external_ref
        )

    async def add(self, contact: Contact) -> None:
        c = contact.command
        await self.conn.execute(
            """INSERT INTO contacts (id, customer_id, case_id, kind, channel, direction, touchpoint,
                   moment_of_truth, motive, cause, product, agent_id, body, expectation, severity,
                   upset, external_ref, attachments, received_at, outcome, link_reason)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                       $18, $19, $20, $21)""",
            contact.id,
            contact.customer_id,
            contact.case_id,
            c.kind.value,
            c.channel.value,
            c.direction.value,
            c.touchpoint,
            c.moment_of_truth.value if c.moment_of_truth else None,
            contact.motive,
            c.cause,
            c.product,
            c.agent_id,
            c.text,
            c.expectation,
            c.severity.value if c.severity else None,
            c.upset,
            c.external_ref,
            [a.model_dump() for a in c.attachments],
            contact.received_at,
            contact.outcome.value,
            contact.link_reason.value if contact.link_reason else None,
        )

    async def get(self, contact_id: uuid.UUID) -> asyncpg.Record | None:
        """The contact with its case's number (`case_number`, null when it has no case)."""
        return await self.conn.fetchrow(
            f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE ct.id = $1", contact_id
        )

    async def search(
        self, where: ContactFilter, after: Position | None, limit: int
    ) -> list[asyncpg.Record]:
        """Contacts matching `where`, newest first, starting after `after`."""
        sql = Conditions()
        sql.add("ct.customer_id = {}", where.customer_id)
        sql.add("ct.case_id = {}", where.case_id)
        sql.add("ct.motive = {}", where.motive)
        sql.add("ct.channel = {}", where.channel)
        sql.add("ct.kind = {}", where.kind)
        sql.add("ct.received_at >= {}", where.received_from)
        sql.add("ct.received_at < {}", where.received_to)
        if after is not None:
            sql.add("(ct.received_at, ct.id) < ({}, {})", *after)
        return list(
            await self.conn.fetch(
                f"""SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE {sql.where}
                    ORDER BY ct.received_at DESC, ct.id DESC LIMIT {sql.param(limit)}""",
                *sql.args,
            )
        )

    async def of_case(
        self, case_id: uuid.UUID, after: Position | None, limit: int
    ) -> list[asyncpg.Record]:
        """A case's contacts, oldest first: the history in the order the customer told it."""
        return list(
            await self.conn.fetch(
                f"""SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM}
                    WHERE ct.case_id = $1
                      AND ($2::timestamptz IS NULL OR (ct.received_at, ct.id) > ($2, $3::uuid))
                    ORDER BY ct.received_at, ct.id LIMIT $4""",
                case_id,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )
        )
