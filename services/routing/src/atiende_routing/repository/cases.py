"""Routing's copy of each case: the port the use cases see and its SQL."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from atiende_runtime.db import Connection

from ..domain.cases import CaseStatus, RoutedCase


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
