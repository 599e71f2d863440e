"""Idempotency-Keys belong to a caller and a route, expire, and are pruned: seen through the real
intake (POST /cases) with authentication on, and on the runtime's own tables."""

from __future__ import annotations

import asyncio
import hashlib
from importlib import resources
from typing import Any

import asyncpg

from atiende_runtime import db, idempotency
from atiende_runtime.auth import mint_token

SECRET = "s3cret-long-enough-for-hs256-keys"
CASE = {
    "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
    "type": "complaint",
    "channel": "phone",
    "description": "The invoice is wrong",
}


def as_caller(subject: str, key: str) -> dict[str, str]:
    token = mint_token(SECRET, subject=subject, roles=["agent"])
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}


async def test_two_callers_with_the_same_key_get_their_own_answers(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        ana = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-1"))
        bob = await intake.client.post("/cases", json=CASE, headers=as_caller("bob", "k-1"))
        callers = await intake.runtime.pool.fetch(
            "SELECT caller FROM idempotency_keys WHERE key = 'k-1' ORDER BY caller"
        )

    assert ana.status_code == 201, ana.text
    assert bob.status_code == 201, bob.text
    assert "idempotent-replayed" not in bob.headers
    assert ana.json()["id"] != bob.json()["id"]
    assert [r["caller"] for r in callers] == ["ana", "bob"]


async def test_the_same_caller_replays_its_answer(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        first = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-2"))
        again = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-2"))
        cases = await intake.runtime.pool.fetchval("SELECT count(*) FROM cases")

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert cases == 1


async def test_without_authentication_the_caller_is_anonymous(service_factory: Any) -> None:
    async with service_factory("intake") as intake:
        first = await intake.client.post("/cases", json=CASE, headers={"Idempotency-Key": "k-3"})
        again = await intake.client.post("/cases", json=CASE, headers={"Idempotency-Key": "k-3"})
        caller = await intake.runtime.pool.fetchval(
            "SELECT caller FROM idempotency_keys WHERE key = 'k-3'"
        )

    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert caller == "anonymous"


async def test_an_expired_key_runs_again(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET, idempotency_ttl_hours=2) as intake:
        first = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-4"))
        ttl = await intake.runtime.pool.fetchval(
            "SELECT expires_at - created_at FROM idempotency_keys WHERE key = 'k-4'"
        )
        await intake.runtime.pool.execute(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
        )
        later = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-4"))
        replayed = await intake.client.post("/cases", json=CASE, headers=as_caller("ana", "k-4"))

    assert ttl.total_seconds() == 2 * 3600
    assert later.status_code == 201
    assert "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    # the key was claimed anew: it replays the second answer from now on
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["id"] == later.json()["id"]


async def add_key(pool: asyncpg.Pool, key: str, expires_in: str) -> None:
    await pool.execute(
        """INSERT INTO idempotency_keys
               (caller, scope, key, request_hash, status_code, response, expires_at)
           VALUES ('ana', 'POST /x', $1, 'h', 201, '{}', now() + $2::text::interval)""",
        key,
        expires_in,
    )


async def test_pruning_removes_expired_keys_only(pool: asyncpg.Pool) -> None:
    await add_key(pool, "old", "-1 hour")
    await add_key(pool, "fresh", "1 hour")

    async with pool.acquire() as conn:
        pruned = await idempotency.prune(conn)

    assert pruned == 1
    assert await pool.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["fresh"]


async def test_the_relays_housekeeping_prunes_expired_keys(
    pool: asyncpg.Pool, relay_for: Any
) -> None:
    await add_key(pool, "old", "-1 hour")
    relay = relay_for(poll_interval=0.1)
    await relay.start()
    try:
        for _ in range(100):
            if await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()

    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_scope_migration_applies_to_a_schema_with_keys_from_before(
    database_url: str,
) -> None:
    """A database that ran 001 and 002 (and holds a key) takes 003: the key becomes the
    anonymous caller's and expires a day after it was created."""
    schema = "before_scope"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(
            f"""CREATE TABLE {schema}.schema_migrations (name text PRIMARY KEY,
                checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        folder = resources.files(db.RUNTIME_MIGRATIONS).joinpath("migrations")
        for name in ("001_runtime.sql", "002_idempotency.sql"):
            sql = folder.joinpath(name).read_text(encoding="utf-8").replace("{schema}", schema)
            await conn.execute(sql)
            await conn.execute(
                f"INSERT INTO {schema}.schema_migrations (name, checksum) VALUES ($1, $2)",
                f"{db.RUNTIME_MIGRATIONS}/{name}",
                hashlib.sha256(sql.encode()).hexdigest(),
            )
        await conn.execute(
            f"""INSERT INTO {schema}.idempotency_keys (scope, key, request_hash, created_at)
                VALUES ('POST /cases', 'k', 'h', '2024-01-01T00:00:00Z')"""
        )

        applied = await db.migrate(database_url, schema, db.RUNTIME_MIGRATIONS)
        row = await conn.fetchrow(
            f"SELECT caller, expires_at - created_at AS ttl FROM {schema}.idempotency_keys"
        )
        key_columns = await conn.fetchval(
            """SELECT array_agg(a.attname::text ORDER BY a.attname)
               FROM pg_index i JOIN pg_attribute a
                 ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = $1::regclass AND i.indisprimary""",
            f"{schema}.idempotency_keys",
        )
    finally:
        await conn.close()

    assert applied == [f"{db.RUNTIME_MIGRATIONS}/003_idempotency_scope.sql"]
    assert row["caller"] == "anonymous"
    assert row["ttl"].total_seconds() == 24 * 3600
    assert key_columns == ["caller", "key", "scope"]
