"""What other services said about cases, kept for customers' histories."""

from __future__ import annotations

from atiende_runtime.db import Connection

from ..domain.history import CaseFact


class PostgresCaseFactsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def keep(self, fact: CaseFact) -> None:
        """Keep a fact once (a redelivered event is the same row)."""
        await self.conn.execute(
            """INSERT INTO case_facts (event_id, case_id, event_type, summary, details, at)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING""",
            fact.event_id,
            fact.case_id,
            fact.event_type,
            fact.summary,
            fact.details,
            fact.at,
        )
