"""Transaction-level advisory locks on natural keys (an identity, an email's Message-ID)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from atiende_runtime.db import Connection

NaturalKey = tuple[str, ...]


def serialisation_key(*parts: str) -> int:
    """A PostgreSQL advisory-lock key (signed 64-bit) for a natural key such as an identity.
    Two different natural keys sharing a lock key only wait for each other needlessly."""
    digest = hashlib.sha256("\x1f".join(("atiende.intake", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def hold_advisory_locks(conn: Connection, keys: Iterable[int]) -> None:
    """Wait for, then hold until commit, a transaction-level advisory lock per key. Taken in
    ascending order, so two transactions wanting overlapping keys cannot deadlock."""
    for key in sorted(set(keys)):
        await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


class PostgresLocks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def hold(self, natural_keys: Iterable[NaturalKey]) -> None:
        await hold_advisory_locks(self.conn, (serialisation_key(*key) for key in natural_keys))
