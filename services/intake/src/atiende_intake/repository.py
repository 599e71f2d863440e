"""All of intake's SQL."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from atiende_runtime.db import Connection


class IntakeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def upsert_customer(self, name: str, email: str) -> uuid.UUID:
        """The customer with this email (case-insensitive), created if new; keeps the latest name."""
        customer_id: uuid.UUID = await self.conn.fetchval(
            """INSERT INTO customers (id, name, email) VALUES ($1, $2, lower($3))
               ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name
               RETURNING id""",
            uuid.uuid4(),
            name,
            email,
        )
        return customer_id

    async def next_case_sequence(self, year: int) -> int:
        """Next number of the year; the row lock serialises concurrent openings, so no gaps or
        repeats (a rolled-back transaction gives its number back)."""
        sequence: int = await self.conn.fetchval(
            """INSERT INTO case_number_counters (year, last) VALUES ($1, 1)
               ON CONFLICT (year) DO UPDATE SET last = case_number_counters.last + 1
               RETURNING last""",
            year,
        )
        return sequence

    async def insert_case(self, case: Any) -> None:
        await self.conn.execute(
            """INSERT INTO cases (id, number, customer_id, type, channel, description, opened_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            case.id,
            case.number,
            case.customer_id,
            case.type.value,
            case.channel.value,
            case.description,
            case.opened_at,
        )

    async def get_case(self, case_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            """SELECT c.*, cu.name AS customer_name, cu.email AS customer_email
               FROM cases c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1""",
            case_id,
        )
