"""The email channel's SQL: which case each email notifications sent was about."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from atiende_runtime.db import Connection


class PostgresSentEmailsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def remember(self, delivery_id: uuid.UUID, case_id: uuid.UUID, sent_at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO sent_emails (delivery_id, case_id, sent_at) VALUES ($1, $2, $3)
               ON CONFLICT (delivery_id) DO NOTHING""",
            delivery_id,
            case_id,
            sent_at,
        )

    async def case_number_of(self, delivery_ids: Sequence[uuid.UUID]) -> str | None:
        """The number of the case the first known delivery (in the order given) was about."""
        if not delivery_ids:
            return None
        number: str | None = await self.conn.fetchval(
            """SELECT c.number FROM unnest($1::uuid[]) WITH ORDINALITY AS d(id, position)
               JOIN sent_emails s ON s.delivery_id = d.id JOIN cases c ON c.id = s.case_id
               ORDER BY d.position LIMIT 1""",
            list(delivery_ids),
        )
        return number
