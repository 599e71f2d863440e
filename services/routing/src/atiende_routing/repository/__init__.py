"""All of routing's SQL, behind the ports the use cases see (CasesRepository, UnitOfWork)."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from atiende_contracts import Envelope, EventData
from atiende_runtime.db import Connection
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..domain.cases import CaseStatus, RoutedCase

# --- ports -------------------------------------------------------------------------------------


class CasesRepository(Protocol):
    async def add(self, case: RoutedCase) -> bool:
        """Store a new case; False if it was already known."""
        ...

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None: ...

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        """The case, locked until the unit of work ends (its changes are then not lost)."""
        ...

    async def save_assignment(self, case: RoutedCase) -> None: ...

    async def save_resolution(self, case: RoutedCase) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: the repositories it hands out and the events it emits commit together."""

    @property
    def cases(self) -> CasesRepository: ...

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None: ...


# --- PostgreSQL --------------------------------------------------------------------------------


def _case(row: asyncpg.Record) -> RoutedCase:
    return RoutedCase(
        id=row["id"],
        number=row["number"],
        type=row["type"],
        status=CaseStatus(row["status"]),
        opened_at=row["opened_at"],
        team=row["team"],
        assigned_at=row["assigned_at"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
    )


class PostgresCasesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, case: RoutedCase) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO cases (id, number, type, status, opened_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (id) DO NOTHING RETURNING true""",
            case.id,
            case.number,
            case.type,
            case.status.value,
            case.opened_at,
        )
        return bool(inserted)

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None:
        row = await self.conn.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
        return _case(row) if row else None

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        row = await self.conn.fetchrow("SELECT * FROM cases WHERE id = $1 FOR UPDATE", case_id)
        return _case(row) if row else None

    async def save_assignment(self, case: RoutedCase) -> None:
        # `assignments` counts assignments made: the reliability tests assert exactly one per case
        await self.conn.execute(
            """UPDATE cases SET status = $2, team = $3, assigned_at = $4, assignments = assignments + 1
               WHERE id = $1""",
            case.id,
            case.status.value,
            case.team,
            case.assigned_at,
        )

    async def save_resolution(self, case: RoutedCase) -> None:
        await self.conn.execute(
            "UPDATE cases SET status = $2, resolved_at = $3, resolution = $4 WHERE id = $1",
            case.id,
            case.status.value,
            case.resolved_at,
            case.resolution,
        )


class PostgresUnitOfWork:
    """Routing's repositories on the runtime's unit of work (a route's or the inbox's transaction)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.cases = PostgresCasesRepository(uow.conn)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> Envelope:
        return await self._uow.emit(data, subject=subject)
