"""PostgreSQL: the connection pool and plain-SQL migrations applied under an advisory lock.

Each service owns one schema named after it; its pool's search_path points there, so a service's
SQL never names (or reaches) another service's schema.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from importlib.abc import Traversable

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

RUNTIME_MIGRATIONS = "atiende_runtime"

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection, or a pool's proxy for one: what repositories take."""


def _json_text(value: object) -> str:
    encoded: bytes = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return encoded.decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=_json_text, decoder=orjson.loads, schema="pg_catalog"
    )
    await conn.set_type_codec("json", encoder=_json_text, decoder=orjson.loads, schema="pg_catalog")


async def _release_without_reset(conn: asyncpg.Connection) -> None:
    """No reset round trip when a connection goes back to the pool. asyncpg still rolls back a
    transaction left open; no service leaves other session state behind (no session-level
    advisory locks, SET, LISTEN or open cursors on pool connections: workers LISTEN on a
    connection of their own), so the reset query (RESET ALL, UNLISTEN *, ...) would find
    nothing to do, one round trip per unit of work."""


async def create_pool(
    url: str, schema: str, *, min_size: int = 2, max_size: int = 10
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_release_without_reset,
        server_settings={
            "search_path": f"{schema},public",
            "application_name": f"atiende-{schema}",
        },
    )
    assert pool is not None
    return pool


async def connect(url: str, schema: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(
        url,
        server_settings={
            "search_path": f"{schema},public",
            "application_name": f"atiende-{schema}",
        },
    )
    await _init_connection(conn)
    return conn


def _admin_url(url: str) -> tuple[str, str]:
    """Split a database URL into (same server's `postgres` database URL, database name)."""
    base, _, rest = url.rpartition("/")
    name, _, query = rest.partition("?")
    admin = f"{base}/postgres" + (f"?{query}" if query else "")
    return admin, name


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist (safe when raced)."""
    admin_url, name = _admin_url(url)
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                log.info("database created", extra={"database": name})
            # a concurrent CREATE DATABASE usually loses on pg_database's unique index rather
            # than with "already exists"
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass
    finally:
        await conn.close()


def _sql_files(package: str) -> list[Traversable]:
    folder = resources.files(package).joinpath("migrations")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


async def migrate(url: str, schema: str, package: str) -> list[str]:
    """Apply the runtime's and then `package`'s migrations to `schema`; returns names applied.

    A transaction-level advisory lock keyed on the schema serialises concurrent replicas: the
    second waits, then finds everything applied. An applied file whose text changed is refused.
    """
    applied_now: list[str] = []
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))", f"atiende.migrate.{schema}"
            )
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
                        name text PRIMARY KEY,
                        checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done: dict[str, str] = {
                r["name"]: r["checksum"]
                for r in await conn.fetch(
                    f'SELECT name, checksum FROM "{schema}".schema_migrations'
                )
            }
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            for pkg in dict.fromkeys([RUNTIME_MIGRATIONS, package]):
                for file in _sql_files(pkg):
                    name = f"{pkg}/{file.name}"
                    sql = file.read_text(encoding="utf-8").replace("{schema}", schema)
                    checksum = hashlib.sha256(sql.encode()).hexdigest()
                    if name in done:
                        if done[name] != checksum:
                            raise RuntimeError(f"migration {name} changed after it was applied")
                        continue
                    await conn.execute(sql)
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (name, checksum) VALUES ($1, $2)',
                        name,
                        checksum,
                    )
                    applied_now.append(name)
    finally:
        await conn.close()
    if applied_now:
        log.info("migrations applied", extra={"schema": schema, "migrations": applied_now})
    return applied_now
