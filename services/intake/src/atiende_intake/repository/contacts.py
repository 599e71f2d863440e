"""Contacts' SQL, and the case lookups the "one case per problem" rule needs."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from atiende_runtime.db import Connection

from ..domain.contacts import CaseRef, Contact


def case_ref_of(row: asyncpg.Record) -> CaseRef:
    return CaseRef(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        motive=row["motive"],
        status=row["status"],
        opened_at=row["opened_at"],
    )


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
        rows = await self.conn.fetch(
            """SELECT id, number, customer_id, motive, status, opened_at FROM cases
               WHERE customer_id = $1 AND motive = $2 AND status = 'open' AND opened_at >= $3
               ORDER BY opened_at DESC LIMIT 5""",
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
                   upset, external_ref, attachments, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                       $18, $19)""",
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
        )

    async def get(self, contact_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.conn.fetchrow("SELECT * FROM contacts WHERE id = $1", contact_id)
