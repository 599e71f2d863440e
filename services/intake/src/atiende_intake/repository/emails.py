"""The email channel's SQL: which case each email notifications sent was about, and the mail
kept instead of recorded (auto-replies, bounces, unreadable messages)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from atiende_runtime.db import Connection

from ..domain.customers import ERASED_TEXT
from ..domain.feedback import FeedbackKind, KeptMail


class PostgresSentEmailsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def remember(self, delivery_id: uuid.UUID, case_id: uuid.UUID, sent_at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO sent_emails (delivery_id, case_id, sent_at) VALUES ($1, $2, $3)
               ON CONFLICT (delivery_id) DO NOTHING""",
            delivery_id,
            case_id,
            sent_at,
        )

    async def case_number_of(self, delivery_ids: Sequence[uuid.UUID]) -> str | None:
        """The number of the case the first known delivery (in the order given) was about."""
        if not delivery_ids:
            return None
        number: str | None = await self.conn.fetchval(
            """SELECT c.number FROM unnest($1::uuid[]) WITH ORDINALITY AS d(id, position)
               JOIN sent_emails s ON s.delivery_id = d.id JOIN cases c ON c.id = s.case_id
               ORDER BY d.position LIMIT 1""",
            list(delivery_ids),
        )
        return number

    async def delivery_of(
        self, delivery_ids: Sequence[uuid.UUID]
    ) -> tuple[uuid.UUID, uuid.UUID] | None:
        """(delivery id, case id) of the first known delivery, in the order given."""
        if not delivery_ids:
            return None
        row = await self.conn.fetchrow(
            """SELECT s.delivery_id, s.case_id
               FROM unnest($1::uuid[]) WITH ORDINALITY AS d(id, position)
               JOIN sent_emails s ON s.delivery_id = d.id ORDER BY d.position LIMIT 1""",
            list(delivery_ids),
        )
        return (row["delivery_id"], row["case_id"]) if row else None


def kept_of(r: asyncpg.Record) -> KeptMail:
    return KeptMail(
        id=r["id"],
        kind=FeedbackKind(r["kind"]),
        reason=r["reason"],
        message_id=r["message_id"],
        raw=bytes(r["raw"]),
        received_at=r["received_at"],
        sender=r["sender"],
        subject=r["subject"],
        delivery_id=r["delivery_id"],
        case_id=r["case_id"],
        details=dict(r["details"]),
    )


class PostgresEmailFeedbackRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def erase(self, values: Sequence[str], case_ids: Sequence[uuid.UUID]) -> int:
        # the raw message is the person's mail: nothing of it is worth keeping
        result = await self.conn.execute(
            """UPDATE email_feedback SET sender = NULL, subject = $3, details = '{}',
                   raw = convert_to($3, 'UTF8')
               WHERE lower(sender) = ANY($1::text[]) OR case_id = ANY($2::uuid[])""",
            [v.lower() for v in values],
            list(case_ids),
            ERASED_TEXT,
        )
        return int(result.split()[-1])

    async def keep(self, mail: KeptMail) -> bool:
        """Keep the message; False when this one (same kind and Message-ID) was kept before."""
        inserted = await self.conn.fetchval(
            """INSERT INTO email_feedback (id, kind, reason, message_id, sender, subject,
                   delivery_id, case_id, details, raw, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (kind, message_id) DO NOTHING RETURNING true""",
            mail.id,
            mail.kind.value,
            mail.reason,
            mail.message_id,
            mail.sender,
            mail.subject,
            mail.delivery_id,
            mail.case_id,
            mail.details,
            mail.raw,
            mail.received_at,
        )
        return bool(inserted)

    async def get(self, kept_id: uuid.UUID) -> KeptMail | None:
        row = await self.conn.fetchrow("SELECT * FROM email_feedback WHERE id = $1", kept_id)
        return kept_of(row) if row else None

    async def recent(self, kind: FeedbackKind | None, limit: int) -> list[KeptMail]:
        rows = await self.conn.fetch(
            """SELECT * FROM email_feedback WHERE $1::text IS NULL OR kind = $1
               ORDER BY received_at DESC, id DESC LIMIT $2""",
            kind.value if kind else None,
            limit,
        )
        return [kept_of(r) for r in rows]

    async def counts(self) -> dict[FeedbackKind, int]:
        rows = await self.conn.fetch("SELECT kind, count(*) AS n FROM email_feedback GROUP BY kind")
        return {FeedbackKind(r["kind"]): r["n"] for r in rows}
