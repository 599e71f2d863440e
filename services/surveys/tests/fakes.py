"""In-memory stand-ins for surveys' repositories and unit of work: use cases run on them in unit
tests, and the repository contract test holds them to what PostgreSQL does."""

from __future__ import annotations

import uuid
from dataclasses import replace

from atiende_contracts import Envelope, EventData
from atiende_surveys.domain import CaseFacts, Invitation, InvitationStatus


class FakeCasesRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, CaseFacts] = {}

    async def remember(self, case: CaseFacts) -> None:
        self.rows.setdefault(case.case_id, case)

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None:
        return self.rows.get(case_id)


class DuplicateResponse(Exception):
    """What the responses primary key raises in PostgreSQL."""


class FakeInvitationsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Invitation] = {}

    async def add(self, invitation: Invitation) -> bool:
        if invitation.status is InvitationStatus.PENDING and any(
            row.case_id == invitation.case_id and row.status is InvitationStatus.PENDING
            for row in self.rows.values()
        ):
            return False
        if invitation.id in self.rows or any(
            row.token_hash == invitation.token_hash for row in self.rows.values()
        ):
            raise ValueError("duplicate invitation id or token hash")
        # a stored invitation has no answer yet: that is save_response's
        self.rows[invitation.id] = replace(invitation, answer=None, answered_at=None)
        return True

    async def pending_for_case_for_update(self, case_id: uuid.UUID) -> Invitation | None:
        return next(
            (
                row
                for row in self.rows.values()
                if row.case_id == case_id and row.status is InvitationStatus.PENDING
            ),
            None,
        )

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None:
        return next((row for row in self.rows.values() if row.token_hash == token_hash), None)

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        return sorted(
            (row for row in self.rows.values() if row.case_id == case_id),
            key=lambda row: row.invited_at,
        )

    async def save_status(self, invitation: Invitation) -> None:
        if invitation.id in self.rows:
            self.rows[invitation.id] = replace(self.rows[invitation.id], status=invitation.status)

    async def save_response(self, invitation: Invitation) -> None:
        if invitation.answer is None:
            raise ValueError(f"invitation {invitation.id} has no answer to save")
        stored = self.rows[invitation.id]
        if stored.answer is not None:
            raise DuplicateResponse(invitation.id)
        self.rows[invitation.id] = replace(
            stored,
            status=invitation.status,
            answer=invitation.answer,
            answered_at=invitation.answered_at,
        )


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.cases = FakeCasesRepository()
        self.invitations = FakeInvitationsRepository()
        self.emitted: list[EventData] = []
        self.subjects: list[str | uuid.UUID | None] = []

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        self.emitted.append(data)
        self.subjects.append(subject)
        return None
