"""Commitments made on cases, and their escalation history: ports and SQL."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from atiende_contracts import Channel, Rank
from atiende_runtime.db import Connection

from ..domain.commitments import Commitment, CommitmentState
from ..domain.escalation import EscalationRecord


class CommitmentsRepository(Protocol):
    async def add(self, commitment: Commitment) -> None: ...

    async def get(
        self, commitment_id: uuid.UUID, *, for_update: bool = False
    ) -> Commitment | None: ...

    async def save(self, commitment: Commitment) -> None: ...

    async def of_case(self, case_id: uuid.UUID) -> list[Commitment]:
        """By due time."""
        ...

    async def move(
        self, from_case: uuid.UUID, to_case: uuid.UUID, to_number: str
    ) -> list[Commitment]:
        """The open commitments of `from_case` now belong to `to_case` (a merge); returns them."""
        ...

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None: ...


class EscalationsRepository(Protocol):
    async def add(self, record: EscalationRecord) -> None: ...

    async def of_case(self, case_id: uuid.UUID) -> list[EscalationRecord]: ...

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None: ...


def _commitment(row: asyncpg.Record) -> Commitment:
    return Commitment(
        id=row["id"],
        case_id=row["case_id"],
        case_number=row["case_number"],
        description=row["description"],
        owner_id=row["owner_id"],
        due_at=row["due_at"],
        made_at=row["made_at"],
        to_whom=row["to_whom"],
        owner_email=row["owner_email"],
        channel=Channel(row["channel"]) if row["channel"] else None,
        state=CommitmentState(row["state"]),
        reminded_at=row["reminded_at"],
        kept_at=row["kept_at"],
        missed_at=row["missed_at"],
        actor=row["actor"],
    )


class PostgresCommitmentsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, commitment: Commitment) -> None:
        c = commitment
        await self.conn.execute(
            """INSERT INTO commitments (id, case_id, case_number, description, owner_id, owner_email,
                   to_whom, channel, due_at, made_at, state, reminded_at, kept_at, missed_at, actor)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)""",
            c.id,
            c.case_id,
            c.case_number,
            c.description,
            c.owner_id,
            c.owner_email,
            c.to_whom,
            c.channel.value if c.channel else None,
            c.due_at,
            c.made_at,
            c.state.value,
            c.reminded_at,
            c.kept_at,
            c.missed_at,
            c.actor,
        )

    async def get(self, commitment_id: uuid.UUID, *, for_update: bool = False) -> Commitment | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(
            f"SELECT * FROM commitments WHERE id = $1{lock}", commitment_id
        )
        return _commitment(row) if row else None

    async def save(self, commitment: Commitment) -> None:
        c = commitment
        await self.conn.execute(
            """UPDATE commitments SET state = $2, reminded_at = $3, kept_at = $4, missed_at = $5,
                      description = $6 WHERE id = $1""",
            c.id,
            c.state.value,
            c.reminded_at,
            c.kept_at,
            c.missed_at,
            c.description,
        )

    async def of_case(self, case_id: uuid.UUID) -> list[Commitment]:
        rows = await self.conn.fetch(
            "SELECT * FROM commitments WHERE case_id = $1 ORDER BY due_at, id", case_id
        )
        return [_commitment(r) for r in rows]

    async def move(
        self, from_case: uuid.UUID, to_case: uuid.UUID, to_number: str
    ) -> list[Commitment]:
        rows = await self.conn.fetch(
            """UPDATE commitments SET case_id = $2, case_number = $3
               WHERE case_id = $1 AND state = 'open' RETURNING *""",
            from_case,
            to_case,
            to_number,
        )
        return [_commitment(r) for r in rows]

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        await self.conn.execute(
            """UPDATE commitments SET description = $2,
                      to_whom = CASE WHEN to_whom IS NULL THEN NULL ELSE $2 END
               WHERE case_id = $1""",
            case_id,
            placeholder,
        )


class PostgresEscalationsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, record: EscalationRecord) -> None:
        await self.conn.execute(
            """INSERT INTO escalations (case_id, level, reason, responsible_id, actor, note, direction, at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            record.case_id,
            record.level.value,
            record.reason,
            record.responsible_id,
            record.actor,
            record.note,
            record.direction,
            record.at,
        )

    async def of_case(self, case_id: uuid.UUID) -> list[EscalationRecord]:
        rows = await self.conn.fetch(
            "SELECT * FROM escalations WHERE case_id = $1 ORDER BY id", case_id
        )
        return [
            EscalationRecord(
                case_id=r["case_id"],
                level=Rank(r["level"]),
                reason=r["reason"],
                responsible_id=r["responsible_id"],
                at=r["at"],
                actor=r["actor"],
                note=r["note"],
                direction=r["direction"],
            )
            for r in rows
        ]

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        await self.conn.execute(
            "UPDATE escalations SET note = $2 WHERE case_id = $1 AND note IS NOT NULL",
            case_id,
            placeholder,
        )
