"""In-memory stand-ins for surveys' repositories and unit of work: use cases run on them in unit
tests, and the repository contract test holds them to what PostgreSQL does."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from atiende_contracts import Envelope, EventData
from atiende_runtime.erasure import Scrubbed
from atiende_surveys.domain import (
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
from atiende_surveys.repository import Due, ResultFilter, Suppression

PER_CASE_TRIGGERS = ("resolution", "closure")


class DuplicateResponse(Exception):
    """What the responses primary key raises in PostgreSQL."""


class FakeCasesRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, CaseFacts] = {}

    async def remember(self, case: CaseFacts) -> None:
        self.rows.setdefault(case.case_id, case)

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None:
        return self.rows.get(case_id)

    async def set_open(
        self,
        case_id: uuid.UUID,
        open: bool,
        *,
        agent_id: str | None = None,
        team: str | None = None,
    ) -> None:
        case = self.rows.get(case_id)
        if case is not None:
            self.rows[case_id] = replace(
                case, open=open, agent_id=agent_id or case.agent_id, team=team or case.team
            )

    async def has_other_open_complaint(self, customer_id: uuid.UUID, case_id: uuid.UUID) -> bool:
        return any(
            c.customer_id == customer_id
            and c.case_id != case_id
            and c.open
            and c.type == "complaint"
            for c in self.rows.values()
        )


class FakeCustomersRepository:
    def __init__(self, cases: FakeCasesRepository | None = None) -> None:
        self.cases = cases or FakeCasesRepository()
        self.rows: dict[uuid.UUID, CustomerFacts] = {}
        self.opt_outs: dict[uuid.UUID, set[str]] = {}
        self.contact_rows: list[tuple[uuid.UUID, uuid.UUID, Contact]] = []
        self.erased: dict[uuid.UUID, datetime] = {}

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        self.erased.setdefault(customer_id, at)
        await self.note(CustomerFacts(customer_id=customer_id, consent_surveys=False), at)

    async def is_erased(self, customer_id: uuid.UUID) -> bool:
        return customer_id in self.erased

    async def note(self, customer: CustomerFacts, at: datetime) -> None:
        known = self.rows.get(customer.customer_id)
        if known is None:
            self.rows[customer.customer_id] = replace(customer, opt_outs=frozenset())
            return
        self.rows[customer.customer_id] = replace(
            known,
            consent_surveys=known.consent_surveys
            if customer.consent_surveys is None
            else customer.consent_surveys,
            language=customer.language or known.language,
            formality=customer.formality or known.formality,
        )

    async def get(self, customer_id: uuid.UUID) -> CustomerFacts | None:
        known = self.rows.get(customer_id)
        scopes = frozenset(self.opt_outs.get(customer_id, ()))
        if known is None and not scopes:
            return None
        return replace(known or CustomerFacts(customer_id=customer_id), opt_outs=scopes)

    async def opt_out(self, customer_id: uuid.UUID, scope: str, at: datetime) -> bool:
        scopes = self.opt_outs.setdefault(customer_id, set())
        if scope in scopes:
            return False
        scopes.add(scope)
        return True

    async def contacts(self, customer_id: uuid.UUID) -> list[Contact]:
        return sorted(
            (contact for who, _, contact in self.contact_rows if who == customer_id),
            key=lambda contact: contact.at,
        )

    async def add_contact(
        self, customer_id: uuid.UUID, invitation_id: uuid.UUID, contact: Contact
    ) -> None:
        self.contact_rows.append((customer_id, invitation_id, contact))

    async def in_segment(self, segment: Segment, now: datetime) -> list[uuid.UUID]:
        def latest_case(customer_id: uuid.UUID) -> CaseFacts | None:
            theirs = [c for c in self.cases.rows.values() if c.customer_id == customer_id]
            return max(theirs, key=lambda c: c.opened_at, default=None)

        matching = []
        for customer in self.rows.values():
            last = latest_case(customer.customer_id)
            if segment.matches(
                language=customer.language or (last.language if last else None),
                tier=last.tier if last else None,
                last_contact=last.opened_at if last else None,
                now=now,
            ):
                matching.append(customer.customer_id)
        return sorted(matching)


class FakeCampaignsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Campaign] = {}

    async def add(self, campaign: Campaign) -> None:
        if campaign.id in self.rows:
            raise ValueError(f"campaign {campaign.id} already stored")
        self.rows[campaign.id] = campaign

    async def get(self, campaign_id: uuid.UUID) -> Campaign | None:
        return self.rows.get(campaign_id)


class FakeInvitationsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Invitation] = {}

    async def of_customer(
        self, customer_id: uuid.UUID, case_ids: Sequence[uuid.UUID]
    ) -> list[Invitation]:
        found = [
            i for i in self.rows.values() if i.customer_id == customer_id or i.case_id in case_ids
        ]
        return sorted(found, key=lambda i: i.invited_at)

    async def save_erased(self, invitation: Invitation) -> None:
        self.rows[invitation.id] = replace(
            self.rows[invitation.id],
            token_hash=invitation.token_hash,
            reminder_token_hash=invitation.reminder_token_hash,
            draft=invitation.draft,
            answers=invitation.answers,
        )

    async def add(self, invitation: Invitation) -> bool:
        if invitation.trigger in PER_CASE_TRIGGERS and await self.exists_for_case(
            invitation.case_id
        ):
            return False
        if invitation.id in self.rows or any(
            row.opened_by(invitation.token_hash) for row in self.rows.values()
        ):
            raise ValueError("duplicate invitation id or token hash")
        # what the INSERT stores: no answer (save_response's), no reminder, no draft yet
        self.rows[invitation.id] = replace(
            invitation,
            reminders=0,
            reminder_token_hash=None,
            draft={},
            answers=None,
            scores=None,
            answered_at=None,
        )
        return True

    async def exists_for_case(self, case_id: uuid.UUID) -> bool:
        return any(
            row.case_id == case_id and row.trigger in PER_CASE_TRIGGERS
            for row in self.rows.values()
        )

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None:
        return next((row for row in self.rows.values() if row.opened_by(token_hash)), None)

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        return sorted(
            (row for row in self.rows.values() if row.case_id == case_id),
            key=lambda row: row.invited_at,
        )

    async def save_status(self, invitation: Invitation) -> None:
        if invitation.id in self.rows:
            self.rows[invitation.id] = replace(
                self.rows[invitation.id],
                status=invitation.status,
                reminders=invitation.reminders,
                reminder_token_hash=invitation.reminder_token_hash
                or self.rows[invitation.id].reminder_token_hash,
                draft=dict(invitation.draft),
            )

    async def save_response(self, invitation: Invitation) -> None:
        if invitation.answers is None:
            raise ValueError(f"invitation {invitation.id} has no answer to save")
        stored = self.rows[invitation.id]
        if stored.answered_at is not None:
            raise DuplicateResponse(invitation.id)
        self.rows[invitation.id] = replace(
            stored,
            status=invitation.status,
            reminders=invitation.reminders,
            draft=dict(invitation.draft),
            answers=dict(invitation.answers),
            scores=dict(invitation.scores or {}),
            answered_at=invitation.answered_at,
        )

    async def overdue(self, now: datetime, limit: int) -> list[Invitation]:
        due = [
            row
            for row in self.rows.values()
            if row.status is InvitationStatus.PENDING and row.expires_at <= now
        ]
        return sorted(due, key=lambda row: row.expires_at)[:limit]

    async def to_remind(self, invited_before: datetime, limit: int) -> list[Invitation]:
        # like the SQL, "not expired" is judged by the wall clock (now()), not the caller's now
        wall_clock = datetime.now(UTC)
        due = [
            row
            for row in self.rows.values()
            if row.status is InvitationStatus.PENDING
            and row.reminders == 0
            and row.invited_at <= invited_before
            and row.expires_at > wall_clock
        ]
        return sorted(due, key=lambda row: row.invited_at)[:limit]

    async def answered(self, where: ResultFilter) -> list[Invitation]:
        def matches(row: Invitation) -> bool:
            assert row.answered_at is not None
            return (
                (where.questionnaire_id is None or row.questionnaire_id == where.questionnaire_id)
                and (where.case_id is None or row.case_id == where.case_id)
                and (where.customer_id is None or row.customer_id == where.customer_id)
                and (where.agent_id is None or row.agent_id == where.agent_id)
                and (where.team is None or row.team == where.team)
                and (where.since is None or row.answered_at >= where.since)
                and (where.until is None or row.answered_at < where.until)
            )

        answered = [row for row in self.rows.values() if row.answered_at is not None]
        return sorted(filter(matches, answered), key=lambda row: row.answered_at or row.invited_at)


class FakeQuestionnairesRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Questionnaire] = {}
        self.publishers: dict[tuple[str, int], str | None] = {}

    async def latest(self, questionnaire_id: str) -> Questionnaire | None:
        versions = [q for (qid, _), q in self.rows.items() if qid == questionnaire_id]
        if not versions:
            return STOCK.get(questionnaire_id)
        return max(versions, key=lambda q: q.version)

    async def version(self, questionnaire_id: str, version: int) -> Questionnaire | None:
        stored = self.rows.get((questionnaire_id, version))
        if stored is not None:
            return stored
        stock = STOCK.get(questionnaire_id)
        return stock if stock is not None and stock.version == version else None

    async def add(self, questionnaire: Questionnaire, actor: str | None) -> None:
        key = (questionnaire.id, questionnaire.version)
        if key in self.rows:
            raise ValueError(f"questionnaire {key} already stored")
        self.rows[key] = questionnaire
        self.publishers[key] = actor

    async def published_by(self, questionnaire_id: str, version: int) -> str | None:
        return self.publishers.get((questionnaire_id, version))

    async def ids(self) -> list[str]:
        return sorted(set(STOCK) | {qid for qid, _ in self.rows})


class FakeScheduleRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Due] = {}
        self.done_at: dict[uuid.UUID, datetime] = {}

    async def add(self, due: Due) -> None:
        self.rows[due.id] = due

    async def claim_due(self, now: datetime, limit: int) -> list[Due]:
        due = [d for d in self.rows.values() if d.id not in self.done_at and d.due_at <= now]
        return sorted(due, key=lambda d: d.due_at)[:limit]

    async def done(self, due_id: uuid.UUID, at: datetime) -> None:
        self.done_at[due_id] = at

    async def next_due(self) -> datetime | None:
        pending = [d.due_at for d in self.rows.values() if d.id not in self.done_at]
        return min(pending, default=None)


class FakeSuppressionsRepository:
    def __init__(self) -> None:
        self.rows: list[Suppression] = []

    async def add(self, suppression: Suppression) -> None:
        self.rows.append(suppression)

    async def list(
        self, *, customer_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None
    ) -> list[Suppression]:
        return sorted(
            (
                s
                for s in self.rows
                if (customer_id is None or s.customer_id == customer_id)
                and (case_id is None or s.case_id == case_id)
            ),
            key=lambda s: s.suppressed_at,
        )


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.cases = FakeCasesRepository()
        self.customers = FakeCustomersRepository(self.cases)
        self.campaigns = FakeCampaignsRepository()
        self.invitations = FakeInvitationsRepository()
        self.questionnaires = FakeQuestionnairesRepository()
        self.schedule = FakeScheduleRepository()
        self.suppressions = FakeSuppressionsRepository()
        self.emitted: list[EventData] = []
        self.subjects: list[str | uuid.UUID | None] = []
        self.scrubbed: list[tuple[frozenset[str], frozenset[str]]] = []

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        self.emitted.append(data)
        self.subjects.append(subject)
        return None

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """No outbox here: records which subjects and keys it was asked to scrub."""
        self.scrubbed.append((frozenset(map(str, subjects)), frozenset(free_text)))
        return Scrubbed(0, 0)
