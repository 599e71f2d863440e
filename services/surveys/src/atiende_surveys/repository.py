"""All of surveys' SQL, behind the ports its use cases see (the repository Protocols and the
UnitOfWork Protocol); every method returns domain objects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from atiende_contracts import Envelope, EventData, Formality
from atiende_runtime.db import Connection
from atiende_runtime.erasure import ERASED, Scrubbed, remember_erased, was_erased
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .domain import (
    STOCK,
    Campaign,
    CaseFacts,
    Contact,
    CustomerFacts,
    Invitation,
    InvitationStatus,
    Questionnaire,
    Segment,
)
from .domain.questionnaires import questionnaire_from_data, questionnaire_to_data


@dataclass(frozen=True)
class Due:
    """An invitation due to be decided (a durable timer row)."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None
    trigger: str
    questionnaire_id: str
    agent_id: str | None
    team: str | None
    due_at: datetime
    campaign_id: uuid.UUID | None = None
    not_after: datetime | None = None  # a campaign's window: not sent after this


@dataclass(frozen=True)
class Suppression:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    case_id: uuid.UUID | None
    questionnaire_id: str | None
    trigger: str
    reason: str
    detail: str | None
    suppressed_at: datetime


@dataclass(frozen=True)
class ResultFilter:
    questionnaire_id: str | None = None
    case_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    agent_id: str | None = None
    team: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# --- ports --------------------------------------------------------------------------------------


class CasesRepository(Protocol):
    async def remember(self, case: CaseFacts) -> None:
        """Keep a case's facts; the first report of a case wins."""

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None: ...

    async def set_open(
        self,
        case_id: uuid.UUID,
        open: bool,
        *,
        agent_id: str | None = None,
        team: str | None = None,
    ) -> None: ...

    async def has_other_open_complaint(
        self, customer_id: uuid.UUID, case_id: uuid.UUID
    ) -> bool: ...


class CustomersRepository(Protocol):
    async def note(self, customer: CustomerFacts, at: datetime) -> None:
        """Keep what is known (a None consent leaves the known one)."""

    async def get(self, customer_id: uuid.UUID) -> CustomerFacts | None:
        """With the customer's opt-outs; None when nothing is known."""

    async def opt_out(self, customer_id: uuid.UUID, scope: str, at: datetime) -> bool:
        """False when already opted out of that scope."""

    async def contacts(self, customer_id: uuid.UUID) -> list[Contact]: ...

    async def add_contact(
        self, customer_id: uuid.UUID, invitation_id: uuid.UUID, contact: Contact
    ) -> None: ...

    async def in_segment(self, segment: Segment, now: datetime) -> list[uuid.UUID]:
        """Known customers matching the segment (language: the customer's, else their latest
        case's; tier and last contact: their latest case's), ordered by id."""

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        """Remember that intake erased the customer (and withdraw consent: never surveyed
        again)."""

    async def is_erased(self, customer_id: uuid.UUID) -> bool: ...


class CampaignsRepository(Protocol):
    async def add(self, campaign: Campaign) -> None: ...

    async def get(self, campaign_id: uuid.UUID) -> Campaign | None: ...


class InvitationsRepository(Protocol):
    async def add(self, invitation: Invitation) -> bool:
        """Store a new invitation; False if its case already has one (per-case trigger)."""

    async def of_customer(
        self, customer_id: uuid.UUID, case_ids: Sequence[uuid.UUID]
    ) -> list[Invitation]:
        """The customer's invitations, and any about one of their cases."""

    async def save_erased(self, invitation: Invitation) -> None:
        """Store Invitation.erased(): new token hash, no reminder token, scrubbed answers."""

    async def exists_for_case(self, case_id: uuid.UUID) -> bool: ...

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None: ...

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        """A case's invitations, oldest first."""

    async def save_status(self, invitation: Invitation) -> None:
        """Status, reminders, the reminder's token hash (once set, kept) and draft."""

    async def save_response(self, invitation: Invitation) -> None:
        """Store an answered invitation's status and answers; a second answer is refused."""

    async def overdue(self, now: datetime, limit: int) -> list[Invitation]:
        """Pending past expiry, locked (SKIP LOCKED)."""

    async def to_remind(self, invited_before: datetime, limit: int) -> list[Invitation]:
        """Pending, not reminded yet, invited before the given time, locked (SKIP LOCKED)."""

    async def answered(self, where: ResultFilter) -> list[Invitation]: ...


class QuestionnairesRepository(Protocol):
    async def latest(self, questionnaire_id: str) -> Questionnaire | None:
        """The newest stored version, else the stock one."""

    async def version(self, questionnaire_id: str, version: int) -> Questionnaire | None: ...

    async def add(self, questionnaire: Questionnaire, actor: str | None) -> None: ...

    async def published_by(self, questionnaire_id: str, version: int) -> str | None:
        """Who published that stored version (its audit column)."""
        ...

    async def ids(self) -> list[str]: ...


class ScheduleRepository(Protocol):
    async def add(self, due: Due) -> None: ...

    async def claim_due(self, now: datetime, limit: int) -> list[Due]:
        """Due rows, locked with SKIP LOCKED (another replica takes the others)."""

    async def done(self, due_id: uuid.UUID, at: datetime) -> None: ...

    async def next_due(self) -> datetime | None: ...


class SuppressionsRepository(Protocol):
    async def add(self, suppression: Suppression) -> None: ...

    async def list(
        self, *, customer_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None
    ) -> list[Suppression]: ...


class UnitOfWork(Protocol):
    """One transaction: the repositories, and the events that commit with their changes."""

    cases: CasesRepository
    customers: CustomersRepository
    campaigns: CampaignsRepository
    invitations: InvitationsRepository
    questionnaires: QuestionnairesRepository
    schedule: ScheduleRepository
    suppressions: SuppressionsRepository

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


# --- PostgreSQL ---------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    """A jsonb value (the runtime's connections decode it already)."""
    return json.loads(value) if isinstance(value, str) else value


def _formality(value: str | None) -> Formality | None:
    return Formality(value) if value else None


class PostgresCasesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def remember(self, case: CaseFacts) -> None:
        await self.conn.execute(
            """INSERT INTO cases (case_id, case_number, customer_id, language, opened_at,
                                  formality, type, region, open, agent_id, team, test, tier)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (case_id) DO NOTHING""",
            case.case_id,
            case.case_number,
            case.customer_id,
            case.language,
            case.opened_at,
            case.formality.value if case.formality else None,
            case.type,
            case.region,
            case.open,
            case.agent_id,
            case.team,
            case.test,
            case.tier,
        )

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None:
        row = await self.conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
        if row is None:
            return None
        values = dict(row)
        values["formality"] = _formality(values["formality"])
        return CaseFacts(**values)

    async def set_open(
        self,
        case_id: uuid.UUID,
        open: bool,
        *,
        agent_id: str | None = None,
        team: str | None = None,
    ) -> None:
        await self.conn.execute(
            """UPDATE cases SET open = $2, agent_id = COALESCE($3, agent_id),
                                team = COALESCE($4, team) WHERE case_id = $1""",
            case_id,
            open,
            agent_id,
            team,
        )

    async def has_other_open_complaint(self, customer_id: uuid.UUID, case_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM cases WHERE customer_id = $1 AND case_id <> $2
                                   AND open AND type = 'complaint')""",
                customer_id,
                case_id,
            )
        )


class PostgresCustomersRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        await remember_erased(self.conn, customer_id, at)
        await self.conn.execute(
            """INSERT INTO customers (customer_id, consent_surveys, updated_at)
               VALUES ($1, false, $2)
               ON CONFLICT (customer_id) DO UPDATE SET consent_surveys = false,
                   updated_at = EXCLUDED.updated_at""",
            customer_id,
            at,
        )

    async def is_erased(self, customer_id: uuid.UUID) -> bool:
        return await was_erased(self.conn, customer_id)

    async def note(self, customer: CustomerFacts, at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO customers (customer_id, consent_surveys, language, formality,
                                      updated_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (customer_id) DO UPDATE SET
                 consent_surveys = COALESCE(EXCLUDED.consent_surveys,
                                            customers.consent_surveys),
                 language = COALESCE(EXCLUDED.language, customers.language),
                 formality = COALESCE(EXCLUDED.formality, customers.formality),
                 updated_at = EXCLUDED.updated_at""",
            customer.customer_id,
            customer.consent_surveys,
            customer.language,
            customer.formality.value if customer.formality else None,
            at,
        )

    async def get(self, customer_id: uuid.UUID) -> CustomerFacts | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM customers WHERE customer_id = $1", customer_id
        )
        scopes = await self.conn.fetch(
            "SELECT scope FROM opt_outs WHERE customer_id = $1", customer_id
        )
        if row is None and not scopes:
            return None
        return CustomerFacts(
            customer_id=customer_id,
            consent_surveys=row["consent_surveys"] if row else None,
            language=row["language"] if row else None,
            formality=_formality(row["formality"]) if row else None,
            opt_outs=frozenset(r["scope"] for r in scopes),
        )

    async def opt_out(self, customer_id: uuid.UUID, scope: str, at: datetime) -> bool:
        return bool(
            await self.conn.fetchval(
                """INSERT INTO opt_outs (customer_id, scope, opted_out_at) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING RETURNING true""",
                customer_id,
                scope,
                at,
            )
        )

    async def contacts(self, customer_id: uuid.UUID) -> list[Contact]:
        rows = await self.conn.fetch(
            "SELECT at, reminder FROM contacts WHERE customer_id = $1 ORDER BY at", customer_id
        )
        return [Contact(at=r["at"], reminder=r["reminder"]) for r in rows]

    async def add_contact(
        self, customer_id: uuid.UUID, invitation_id: uuid.UUID, contact: Contact
    ) -> None:
        await self.conn.execute(
            "INSERT INTO contacts (customer_id, invitation_id, at, reminder) VALUES ($1,$2,$3,$4)",
            customer_id,
            invitation_id,
            contact.at,
            contact.reminder,
        )

    async def in_segment(self, segment: Segment, now: datetime) -> list[uuid.UUID]:
        rows = await self.conn.fetch(
            """SELECT c.customer_id FROM customers c
               LEFT JOIN LATERAL (SELECT k.language, k.tier, k.opened_at FROM cases k
                                  WHERE k.customer_id = c.customer_id
                                  ORDER BY k.opened_at DESC LIMIT 1) last ON true
               WHERE ($1::text IS NULL OR COALESCE(c.language, last.language) = $1)
                 AND ($2::text IS NULL OR last.tier = $2)
                 AND ($3::timestamptz IS NULL OR last.opened_at >= $3)
               ORDER BY c.customer_id""",
            segment.language,
            segment.tier,
            segment.contacted_since(now),
        )
        return [r["customer_id"] for r in rows]


def _segment_to_data(segment: Segment) -> dict[str, Any]:
    return {
        "language": segment.language,
        "tier": segment.tier,
        "contacted_within_days": segment.contacted_within_days,
    }


class PostgresCampaignsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, campaign: Campaign) -> None:
        await self.conn.execute(
            """INSERT INTO campaigns (id, questionnaire_id, segment, send_from, send_until,
                                      created_at, scheduled, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            campaign.id,
            campaign.questionnaire_id,
            _segment_to_data(campaign.segment),
            campaign.send_from,
            campaign.send_until,
            campaign.created_at,
            campaign.scheduled,
            campaign.created_by,
        )

    async def get(self, campaign_id: uuid.UUID) -> Campaign | None:
        row = await self.conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
        if row is None:
            return None
        values = dict(row)
        values["segment"] = Segment(**_json(values["segment"]))
        return Campaign(**values)


_SELECT = """
SELECT i.*, r.answers, r.scores, r.answered_at
FROM invitations i LEFT JOIN responses r ON r.invitation_id = i.id
"""


def _invitation(row: asyncpg.Record) -> Invitation:
    answered = row["answered_at"] is not None
    return Invitation(
        id=row["id"],
        case_id=row["case_id"],
        case_number=row["case_number"],
        token_hash=row["token_hash"],
        status=InvitationStatus(row["status"]),
        invited_at=row["invited_at"],
        expires_at=row["expires_at"],
        customer_id=row["customer_id"],
        questionnaire_id=row["questionnaire_id"],
        questionnaire_version=row["questionnaire_version"],
        kind=row["kind"],
        language=row["language"],
        formality=_formality(row["formality"]),
        trigger=row["trigger"],
        agent_id=row["agent_id"],
        team=row["team"],
        reminders=row["reminders"],
        reminder_token_hash=row["reminder_token_hash"],
        draft=_json(row["draft"]),
        answers=_json(row["answers"]) if answered else None,
        scores=_json(row["scores"]) if answered else None,
        answered_at=row["answered_at"],
    )


class PostgresInvitationsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, invitation: Invitation) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO invitations
                   (id, case_id, case_number, token_hash, status, invited_at, expires_at,
                    customer_id, questionnaire_id, questionnaire_version, kind, language,
                    formality, trigger, agent_id, team)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (case_id) WHERE trigger IN ('resolution', 'closure') DO NOTHING
               RETURNING true""",
            invitation.id,
            invitation.case_id,
            invitation.case_number,
            invitation.token_hash,
            invitation.status.value,
            invitation.invited_at,
            invitation.expires_at,
            invitation.customer_id,
            invitation.questionnaire_id,
            invitation.questionnaire_version,
            invitation.kind,
            invitation.language,
            invitation.formality.value if invitation.formality else None,
            invitation.trigger,
            invitation.agent_id,
            invitation.team,
        )
        return bool(inserted)

    async def exists_for_case(self, case_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM invitations WHERE case_id = $1
                                   AND trigger IN ('resolution', 'closure'))""",
                case_id,
            )
        )

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None:
        # FOR UPDATE OF i: the invitation row is the lock that serialises two answers to it
        lock = " FOR UPDATE OF i" if for_update else ""
        row = await self.conn.fetchrow(
            f"{_SELECT} WHERE (i.token_hash = $1 OR i.reminder_token_hash = $1){lock}",
            token_hash,
        )
        return _invitation(row) if row else None

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        rows = await self.conn.fetch(
            f"{_SELECT} WHERE i.case_id = $1 ORDER BY i.invited_at", case_id
        )
        return [_invitation(row) for row in rows]

    async def save_status(self, invitation: Invitation) -> None:
        await self.conn.execute(
            """UPDATE invitations SET status = $2, reminders = $3, draft = $4,
                   reminder_token_hash = COALESCE($5, reminder_token_hash) WHERE id = $1""",
            invitation.id,
            invitation.status.value,
            invitation.reminders,
            invitation.draft,
            invitation.reminder_token_hash,
        )

    async def save_response(self, invitation: Invitation) -> None:
        # the responses primary key refuses a second answer
        if invitation.answers is None:
            raise ValueError(f"invitation {invitation.id} has no answer to save")
        await self.save_status(invitation)
        satisfaction = (invitation.scores or {}).get("csat")
        comment = invitation.answers.get("comment")
        await self.conn.execute(
            """INSERT INTO responses (invitation_id, satisfaction, comment, answered_at,
                                      answers, scores)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            invitation.id,
            int(satisfaction) if satisfaction is not None else None,
            comment if isinstance(comment, str) and comment else None,
            invitation.answered_at,
            invitation.answers,
            invitation.scores or {},
        )

    async def overdue(self, now: datetime, limit: int) -> list[Invitation]:
        rows = await self.conn.fetch(
            f"""{_SELECT} WHERE i.status = 'pending' AND i.expires_at <= $1
                ORDER BY i.expires_at LIMIT $2 FOR UPDATE OF i SKIP LOCKED""",
            now,
            limit,
        )
        return [_invitation(row) for row in rows]

    async def to_remind(self, invited_before: datetime, limit: int) -> list[Invitation]:
        rows = await self.conn.fetch(
            f"""{_SELECT} WHERE i.status = 'pending' AND i.reminders = 0
                AND i.invited_at <= $1 AND i.expires_at > now()
                ORDER BY i.invited_at LIMIT $2 FOR UPDATE OF i SKIP LOCKED""",
            invited_before,
            limit,
        )
        return [_invitation(row) for row in rows]

    async def of_customer(
        self, customer_id: uuid.UUID, case_ids: Sequence[uuid.UUID]
    ) -> list[Invitation]:
        rows = await self.conn.fetch(
            f"""{_SELECT} WHERE i.customer_id = $1 OR i.case_id = ANY($2::uuid[])
                ORDER BY i.invited_at FOR UPDATE OF i""",
            customer_id,
            list(case_ids),
        )
        return [_invitation(row) for row in rows]

    async def save_erased(self, invitation: Invitation) -> None:
        await self.conn.execute(
            """UPDATE invitations SET token_hash = $2, reminder_token_hash = $3, draft = $4
               WHERE id = $1""",
            invitation.id,
            invitation.token_hash,
            invitation.reminder_token_hash,
            invitation.draft,
        )
        if invitation.answers is not None:
            await self.conn.execute(
                """UPDATE responses SET answers = $2,
                       comment = CASE WHEN comment IS NULL THEN NULL ELSE $3 END
                   WHERE invitation_id = $1""",
                invitation.id,
                invitation.answers,
                ERASED,
            )

    async def answered(self, where: ResultFilter) -> list[Invitation]:
        conditions: list[str] = ["r.answered_at IS NOT NULL"]
        args: list[Any] = []
        for column, value in (
            ("i.questionnaire_id", where.questionnaire_id),
            ("i.case_id", where.case_id),
            ("i.customer_id", where.customer_id),
            ("i.agent_id", where.agent_id),
            ("i.team", where.team),
        ):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        if where.since is not None:
            args.append(where.since)
            conditions.append(f"r.answered_at >= ${len(args)}")
        if where.until is not None:
            args.append(where.until)
            conditions.append(f"r.answered_at < ${len(args)}")
        rows = await self.conn.fetch(
            f"{_SELECT} WHERE {' AND '.join(conditions)} ORDER BY r.answered_at", *args
        )
        return [_invitation(row) for row in rows]


class PostgresQuestionnairesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def latest(self, questionnaire_id: str) -> Questionnaire | None:
        definition = await self.conn.fetchval(
            """SELECT definition FROM questionnaires WHERE id = $1
               ORDER BY version DESC LIMIT 1""",
            questionnaire_id,
        )
        if definition is None:
            return STOCK.get(questionnaire_id)
        return questionnaire_from_data(_json(definition))

    async def version(self, questionnaire_id: str, version: int) -> Questionnaire | None:
        definition = await self.conn.fetchval(
            "SELECT definition FROM questionnaires WHERE id = $1 AND version = $2",
            questionnaire_id,
            version,
        )
        if definition is None:
            stock = STOCK.get(questionnaire_id)
            return stock if stock is not None and stock.version == version else None
        return questionnaire_from_data(_json(definition))

    async def add(self, questionnaire: Questionnaire, actor: str | None) -> None:
        await self.conn.execute(
            """INSERT INTO questionnaires (id, version, definition, published_by)
               VALUES ($1, $2, $3, $4)""",
            questionnaire.id,
            questionnaire.version,
            questionnaire_to_data(questionnaire),
            actor,
        )

    async def published_by(self, questionnaire_id: str, version: int) -> str | None:
        actor: str | None = await self.conn.fetchval(
            "SELECT published_by FROM questionnaires WHERE id = $1 AND version = $2",
            questionnaire_id,
            version,
        )
        return actor

    async def ids(self) -> list[str]:
        stored = await self.conn.fetch("SELECT DISTINCT id FROM questionnaires")
        return sorted(set(STOCK) | {r["id"] for r in stored})


class PostgresScheduleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, due: Due) -> None:
        await self.conn.execute(
            """INSERT INTO scheduled (id, case_id, case_number, customer_id, trigger,
                                      questionnaire_id, agent_id, team, due_at, campaign_id,
                                      not_after)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            due.id,
            due.case_id,
            due.case_number,
            due.customer_id,
            due.trigger,
            due.questionnaire_id,
            due.agent_id,
            due.team,
            due.due_at,
            due.campaign_id,
            due.not_after,
        )
        await self.conn.execute("SELECT pg_notify('surveys_due', '')")

    async def claim_due(self, now: datetime, limit: int) -> list[Due]:
        rows = await self.conn.fetch(
            """SELECT id, case_id, case_number, customer_id, trigger, questionnaire_id,
                      agent_id, team, due_at, campaign_id, not_after
               FROM scheduled WHERE done_at IS NULL AND due_at <= $1
               ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
        return [Due(**dict(row)) for row in rows]

    async def done(self, due_id: uuid.UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE scheduled SET done_at = $2 WHERE id = $1", due_id, at)

    async def next_due(self) -> datetime | None:
        value: datetime | None = await self.conn.fetchval(
            "SELECT min(due_at) FROM scheduled WHERE done_at IS NULL"
        )
        return value


class PostgresSuppressionsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, suppression: Suppression) -> None:
        await self.conn.execute(
            """INSERT INTO suppressions (id, customer_id, case_id, questionnaire_id, trigger,
                                         reason, detail, suppressed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            suppression.id,
            suppression.customer_id,
            suppression.case_id,
            suppression.questionnaire_id,
            suppression.trigger,
            suppression.reason,
            suppression.detail,
            suppression.suppressed_at,
        )

    async def list(
        self, *, customer_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None
    ) -> list[Suppression]:
        rows = await self.conn.fetch(
            """SELECT * FROM suppressions WHERE ($1::uuid IS NULL OR customer_id = $1)
               AND ($2::uuid IS NULL OR case_id = $2) ORDER BY suppressed_at""",
            customer_id,
            case_id,
        )
        return [Suppression(**dict(row)) for row in rows]


class PostgresUnitOfWork:
    """Surveys' repositories over the runtime's transaction (a route's or the inbox's)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.conn: Any = uow.conn
        self.cases: CasesRepository = PostgresCasesRepository(uow.conn)
        self.customers: CustomersRepository = PostgresCustomersRepository(uow.conn)
        self.campaigns: CampaignsRepository = PostgresCampaignsRepository(uow.conn)
        self.invitations: InvitationsRepository = PostgresInvitationsRepository(uow.conn)
        self.questionnaires: QuestionnairesRepository = PostgresQuestionnairesRepository(uow.conn)
        self.schedule: ScheduleRepository = PostgresScheduleRepository(uow.conn)
        self.suppressions: SuppressionsRepository = PostgresSuppressionsRepository(uow.conn)

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
