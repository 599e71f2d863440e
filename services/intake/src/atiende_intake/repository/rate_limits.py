"""Fixed-window rate limits shared by every replica (the public web form's per-address limit)."""

from __future__ import annotations

from datetime import datetime

from atiende_runtime.db import Connection


class PostgresRateLimitsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def hit(self, bucket: str, window_start: datetime) -> int:
        """Count one more hit in the bucket's window; the window's hits so far, this one
        included. Windows that ended are deleted on the way, so the table stays small."""
        await self.conn.execute("DELETE FROM rate_limits WHERE window_start < $1", window_start)
        hits: int = await self.conn.fetchval(
            """INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
               ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
               RETURNING hits""",
            bucket,
            window_start,
        )
        return hits
