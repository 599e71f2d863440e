"""Plain-SQL migrations: applied once, serialised across replicas, refused when edited afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from importlib import resources

import asyncpg
import pytest

from atiende_runtime import db

RUNTIME_FILE = "atiende_runtime/001_runtime.sql"
RUNTIME_FILES = sorted(
    f"atiende_runtime/{f.name}"
    for f in resources.files("atiende_runtime").joinpath("migrations").iterdir()
    if f.name.endswith(".sql")
)


async def applied_rows(database_url: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f'SELECT name FROM "{schema}".schema_migrations ORDER BY name')
    finally:
        await conn.close()
    return [row["name"] for row in rows]


async def test_second_run_applies_nothing(database_url: str) -> None:
    first = await db.migrate(database_url, "svc", "atiende_runtime")
    second = await db.migrate(database_url, "svc", "atiende_runtime")

    assert first == RUNTIME_FILES
    assert second == []
    assert await applied_rows(database_url, "svc") == RUNTIME_FILES


async def test_service_migrations_run_after_the_runtimes_in_the_service_schema(
    database_url: str,
) -> None:
    applied = await db.migrate(database_url, "intake", "atiende_intake")

    assert applied[0] == RUNTIME_FILE
    assert "atiende_intake/001_init.sql" in applied
    conn = await asyncpg.connect(database_url)
    try:
        tables = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'intake'"
            )
        }
    finally:
        await conn.close()
    # unqualified names in the service's SQL land in its own schema, beside the runtime's tables
    assert {"outbox", "inbox", "schema_migrations", "cases", "customers"} <= tables


async def test_concurrent_replicas_apply_each_file_once(database_url: str) -> None:
    results = await asyncio.gather(
        *(db.migrate(database_url, "svc", "atiende_runtime") for _ in range(4))
    )

    # the advisory lock lets one replica apply; the others wait, then find everything applied
    assert sorted(results, key=len) == [[], [], [], RUNTIME_FILES]
    assert await applied_rows(database_url, "svc") == RUNTIME_FILES


async def test_schemas_migrate_concurrently_without_interfering(database_url: str) -> None:
    results = await asyncio.gather(
        *(db.migrate(database_url, schema, "atiende_runtime") for schema in ("one", "two", "three"))
    )

    assert results == [RUNTIME_FILES] * 3


async def test_applied_migration_that_changed_is_refused(database_url: str) -> None:
    await db.migrate(database_url, "svc", "atiende_runtime")
    conn = await asyncpg.connect(database_url)
    try:
        # what an edited file looks like to the runner: its checksum no longer matches
        await conn.execute(
            "UPDATE svc.schema_migrations SET checksum = 'edited' WHERE name = $1", RUNTIME_FILE
        )
    finally:
        await conn.close()

    with pytest.raises(
        RuntimeError, match=f"migration {RUNTIME_FILE} changed after it was applied"
    ):
        await db.migrate(database_url, "svc", "atiende_runtime")


@pytest.fixture
async def missing_database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """The URL of a database that does not exist yet; dropped afterwards if a test created it."""
    name = f"atiende_test_{uuid.uuid4().hex[:12]}"
    base, _, _ = pg_admin_url.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_ensure_database_creates_a_missing_database(missing_database_url: str) -> None:
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(missing_database_url)

    await db.ensure_database(missing_database_url)
    await db.ensure_database(missing_database_url)  # existing: nothing to do

    conn = await asyncpg.connect(missing_database_url)
    await conn.close()


async def test_ensure_database_is_safe_when_services_start_together(
    missing_database_url: str,
) -> None:
    await asyncio.gather(*(db.ensure_database(missing_database_url) for _ in range(5)))

    conn = await asyncpg.connect(missing_database_url)
    await conn.close()
