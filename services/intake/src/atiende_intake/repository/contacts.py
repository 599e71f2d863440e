"""Contacts' SQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from atiende_contracts import Channel, ContactKind, Direction, LinkReason, MomentOfTruth, Severity
from atiende_runtime.db import Connection

from ..domain.contacts import Attachment, Contact, Outcome
from .sql import Conditions, Position


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


CONTACT_COLUMNS = "ct.*, cs.number AS case_number"
CONTACT_FROM = "contacts ct LEFT JOIN cases cs ON cs.id = ct.case_id"


def _attachments(raw: Any) -> tuple[Attachment, ...]:
    items: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw or []
    return tuple(Attachment(**a) for a in items)


def contact_of(row: asyncpg.Record) -> Contact:
    return Contact(
        id=row["id"],
        customer_id=row["customer_id"],
        case_id=row["case_id"],
        case_number=row["case_number"],
        kind=ContactKind(row["kind"]),
        channel=Channel(row["channel"]),
        direction=Direction(row["direction"]),
        text=row["body"],
        motive=row["motive"],
        received_at=row["received_at"],
        outcome=Outcome(row["outcome"]),
        link_reason=LinkReason(row["link_reason"]) if row["link_reason"] else None,
        expectation=row["expectation"],
        moment_of_truth=MomentOfTruth(row["moment_of_truth"]) if row["moment_of_truth"] else None,
        severity=Severity(row["severity"]) if row["severity"] else None,
        upset=row["upset"],
        cause=row["cause"],
        touchpoint=row["touchpoint"],
        product=row["product"],
        agent_id=row["agent_id"],
        external_ref=row["external_ref"],
        attachments=_attachments(row["attachments"]),
        created_at=row["created_at"],
    )


class PostgresContactsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def by_external_ref(self, channel: Channel, external_ref: str) -> Contact | None:
        row = await self.conn.fetchrow(
            f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM}"
            " WHERE ct.channel = $1 AND ct.external_ref = $2",
            channel.value,
            external_ref,
        )
        return contact_of(row) if row else None

    async def add(self, contact: Contact) -> None:
        c = contact
        await self.conn.execute(
            """INSERT INTO contacts (id, customer_id, case_id, kind, channel, direction, touchpoint,
                   moment_of_truth, motive, cause, product, agent_id, body, expectation, severity,
                   upset, external_ref, attachments, received_at, outcome, link_reason)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                       $18, $19, $20, $21)""",
            c.id,
            c.customer_id,
            c.case_id,
            c.kind.value,
            c.channel.value,
            c.direction.value,
            c.touchpoint,
            c.moment_of_truth.value if c.moment_of_truth else None,
            c.motive,
            c.cause,
            c.product,
            c.agent_id,
            c.text,
            c.expectation,
            c.severity.value if c.severity else None,
            c.upset,
            c.external_ref,
            [asdict(a) for a in c.attachments],
            c.received_at,
            c.outcome.value,
            c.link_reason.value if c.link_reason else None,
        )

    async def get(self, contact_id: uuid.UUID) -> Contact | None:
        """The contact with its case's number (`case_number`, None when it has no case)."""
        row = await self.conn.fetchrow(
            f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE ct.id = $1", contact_id
        )
        return contact_of(row) if row else None

    async def search(
        self, where: ContactFilter, after: Position | None, limit: int
    ) -> list[Contact]:
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
        rows = await self.conn.fetch(
            f"""SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE {sql.where}
                ORDER BY ct.received_at DESC, ct.id DESC LIMIT {sql.param(limit)}""",
            *sql.args,
        )
        return [contact_of(r) for r in rows]

    async def of_case(
        self, case_id: uuid.UUID, after: Position | None, limit: int
    ) -> list[Contact]:
        """A case's contacts, oldest first: the history in the order the customer told it."""
        rows = await self.conn.fetch(
            f"""SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM}
                WHERE ct.case_id = $1
                  AND ($2::timestamptz IS NULL OR (ct.received_at, ct.id) > ($2, $3::uuid))
                ORDER BY ct.received_at, ct.id LIMIT $4""",
            case_id,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [contact_of(r) for r in rows]

    async def case_of_messages(self, message_ids: Sequence[str]) -> uuid.UUID | None:
        """The case of the customer's email with the first of these Message-IDs we have."""
        if not message_ids:
            return None
        case_id: uuid.UUID | None = await self.conn.fetchval(
            """SELECT ct.case_id FROM unnest($1::text[]) WITH ORDINALITY AS m(id, position)
               JOIN contacts ct ON ct.channel = 'email' AND ct.external_ref = m.id
               WHERE ct.case_id IS NOT NULL ORDER BY m.position LIMIT 1""",
            list(message_ids),
        )
        return case_id

    async def count_of_case(self, case_id: uuid.UUID) -> int:
        count: int = await self.conn.fetchval(
            "SELECT count(*) FROM contacts WHERE case_id = $1", case_id
        )
        return count

    async def split_off(self, contact_id: uuid.UUID, new_case_id: uuid.UUID) -> None:
        """The contact now opens `new_case_id`."""
        await self.conn.execute(
            """UPDATE contacts SET case_id = $2, outcome = 'opened', link_reason = NULL
               WHERE id = $1""",
            contact_id,
            new_case_id,
        )

    async def move_all(self, from_case_id: uuid.UUID, to_case_id: uuid.UUID) -> list[uuid.UUID]:
        """Every contact of a case moves to another, joined there by an agent's choice."""
        rows = await self.conn.fetch(
            """UPDATE contacts SET case_id = $2, outcome = 'joined', link_reason = 'agent'
               WHERE case_id = $1 RETURNING id""",
            from_case_id,
            to_case_id,
        )
        return sorted(r["id"] for r in rows)
