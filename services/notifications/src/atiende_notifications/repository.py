"""All of notifications' SQL, behind the ports its use cases see: a unit of work handing out the
recipients and deliveries repositories and emitting events in the same transaction."""

from __future__ import annotations

import json
import time as monotonic_clock
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Protocol

import asyncpg

from atiende_contracts import Envelope, EventData, Formality, NotificationChannel
from atiende_runtime.db import Connection
from atiende_runtime.erasure import (
    Scrubbed,
    remember_erased,
    scrub_document,
    scrub_text,
    searchable,
    was_erased,
)
from atiende_runtime.languages import Language
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .domain import Delivery, DeliveryStatus, Recipient, Template
from .domain.preferences import CustomerPreferences, QuietHours, StaffMember
from .domain.templating import StoredTemplate, TemplateKey, TemplateText
from .domain.webhooks import Endpoint, EndpointSecret


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

    async def of_customer(self, customer_id: uuid.UUID) -> list[Recipient]:
        """The customer's cases' recipients, oldest first."""
        ...

    async def erase(self, case_ids: list[uuid.UUID], customer_id: uuid.UUID) -> None:
        """Pseudonymise the customer's name, email and phone on these cases."""
        ...


@dataclass(frozen=True)
class AttemptLog:
    """One attempt of a delivery, as the log shows it."""

    delivery_id: uuid.UUID
    attempt: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    request: Mapping[str, Any] = field(default_factory=dict)
    dispatcher: str | None = None
    """The replica that made the attempt (settings.dispatcher_id)."""


class PreferencesRepository(Protocol):
    async def get(self, customer_id: uuid.UUID) -> CustomerPreferences | None: ...

    async def save(self, prefs: CustomerPreferences, actor: str | None = None) -> None:
        """Store them; `actor` is the staff member who set them (None: notifications did)."""
        ...

    async def delete(self, customer_id: uuid.UUID) -> None: ...

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        """Remember that intake erased the customer."""
        ...

    async def is_erased(self, customer_id: uuid.UUID) -> bool: ...


class StaffRepository(Protocol):
    async def get(self, agent_id: str) -> StaffMember | None: ...

    async def save(self, member: StaffMember, actor: str | None = None) -> None:
        """Store the member; `actor` is the staff member who set the channels (None: an event)."""
        ...

    async def of_ranks(self, ranks: Sequence[str]) -> list[StaffMember]:
        """Members of these ranks, by agent id."""
        ...


class TemplatesRepository(Protocol):
    async def current(
        self, template: Template, channel: NotificationChannel
    ) -> list[StoredTemplate]:
        """The highest version of every key of a message and channel (active or not)."""
        ...

    async def versions(self, key: TemplateKey) -> list[StoredTemplate]: ...

    async def add(self, stored: StoredTemplate) -> None: ...

    async def set_outdated(self, key: TemplateKey, outdated: bool) -> None:
        """Flag the current version of `key`."""
        ...


class EndpointsRepository(Protocol):
    async def add(self, endpoint: Endpoint) -> None: ...

    async def save(self, endpoint: Endpoint) -> None: ...

    async def get(self, endpoint_id: uuid.UUID) -> Endpoint | None: ...

    async def all(self) -> list[Endpoint]: ...


MENTIONS = frozenset({"customer_name", "customer_email", "customer_phone", "description"})
"""Keys of a staff or webhook message's context that are the customer's own data."""


class DeliveriesRepository(Protocol):
    async def add(self, delivery: Delivery, trace_headers: Mapping[str, str]) -> bool:
        """Store a pending delivery; False if one with its idempotency key already exists."""
        ...

    async def claim_due(self, limit: int, now: datetime) -> list[DueDelivery]:
        """Lock up to `limit` pending deliveries due at `now`, earliest first, that no other
        transaction holds. Call inside a transaction."""
        ...

    async def save_attempt(self, delivery: Delivery, log: AttemptLog | None = None) -> None:
        """Record the outcome of a send attempt (the fields a transition changes), and `log`,
        the attempt's line in the delivery log (as log_attempt), with it."""
        ...

    async def rewrite(self, delivery: Delivery) -> None:
        """Store a pending delivery's words as rendered again at send time (subject, bodies,
        language, register)."""
        ...

    async def find(
        self, *, case_id: uuid.UUID | None, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        """Deliveries newest first (then by id), optionally of one case and in one status."""
        ...

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None: ...

    async def of_endpoint(
        self, endpoint_id: uuid.UUID, since: datetime | None, until: datetime | None
    ) -> list[Delivery]: ...

    async def log_attempt(self, entry: AttemptLog) -> None: ...

    async def attempts(self, delivery_id: uuid.UUID) -> list[AttemptLog]: ...

    async def erase(self, customer_id: uuid.UUID, case_ids: list[uuid.UUID]) -> int:
        """Pseudonymise the customer's deliveries (address, name, bodies) and suppress the
        pending ones; rows stay."""
        ...

    async def scrub_mentions(
        self, customer_id: uuid.UUID, case_ids: list[uuid.UUID], values: Sequence[str]
    ) -> int:
        """Messages about the customer's cases to others (staff, webhooks) keep their words
        but lose the customer's `values`; every attempt log of those deliveries and of the
        customer's own loses them too."""
        ...


class UnitOfWork(Protocol):
    recipients: RecipientsRepository
    deliveries: DeliveriesRepository
    preferences: PreferencesRepository
    staff: StaffRepository
    templates: TemplatesRepository
    endpoints: EndpointsRepository

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None: ...

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed: ...


# --- PostgreSQL ------------------------------------------------------------------------------

_DELIVERY_COLUMNS = """id, idempotency_key, case_id, case_number, template, channel, recipient,
    recipient_name, subject, body_text, body_html, status, attempts, next_attempt_at, last_error,
    created_at, sent_at, customer_id, language, register, context, reason, endpoint_id, thread"""


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
        customer_id=row["customer_id"],
        language=row["language"],
        register=Formality(row["register"]) if row["register"] else None,
        context=_json(row["context"]),
        reason=row["reason"],
        endpoint_id=row["endpoint_id"],
        thread=row["thread"],
    )


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value or {})


class PostgresRecipientsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def save(self, recipient: Recipient) -> None:
        await self.conn.execute(
            """INSERT INTO recipients
                   (case_id, case_number, customer_name, customer_email, language, customer_id,
                    formality, customer_phone, region)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (case_id) DO UPDATE SET
                   case_number = EXCLUDED.case_number, customer_name = EXCLUDED.customer_name,
                   customer_email = EXCLUDED.customer_email, language = EXCLUDED.language,
                   customer_id = EXCLUDED.customer_id, formality = EXCLUDED.formality,
                   customer_phone = EXCLUDED.customer_phone, region = EXCLUDED.region,
                   updated_at = now()""",
            recipient.case_id,
            recipient.case_number,
            recipient.customer_name,
            recipient.customer_email,
            str(recipient.language),
            recipient.customer_id,
            recipient.formality.value,
            recipient.customer_phone,
            recipient.region,
        )

    async def get(self, case_id: uuid.UUID) -> Recipient | None:
        row = await self.conn.fetchrow(
            f"SELECT {_RECIPIENT} FROM recipients WHERE case_id = $1", case_id
        )
        return None if row is None else _recipient(row)

    async def of_customer(self, customer_id: uuid.UUID) -> list[Recipient]:
        rows = await self.conn.fetch(
            f"SELECT {_RECIPIENT} FROM recipients WHERE customer_id = $1 ORDER BY updated_at",
            customer_id,
        )
        return [_recipient(r) for r in rows]

    async def erase(self, case_ids: list[uuid.UUID], customer_id: uuid.UUID) -> None:
        await self.conn.execute(
            """UPDATE recipients SET customer_name = '[erased]', customer_email = NULL,
                   customer_phone = NULL, updated_at = now()
               WHERE case_id = ANY($1::uuid[]) OR customer_id = $2""",
            case_ids,
            customer_id,
        )


_RECIPIENT = """case_id, case_number, customer_name, customer_email, language, customer_id,
    formality, customer_phone, region"""


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(
        case_id=row["case_id"],
        case_number=row["case_number"],
        customer_name=row["customer_name"],
        customer_email=row["customer_email"],
        language=Language(row["language"]),
        customer_id=row["customer_id"],
        formality=Formality(row["formality"]),
        customer_phone=row["customer_phone"],
        region=row["region"],
    )


class PostgresDeliveriesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, delivery: Delivery, trace_headers: Mapping[str, str]) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO deliveries (id, idempotency_key, case_id, case_number, template, channel,
                   recipient, recipient_name, subject, body_text, body_html, status, attempts,
                   next_attempt_at, created_at, trace_headers, customer_id, language, register,
                   context, reason, endpoint_id, thread, last_error)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                       $17, $18, $19, $20, $21, $22, $23, $24)
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
            delivery.customer_id,
            delivery.language,
            delivery.register.value if delivery.register else None,
            json.dumps(dict(delivery.context), default=str),
            delivery.reason,
            delivery.endpoint_id,
            delivery.thread,
            delivery.last_error,
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

    async def save_attempt(self, delivery: Delivery, log: AttemptLog | None = None) -> None:
        outcome = (
            delivery.id,
            delivery.status.value,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.last_error,
            delivery.sent_at,
            delivery.reason,
        )
        if log is None:
            await self.conn.execute(
                """UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
                       last_error = $5, sent_at = $6, reason = $7
                   WHERE id = $1""",
                *outcome,
            )
            return
        # the log line and the outcome in one round trip (the dispatcher's per email)
        await self.conn.execute(
            """WITH logged AS (
                   INSERT INTO delivery_attempts (delivery_id, attempt, attempted_at,
                       duration_ms, status_code, error, request, dispatcher)
                   VALUES ($8, $9, $10, $11, $12, $13, $14, $15)
                   ON CONFLICT DO NOTHING)
               UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
                   last_error = $5, sent_at = $6, reason = $7
               WHERE id = $1""",
            *outcome,
            log.delivery_id,
            log.attempt,
            log.attempted_at,
            log.duration_ms,
            log.status_code,
            log.error,
            json.dumps(dict(log.request)),
            log.dispatcher,
        )

    async def rewrite(self, delivery: Delivery) -> None:
        await self.conn.execute(
            """UPDATE deliveries SET subject = $2, body_text = $3, body_html = $4, language = $5,
                   register = $6
               WHERE id = $1""",
            delivery.id,
            delivery.subject,
            delivery.body_text,
            delivery.body_html,
            delivery.language,
            delivery.register.value if delivery.register else None,
        )

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None:
        row = await self.conn.fetchrow(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = $1", delivery_id
        )
        return None if row is None else _delivery(row)

    async def of_endpoint(
        self, endpoint_id: uuid.UUID, since: datetime | None, until: datetime | None
    ) -> list[Delivery]:
        rows = await self.conn.fetch(
            f"""SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE endpoint_id = $1
                AND ($2::timestamptz IS NULL OR created_at >= $2)
                AND ($3::timestamptz IS NULL OR created_at < $3)
                ORDER BY created_at, id""",
            endpoint_id,
            since,
            until,
        )
        return [_delivery(r) for r in rows]

    async def log_attempt(self, entry: AttemptLog) -> None:
        await self.conn.execute(
            """INSERT INTO delivery_attempts (delivery_id, attempt, attempted_at, duration_ms,
                   status_code, error, request, dispatcher)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT DO NOTHING""",
            entry.delivery_id,
            entry.attempt,
            entry.attempted_at,
            entry.duration_ms,
            entry.status_code,
            entry.error,
            json.dumps(dict(entry.request)),
            entry.dispatcher,
        )

    async def attempts(self, delivery_id: uuid.UUID) -> list[AttemptLog]:
        rows = await self.conn.fetch(
            """SELECT delivery_id, attempt, attempted_at, duration_ms, status_code, error, request,
                   dispatcher FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempted_at, attempt""",
            delivery_id,
        )
        return [
            AttemptLog(
                r["delivery_id"],
                r["attempt"],
                r["attempted_at"],
                r["duration_ms"],
                r["status_code"],
                r["error"],
                _json(r["request"]),
                r["dispatcher"],
            )
            for r in rows
        ]

    async def erase(self, customer_id: uuid.UUID, case_ids: list[uuid.UUID]) -> int:
        result = await self.conn.execute(
            """UPDATE deliveries SET recipient = '[erased]', recipient_name = NULL,
                   subject = '[erased]', body_text = '', body_html = NULL, context = '{}',
                   -- nothing more goes to an erased person (no event: nothing happened to them)
                   reason = CASE WHEN status = 'pending' THEN 'customer_erased' ELSE reason END,
                   status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END
               WHERE channel <> 'webhook' AND customer_id IS NOT NULL
                 AND (customer_id = $1 OR case_id = ANY($2::uuid[]))""",
            customer_id,
            case_ids,
        )
        return int(result.split()[-1])

    async def scrub_mentions(
        self, customer_id: uuid.UUID, case_ids: list[uuid.UUID], values: Sequence[str]
    ) -> int:
        needles = [v.casefold() for v in searchable(values)]
        others = await self.conn.fetch(
            """SELECT id, subject, body_text, body_html, recipient_name, context FROM deliveries
               WHERE case_id = ANY($1::uuid[]) AND (customer_id IS NULL OR channel = 'webhook')
               FOR UPDATE""",
            case_ids,
        )
        changed = 0
        for row in others:
            texts = [
                None if row[c] is None else scrub_text(row[c], values)
                for c in ("subject", "body_text", "body_html", "recipient_name")
            ]
            # kept as a JSON text in some rows (see add): scrubbed as the document it encodes
            stored = _json(row["context"])
            context = scrub_document(stored, needles, MENTIONS, about=True)
            if (
                texts != [row[c] for c in ("subject", "body_text", "body_html", "recipient_name")]
                or context != stored
            ):
                await self.conn.execute(
                    """UPDATE deliveries SET subject = $2, body_text = $3, body_html = $4,
                           recipient_name = $5, context = $6 WHERE id = $1""",
                    row["id"],
                    *texts,
                    context,
                )
                changed += 1
        attempts = await self.conn.fetch(
            """SELECT a.delivery_id, a.attempt, a.attempted_at, a.error, a.request
               FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
               WHERE d.customer_id = $1 OR d.case_id = ANY($2::uuid[])""",
            customer_id,
            case_ids,
        )
        for a in attempts:
            logged = _json(a["request"])
            request = scrub_document(logged, needles, (), about=False)
            error = None if a["error"] is None else scrub_text(a["error"], values)
            if (request, error) != (logged, a["error"]):
                await self.conn.execute(
                    """UPDATE delivery_attempts SET request = $4, error = $5
                       WHERE delivery_id = $1 AND attempt = $2 AND attempted_at = $3""",
                    a["delivery_id"],
                    a["attempt"],
                    a["attempted_at"],
                    request,
                    error,
                )
        return changed

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


class PostgresPreferencesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, customer_id: uuid.UUID) -> CustomerPreferences | None:
        r = await self.conn.fetchrow(
            "SELECT * FROM customer_preferences WHERE customer_id = $1", customer_id
        )
        if r is None:
            return None
        quiet = (
            QuietHours(r["quiet_start"], r["quiet_end"])
            if r["quiet_start"] is not None and r["quiet_end"] is not None
            else None
        )
        return CustomerPreferences(
            customer_id=r["customer_id"],
            preferred_channel=NotificationChannel(r["preferred_channel"])
            if r["preferred_channel"]
            else None,
            consent_surveys=r["consent_surveys"],
            consent_marketing=r["consent_marketing"],
            opted_out=frozenset(NotificationChannel(c) for c in r["opted_out"]),
            undeliverable=frozenset(NotificationChannel(c) for c in r["undeliverable"]),
            time_zone=r["time_zone"],
            quiet_hours=quiet,
            updated_at=r["updated_at"],
            updated_by=r["updated_by"],
        )

    async def save(self, prefs: CustomerPreferences, actor: str | None = None) -> None:
        quiet_start: time | None = prefs.quiet_hours.start if prefs.quiet_hours else None
        quiet_end: time | None = prefs.quiet_hours.end if prefs.quiet_hours else None
        await self.conn.execute(
            """INSERT INTO customer_preferences (customer_id, preferred_channel, consent_surveys,
                   consent_marketing, opted_out, undeliverable, time_zone, quiet_start, quiet_end,
                   updated_at, updated_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10)
               ON CONFLICT (customer_id) DO UPDATE SET
                   preferred_channel = EXCLUDED.preferred_channel,
                   consent_surveys = EXCLUDED.consent_surveys,
                   consent_marketing = EXCLUDED.consent_marketing,
                   opted_out = EXCLUDED.opted_out, undeliverable = EXCLUDED.undeliverable,
                   time_zone = EXCLUDED.time_zone, quiet_start = EXCLUDED.quiet_start,
                   quiet_end = EXCLUDED.quiet_end, updated_at = now(),
                   updated_by = EXCLUDED.updated_by""",
            prefs.customer_id,
            prefs.preferred_channel.value if prefs.preferred_channel else None,
            prefs.consent_surveys,
            prefs.consent_marketing,
            sorted(c.value for c in prefs.opted_out),
            sorted(c.value for c in prefs.undeliverable),
            prefs.time_zone,
            quiet_start,
            quiet_end,
            actor,
        )

    async def delete(self, customer_id: uuid.UUID) -> None:
        await self.conn.execute(
            "DELETE FROM customer_preferences WHERE customer_id = $1", customer_id
        )

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        await remember_erased(self.conn, customer_id, at)

    async def is_erased(self, customer_id: uuid.UUID) -> bool:
        return await was_erased(self.conn, customer_id)


class PostgresStaffRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, agent_id: str) -> StaffMember | None:
        r = await self.conn.fetchrow("SELECT * FROM staff WHERE agent_id = $1", agent_id)
        if r is None:
            return None
        return StaffMember(
            agent_id=r["agent_id"],
            name=r["name"],
            email=r["email"],
            phone=r["phone"],
            channels=tuple(NotificationChannel(c) for c in r["channels"]),
            active=r["active"],
            rank=r["rank"],
            updated_by=r["updated_by"],
        )

    async def of_ranks(self, ranks: Sequence[str]) -> list[StaffMember]:
        rows = await self.conn.fetch(
            "SELECT agent_id FROM staff WHERE rank = ANY($1::text[]) ORDER BY agent_id", list(ranks)
        )
        return [m for r in rows if (m := await self.get(r["agent_id"])) is not None]

    async def save(self, member: StaffMember, actor: str | None = None) -> None:
        await self.conn.execute(
            """INSERT INTO staff (agent_id, name, email, phone, channels, active, rank, updated_at,
                   updated_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8)
               ON CONFLICT (agent_id) DO UPDATE SET name = EXCLUDED.name,
                   email = EXCLUDED.email, phone = EXCLUDED.phone, channels = EXCLUDED.channels,
                   active = EXCLUDED.active, rank = EXCLUDED.rank, updated_at = now(),
                   updated_by = EXCLUDED.updated_by""",
            member.agent_id,
            member.name,
            member.email,
            member.phone,
            [c.value for c in member.channels],
            member.active,
            member.rank,
            actor,
        )


def _stored(r: asyncpg.Record) -> StoredTemplate:
    return StoredTemplate(
        key=TemplateKey(
            Template(r["template"]),
            NotificationChannel(r["channel"]),
            Language(r["language"]),
            Formality(r["register"]) if r["register"] else None,
        ),
        version=r["version"],
        text=TemplateText(r["subject"], r["body_text"], r["body_html"]),
        active=r["active"],
        outdated=r["outdated"],
        created_at=r["created_at"],
        actor=r["actor"],
    )


def _key_args(key: TemplateKey) -> tuple[str, str, str, str]:
    register = key.register.value if key.register else ""
    return key.template.value, key.channel.value, str(key.language), register


class PostgresTemplatesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def current(
        self, template: Template, channel: NotificationChannel
    ) -> list[StoredTemplate]:
        rows = await self.conn.fetch(
            """SELECT DISTINCT ON (language, register) * FROM templates
               WHERE template = $1 AND channel = $2
               ORDER BY language, register, version DESC""",
            template.value,
            channel.value,
        )
        return [_stored(r) for r in rows]

    async def versions(self, key: TemplateKey) -> list[StoredTemplate]:
        rows = await self.conn.fetch(
            """SELECT * FROM templates WHERE template = $1 AND channel = $2 AND language = $3
               AND register = $4 ORDER BY version""",
            *_key_args(key),
        )
        return [_stored(r) for r in rows]

    async def add(self, stored: StoredTemplate) -> None:
        await self.conn.execute(
            """INSERT INTO templates (template, channel, language, register, version, subject,
                   body_text, body_html, active, outdated, actor, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
            *_key_args(stored.key),
            stored.version,
            stored.text.subject,
            stored.text.body_text,
            stored.text.body_html,
            stored.active,
            stored.outdated,
            stored.actor,
            stored.created_at,
        )

    async def set_outdated(self, key: TemplateKey, outdated: bool) -> None:
        await self.conn.execute(
            """UPDATE templates SET outdated = $5 WHERE (template, channel, language, register,
                   version) = (SELECT template, channel, language, register, max(version)
                   FROM templates WHERE template = $1 AND channel = $2 AND language = $3
                   AND register = $4 GROUP BY 1, 2, 3, 4)""",
            *_key_args(key),
            outdated,
        )


def _endpoint(r: asyncpg.Record) -> Endpoint:
    return Endpoint(
        id=r["id"],
        url=r["url"],
        event_types=tuple(r["event_types"]),
        secrets=tuple(
            EndpointSecret(
                s["value"],
                datetime.fromisoformat(s["created_at"]),
                datetime.fromisoformat(s["expires_at"]) if s.get("expires_at") else None,
            )
            for s in _json_list(r["secrets"])
        ),
        enabled=r["enabled"],
        created_at=r["created_at"],
        description=r["description"],
        disabled_reason=r["disabled_reason"],
    )


def _json_list(value: Any) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(value) if isinstance(value, str) else list(value)
    return loaded


def _secrets_json(endpoint: Endpoint) -> str:
    return json.dumps(
        [
            {
                "value": s.value,
                "created_at": s.created_at.isoformat(),
                "expires_at": s.expires_at.isoformat() if s.expires_at else None,
            }
            for s in endpoint.secrets
        ]
    )


class EndpointsCache:
    """This process's copy of the webhook endpoints, so that fanning out an event (every event
    notifications hears) does not read the table each time. Trusted only while `live`: while a
    LISTEN connection hears the NOTIFY that the table's trigger sends on every change, from any
    replica (EndpointsWatch), and never for longer than `max_age` seconds, in case a
    notification was lost with a connection that died silently."""

    def __init__(self, max_age: float = 5.0) -> None:
        self.max_age = max_age
        self._endpoints: tuple[Endpoint, ...] | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._live = False
        self.loads = 0

    @property
    def live(self) -> bool:
        return self._live

    def set_live(self, live: bool) -> None:
        """Listening (True) or not (False); whatever was kept before is forgotten either way:
        changes made while nobody listened were not heard."""
        self._live = live
        self.invalidate()

    def invalidate(self) -> None:
        self._generation += 1
        self._endpoints = None

    def get(self) -> list[Endpoint] | None:
        if self._endpoints is None or not self._live:
            return None
        if monotonic_clock.monotonic() - self._loaded_at > self.max_age:
            return None
        return list(self._endpoints)

    def generation(self) -> int:
        return self._generation

    def put(self, endpoints: list[Endpoint], generation: int) -> None:
        """Keep what was read, unless a change was heard since the read began (it may predate
        that change)."""
        if self._live and generation == self._generation:
            self._endpoints = tuple(endpoints)
            self._loaded_at = monotonic_clock.monotonic()
            self.loads += 1


class PostgresEndpointsRepository:
    def __init__(self, conn: Connection, cache: EndpointsCache | None = None) -> None:
        self.conn = conn
        self._cache = cache

    async def add(self, endpoint: Endpoint) -> None:
        await self.conn.execute(
            """INSERT INTO webhook_endpoints (id, url, description, event_types, secrets, enabled,
                   disabled_reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            endpoint.id,
            endpoint.url,
            endpoint.description,
            list(endpoint.event_types),
            _secrets_json(endpoint),
            endpoint.enabled,
            endpoint.disabled_reason,
            endpoint.created_at,
        )

    async def save(self, endpoint: Endpoint) -> None:
        await self.conn.execute(
            """UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4,
                   secrets = $5, enabled = $6, disabled_reason = $7 WHERE id = $1""",
            endpoint.id,
            endpoint.url,
            endpoint.description,
            list(endpoint.event_types),
            _secrets_json(endpoint),
            endpoint.enabled,
            endpoint.disabled_reason,
        )

    async def get(self, endpoint_id: uuid.UUID) -> Endpoint | None:
        r = await self.conn.fetchrow("SELECT * FROM webhook_endpoints WHERE id = $1", endpoint_id)
        return None if r is None else _endpoint(r)

    async def all(self) -> list[Endpoint]:
        if self._cache is not None and (kept := self._cache.get()) is not None:
            return kept
        generation = self._cache.generation() if self._cache is not None else 0
        rows = await self.conn.fetch("SELECT * FROM webhook_endpoints ORDER BY created_at, id")
        endpoints = [_endpoint(r) for r in rows]
        if self._cache is not None:
            self._cache.put(endpoints, generation)
        return endpoints


class PostgresUnitOfWork:
    """The service's unit of work over the runtime's (one transaction: its connection and its
    outbox)."""

    def __init__(
        self, uow: RuntimeUnitOfWork, *, endpoints_cache: EndpointsCache | None = None
    ) -> None:
        """`endpoints_cache`: for event handlers, which only read the endpoints; routes and the
        dispatcher, which change them, always read the table."""
        self._uow = uow
        self.recipients: RecipientsRepository = PostgresRecipientsRepository(uow.conn)
        self.deliveries: DeliveriesRepository = PostgresDeliveriesRepository(uow.conn)
        self.preferences: PreferencesRepository = PostgresPreferencesRepository(uow.conn)
        self.staff: StaffRepository = PostgresStaffRepository(uow.conn)
        self.templates: TemplatesRepository = PostgresTemplatesRepository(uow.conn)
        self.endpoints: EndpointsRepository = PostgresEndpointsRepository(uow.conn, endpoints_cache)

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        return await self._uow.emit(data, subject=subject)

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        return await self._uow.scrub_copies(subjects=subjects, values=values, free_text=free_text)
