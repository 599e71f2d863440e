"""All of notifications' SQL, behind the ports its use cases see: a unit of work handing out the
recipients and deliveries repositories and emitting events in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from atiende_contracts import Envelope, EventData, NotificationChannel
from atiende_runtime.db import Connection
from atiende_runtime.languages import Language
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .domain import Delivery, DeliveryStatus, Recipient, Template


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery and the W3C trace context of the handler that recorded it."""

    delivery: Delivery
    trace_headers: Mapping[str, Any] = field(default_factory=dict)


class RecipientsRepository(Protocol):
    async def save(self, recipient: Recipient) -> None:
        """Remember (or refresh) where a case's emails go."""
        ...

    async def get(self, case_id: uuid.UUID) -> Recipient | None: ...


class DeliveriesRepository(Protocol):
    async def add(self, delivery: Delivery, trace_headers: Mapping[str, str]) -> bool:
        """Store a pending delivery; False if one with its idempotency key already exists."""
        ...

    async def claim_due(self, limit: int, now: datetime) -> list[DueDelivery]:
        """Lock up to `limit` pending deliveries due at `now`, earliest first, that no other
        transaction holds. Call inside a transaction."""
        ...

    async def save_attempt(self, delivery: Delivery) -> None:
        """Record the outcome of a send attempt (the fields a transition changes)."""
        ...

    async def find(
        self, *, case_id: uuid.UUID | None, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        """Deliveries newest first (then by id), optionally of one case and in one status."""
        ...


class UnitOfWork(Protocol):
    recipients: RecipientsRepository
    deliveries: DeliveriesRepository

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None: ...


# --- PostgreSQL ------------------------------------------------------------------------------

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


class PostgresRecipientsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def save(self, recipient: Recipient) -> None:
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
            str(recipient.language),
        )

    async def get(self, case_id: uuid.UUID) -> Recipient | None:
        row = await self.conn.fetchrow(
            """SELECT case_id, case_number, customer_name, customer_email, language
               FROM recipients WHERE case_id = $1""",
            case_id,
        )
        if row is None:
            return None
        return Recipient(
            case_id=row["case_id"],
            case_number=row["case_number"],
            customer_name=row["customer_name"],
            customer_email=row["customer_email"],
            language=Language(row["language"]),
        )


class PostgresDeliveriesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, delivery: Delivery, trace_headers: Mapping[str, str]) -> bool:
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
            dict(trace_headers),
        )
        return bool(inserted)

    async def claim_due(self, limit: int, now: datetime) -> list[DueDelivery]:
        # SKIP LOCKED: another dispatcher (replica) takes other rows, never the same ones
        rows = await self.conn.fetch(
            f"""SELECT {_DELIVERY_COLUMNS}, trace_headers FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= $2
                ORDER BY next_attempt_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED""",
            limit,
            now,
        )
        return [DueDelivery(_delivery(row), row["trace_headers"] or {}) for row in rows]

    async def save_attempt(self, delivery: Delivery) -> None:
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

    async def find(
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


class PostgresUnitOfWork:
    """The service's unit of work over the runtime's (one transaction: its connection and its
    outbox)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.recipients: RecipientsRepository = PostgresRecipientsRepository(uow.conn)
        self.deliveries: DeliveriesRepository = PostgresDeliveriesRepository(uow.conn)

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        return await self._uow.emit(data, subject=subject)
