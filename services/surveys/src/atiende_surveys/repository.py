"""All of surveys' SQL, behind the ports its use cases see (the repository Protocols and the
UnitOfWork Protocol); every method returns domain objects."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from atiende_contracts import Envelope, EventData
from atiende_runtime.db import Connection
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .domain import Answer, CaseFacts, Invitation, InvitationStatus

# --- ports --------------------------------------------------------------------------------------


class CasesRepository(Protocol):
    async def remember(self, case: CaseFacts) -> None:
        """Keep a case's facts; the first report of a case wins."""

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None: ...


class InvitationsRepository(Protocol):
    async def add(self, invitation: Invitation) -> bool:
        """Store a new pending invitation; False if the case already has a pending one."""

    async def pending_for_case_for_update(self, case_id: uuid.UUID) -> Invitation | None:
        """The case's pending invitation, locked until the transaction ends."""

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None: ...

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        """A case's invitations, oldest first."""

    async def save_status(self, invitation: Invitation) -> None: ...

    async def save_response(self, invitation: Invitation) -> None:
        """Store an answered invitation's status and answer; a second answer is refused."""


class UnitOfWork(Protocol):
    """One transaction: the repositories, and the events that commit with their changes."""

    cases: CasesRepository
    invitations: InvitationsRepository

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None: ...


# --- PostgreSQL ---------------------------------------------------------------------------------


class PostgresCasesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def remember(self, case: CaseFacts) -> None:
        await self.conn.execute(
            """INSERT INTO cases (case_id, case_number, customer_id, language, opened_at)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id) DO NOTHING""",
            case.case_id,
            case.case_number,
            case.customer_id,
            case.language,
            case.opened_at,
        )

    async def get(self, case_id: uuid.UUID) -> CaseFacts | None:
        row = await self.conn.fetchrow(
            """SELECT case_id, case_number, customer_id, language, opened_at
               FROM cases WHERE case_id = $1""",
            case_id,
        )
        return CaseFacts(**dict(row)) if row else None


_SELECT = """
SELECT i.*, r.satisfaction, r.comment, r.answered_at
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
        answer=Answer(row["satisfaction"], row["comment"]) if answered else None,
        answered_at=row["answered_at"],
    )


class PostgresInvitationsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, invitation: Invitation) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO invitations
                   (id, case_id, case_number, token_hash, status, invited_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (case_id) WHERE status = 'pending' DO NOTHING
               RETURNING true""",
            invitation.id,
            invitation.case_id,
            invitation.case_number,
            invitation.token_hash,
            invitation.status.value,
            invitation.invited_at,
            invitation.expires_at,
        )
        return bool(inserted)

    async def pending_for_case_for_update(self, case_id: uuid.UUID) -> Invitation | None:
        row = await self.conn.fetchrow(
            f"{_SELECT} WHERE i.case_id = $1 AND i.status = 'pending' FOR UPDATE OF i", case_id
        )
        return _invitation(row) if row else None

    async def by_token_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> Invitation | None:
        # FOR UPDATE OF i: the invitation row is the lock that serialises two answers to it
        lock = " FOR UPDATE OF i" if for_update else ""
        row = await self.conn.fetchrow(f"{_SELECT} WHERE i.token_hash = $1{lock}", token_hash)
        return _invitation(row) if row else None

    async def for_case(self, case_id: uuid.UUID) -> list[Invitation]:
        rows = await self.conn.fetch(
            f"{_SELECT} WHERE i.case_id = $1 ORDER BY i.invited_at", case_id
        )
        return [_invitation(row) for row in rows]

    async def save_status(self, invitation: Invitation) -> None:
        await self.conn.execute(
            "UPDATE invitations SET status = $2 WHERE id = $1",
            invitation.id,
            invitation.status.value,
        )

    async def save_response(self, invitation: Invitation) -> None:
        # the responses primary key refuses a second answer
        if invitation.answer is None:
            raise ValueError(f"invitation {invitation.id} has no answer to save")
        await self.save_status(invitation)
        await self.conn.execute(
            """INSERT INTO responses (invitation_id, satisfaction, comment, answered_at)
               VALUES ($1, $2, $3, $4)""",
            invitation.id,
            invitation.answer.satisfaction,
            invitation.answer.comment,
            invitation.answered_at,
        )


class PostgresUnitOfWork:
    """Surveys' repositories over the runtime's transaction (a route's or the inbox's)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.cases: CasesRepository = PostgresCasesRepository(uow.conn)
        self.invitations: InvitationsRepository = PostgresInvitationsRepository(uow.conn)

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        return await self._uow.emit(data, subject=subject)
