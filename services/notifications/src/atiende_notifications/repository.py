"""All of notifications' SQL."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from atiende_contracts import NotificationChannel
from atiende_runtime.db import Connection

from .domain import Delivery, DeliveryStatus, Recipient, Template

_DELIVERY_COLUMNS = """id, idempotency_key, case_id, case_number, template, channel, recipient,
    recipient_name, subject, body_text, body_html, status, attempts, next_attempt_at, last_error,
    created_at, sent_at"""


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        case_id=row["case_id"],
        case_number=row["case_number"],
        template=Template(row["template"]),
        channel=NotificationChannel(row["channel"]),
        recipient=row["recipient"],
        recipient_name=row["recipient_name"],
        subject=row["subject"],
        body_text=row["body_text"],
        body_html=row["body_html"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
    )


class NotificationsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- recipients ---

    async def save_recipient(self, recipient: Recipient) -> None:
        """Remember (or refresh) where a case's emails go."""
        await self.conn.execute(
            """INSERT INTO recipients
                   (case_id, case_number, customer_name, customer_email, language)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (case_id) DO UPDATE SET
                   case_number = EXCLUDED.case_number, customer_name = EXCLUDED.customer_name,
                   customer_email = EXCLUDED.customer_email, language = EXCLUDED.language,
                   updated_at = now()""",
            recipient.case_id,
            recipient.case_number,
            recipient.customer_name,
            recipient.customer_email,
            recipient.language,
        )

    async def recipient(self, case_id: uuid.UUID) -> Recipient | None:
        row = await self.conn.fetchrow(
            """SELECT case_id, case_number, customer_name, customer_email, language
               FROM recipients WHERE case_id = $1""",
            case_id,
        )
        return Recipient(**dict(row)) if row else None

    # --- deliveries ---

    async def add_delivery(self, delivery: Delivery, trace_headers: dict[str, str]) -> bool:
        """Store a pending delivery; False if one with its idempotency key already exists."""
        inserted = await self.conn.fetchval(
            """INSERT INTO deliveries (id, idempotency_key, case_id, case_number, template, channel,
                   recipient, recipient_name, subject, body_text, body_html, status, attempts,
                   next_attempt_at, created_at, trace_headers)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (idempotency_key) DO NOTHING RETURNING true""",
            delivery.id,
            delivery.idempotency_key,
            delivery.case_id,
            delivery.case_number,
            delivery.template.value,
            delivery.channel.value,
            delivery.recipient,
            delivery.recipient_name,
            delivery.subject,
            delivery.body_text,
            delivery.body_html,
            delivery.status.value,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.created_at,
            trace_headers,
        )
        return bool(inserted)

    async def claim_due(self, limit: int) -> list[tuple[Delivery, dict[str, Any]]]:
        """Lock up to `limit` deliveries due now, each with its trace headers. SKIP LOCKED: another
        dispatcher (replica) takes other rows, never the same ones. Call inside a transaction."""
        rows = await self.conn.fetch(
            f"""SELECT {_DELIVERY_COLUMNS}, trace_headers FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED""",
            limit,
        )
        return [(_delivery(row), row["trace_headers"] or {}) for row in rows]

    async def save_attempt(self, delivery: Delivery) -> None:
        """Record the outcome of a send attempt (the fields a transition changes)."""
        await self.conn.execute(
            """UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
                   last_error = $5, sent_at = $6
               WHERE id = $1""",
            delivery.id,
            delivery.status.value,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.last_error,
            delivery.sent_at,
        )

    async def list_deliveries(
        self, *, case_id: uuid.UUID | None, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        rows = await self.conn.fetch(
            f"""SELECT {_DELIVERY_COLUMNS} FROM deliveries
                WHERE ($1::uuid IS NULL OR case_id = $1) AND ($2::text IS NULL OR status = $2)
                ORDER BY created_at DESC, id
                LIMIT $3""",
            case_id,
            status.value if status else None,
            limit,
        )
        return [_delivery(row) for row in rows]
