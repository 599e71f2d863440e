"""The seven steps recorded on each case: the port and its SQL."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from atiende_runtime.db import Connection

from ..domain.steps import Step, StepRecord


class StepsRepository(Protocol):
    async def record(self, record: StepRecord) -> None:
        """Store a step; recording it again replaces the earlier record (the timeline keeps both)."""
        ...

    async def of_case(self, case_id: uuid.UUID) -> list[StepRecord]:
        """The case's steps in the order of the seven."""
        ...

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        """Every free text of the case's steps replaced by `placeholder`."""
        ...


def _record(row: asyncpg.Record) -> StepRecord:
    return StepRecord(
        case_id=row["case_id"],
        step=Step(row["step"]),
        text=row["text"],
        author=row["author"],
        recorded_at=row["recorded_at"],
        options=tuple(row["options"]),
        chosen=row["chosen"],
        commitment_id=row["commitment_id"],
        source=row["source"],
    )


ORDER = {step: index for index, step in enumerate(Step)}


class PostgresStepsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def record(self, record: StepRecord) -> None:
        await self.conn.execute(
            """INSERT INTO case_steps
                   (case_id, step, text, author, recorded_at, options, chosen, commitment_id, source)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (case_id, step) DO UPDATE SET
                   text = EXCLUDED.text, author = EXCLUDED.author,
                   recorded_at = EXCLUDED.recorded_at, options = EXCLUDED.options,
                   chosen = EXCLUDED.chosen, commitment_id = EXCLUDED.commitment_id,
                   source = EXCLUDED.source""",
            record.case_id,
            record.step.value,
            record.text,
            record.author,
            record.recorded_at,
            list(record.options),
            record.chosen,
            record.commitment_id,
            record.source,
        )

    async def of_case(self, case_id: uuid.UUID) -> list[StepRecord]:
        rows = await self.conn.fetch("SELECT * FROM case_steps WHERE case_id = $1", case_id)
        return sorted((_record(r) for r in rows), key=lambda r: ORDER[r.step])

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        await self.conn.execute(
            """UPDATE case_steps SET text = $2,
                      options = array_fill($2::text, ARRAY[cardinality(options)]),
                      chosen = CASE WHEN chosen IS NULL THEN NULL ELSE $2 END
               WHERE case_id = $1""",
            case_id,
            placeholder,
        )
