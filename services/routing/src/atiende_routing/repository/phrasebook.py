"""The managed phrasebook: port and SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from atiende_runtime.db import Connection
from atiende_runtime.languages import Register

from ..domain.phrasebook import Phrase


class PhrasebookRepository(Protocol):
    async def phrases(
        self, language: str | None = None, register: str | None = None
    ) -> list[Phrase]: ...

    async def replace(self, language: str, register: str, phrases: Sequence[Phrase]) -> None:
        """The list for one language and register becomes exactly `phrases`."""
        ...


class PostgresPhrasebookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def phrases(
        self, language: str | None = None, register: str | None = None
    ) -> list[Phrase]:
        rows = await self.conn.fetch(
            """SELECT * FROM phrasebook
               WHERE ($1::text IS NULL OR language = $1) AND ($2::text IS NULL OR register = $2)
               ORDER BY language, register, position""",
            language,
            register,
        )
        return [
            Phrase(r["language"], Register(r["register"]), r["position"], r["text"]) for r in rows
        ]

    async def replace(self, language: str, register: str, phrases: Sequence[Phrase]) -> None:
        await self.conn.execute(
            "DELETE FROM phrasebook WHERE language = $1 AND register = $2", language, register
        )
        await self.conn.executemany(
            "INSERT INTO phrasebook (language, register, position, text) VALUES ($1, $2, $3, $4)",
            [(p.language, p.register.value, p.position, p.text) for p in phrases],
        )
