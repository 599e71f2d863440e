"""Each service logs into PostgreSQL as its own role, which owns its schema and is refused every
other schema: a compromised or buggy service reaches its own data only (docs/security.md).

Every in-process service and every cluster of the suite runs as its role (the plugin and the
harness give each service `atiende_<name>` and the test's administrative URL only to create it),
so the whole suite proves the services work under their roles; this file proves the refusals.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from atiende_runtime import db
from atiende_testing import SERVICE_NAMES

PAIRS = [("routing", "intake"), ("notifications", "surveys"), ("intake", "routing")]
"""(the service trying, the schema it must not reach)."""

RUNTIME_TABLES = ("outbox", "inbox", "idempotency_keys", "schema_migrations")


async def tables_of(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
    )
    return [r["tablename"] for r in rows]


async def refused(conn: Any, sql: str) -> str:
    """The error message PostgreSQL answers `sql` with; fails when it is not refused."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as refusal:
        await conn.execute(sql)
    return str(refusal.value)


@pytest.fixture
async def running(service_factory: Any) -> AsyncIterator[dict[str, Any]]:
    """The five services started in this process, each on its own role."""
    started: dict[str, Any] = {}
    contexts = []
    try:
        for name in SERVICE_NAMES:
            context = service_factory(name, database_pool_min=1, database_pool_max=2)
            started[name] = await context.__aenter__()
            contexts.append(context)
        yield started
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


async def test_each_service_logs_in_as_its_role_and_owns_everything_in_its_schema(
    running: dict[str, Any], database_url: str
) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        for name, svc in running.items():
            role = db.service_role(name)
            async with svc.runtime.pool.acquire() as conn:
                assert await conn.fetchval("SELECT current_user") == role
                assert not await conn.fetchval(
                    "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls"
                    " FROM pg_roles WHERE rolname = current_user"
                )
            assert set(RUNTIME_TABLES) <= set(await tables_of(admin, name))
            foreign = await admin.fetch(
                """SELECT kind, name, owner FROM (
                       SELECT 'relation' kind, c.relname::text name,
                              pg_get_userbyid(c.relowner) owner
                       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = $1
                       UNION ALL
                       SELECT 'function', p.proname::text, pg_get_userbyid(p.proowner)
                       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE n.nspname = $1
                       UNION ALL
                       SELECT 'type', t.typname::text, pg_get_userbyid(t.typowner)
                       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                       WHERE n.nspname = $1
                       UNION ALL
                       SELECT 'schema', nspname::text, pg_get_userbyid(nspowner)
                       FROM pg_namespace WHERE nspname = $1
                   ) o WHERE owner <> $2""",
                name,
                role,
            )
            assert foreign == [], f"{name}: objects not owned by {role}: {foreign}"
            # nothing granted to anyone else (PUBLIC included) on the schema or anything in it
            grantees = await admin.fetch(
                """SELECT DISTINCT a.grantee::regrole::text AS grantee, o.what
                   FROM (SELECT 'schema ' || nspname AS what,
                                coalesce(nspacl, acldefault('n', nspowner)) AS acl,
                                nspowner AS owner
                         FROM pg_namespace WHERE nspname = $1
                         UNION ALL
                         SELECT 'relation ' || c.relname,
                                coalesce(c.relacl, acldefault('r', c.relowner)), c.relowner
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = $1
                         UNION ALL
                         SELECT 'function ' || p.proname,
                                coalesce(p.proacl, acldefault('f', p.proowner)), p.proowner
                         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = $1) o,
                        aclexplode(o.acl) a
                   WHERE a.grantee <> o.owner""",
                name,
            )
            assert grantees == [], f"{name}: privileges granted to others: {grantees}"
    finally:
        await admin.close()


@pytest.mark.parametrize(("service", "schema"), PAIRS)
async def test_a_service_is_refused_another_services_tables(
    running: dict[str, Any], database_url: str, service: str, schema: str
) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        tables = await tables_of(admin, schema)
    finally:
        await admin.close()
    assert set(RUNTIME_TABLES) <= set(tables)

    async with running[service].runtime.pool.acquire() as conn:
        for table in tables:
            target = f'"{schema}"."{table}"'
            for sql in (
                f"SELECT * FROM {target} LIMIT 1",
                f"INSERT INTO {target} DEFAULT VALUES",
                f"UPDATE {target} SET ctid = ctid",
                f"DELETE FROM {target}",
                f"TRUNCATE {target}",
            ):
                message = await refused(conn, sql)
                assert f"permission denied for schema {schema}" in message, (sql, message)
        # nor through the other ways in: becoming the owner, creating objects elsewhere
        assert "permission denied" in await refused(conn, f'SET ROLE "{db.service_role(schema)}"')
        assert "permission denied" in await refused(
            conn, "CREATE TABLE public.shared_with_another_service (x int)"
        )
        assert "permission denied" in await refused(
            conn, f'CREATE TABLE "{schema}".planted (x int)'
        )
        # its own tables it reads and writes
        assert await conn.fetchval("SELECT count(*) FROM outbox") >= 0
        await conn.execute("DELETE FROM inbox WHERE consumer = 'nobody'")


async def test_a_schema_the_superuser_made_is_handed_over_to_the_role(
    service_factory: Any, database_url: str
) -> None:
    # the layout of every release before roles: the schema made, and migrated, by the superuser
    await db.migrate(database_url, "intake", "atiende_intake")

    async with service_factory("intake") as intake:
        response = await intake.client.post(
            "/cases",
            json={
                "customer": {"name": "Inés", "email": "ines@example.com"},
                "type": "complaint",
                "channel": "phone",
                "description": "The parcel never came",
                "motive": "DELIVERY",
            },
        )
        assert response.status_code == 201, response.text

    admin = await asyncpg.connect(database_url)
    try:
        owners = await admin.fetch(
            """SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'intake'
               UNION
               SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'intake'"""
        )
        assert [r["owner"] for r in owners] == ["atiende_intake"]
    finally:
        await admin.close()


@pytest.fixture
async def other_databases(pg_admin_url: str) -> AsyncIterator[list[str]]:
    names = [f"atiende_test_{uuid.uuid4().hex[:12]}" for _ in range(3)]
    admin = await asyncpg.connect(pg_admin_url)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = pg_admin_url.rpartition("/")[0]
    yield [f"{base}/{name}" for name in names]
    admin = await asyncpg.connect(pg_admin_url)
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_databases_migrating_at_once_create_a_role_once(
    other_databases: list[str], pg_admin_url: str
) -> None:
    """Roles belong to the server, not to a database: several databases (test sessions,
    environments) creating the same new role at the same moment all succeed."""
    role = f"atiende_t{uuid.uuid4().hex[:10]}"
    try:
        applied = await asyncio.gather(
            *(
                db.migrate(url, "svc", db.RUNTIME_MIGRATIONS, owner=role)
                for url in other_databases
                for _ in range(2)  # and two replicas of each at once
            )
        )
        assert sorted(len(a) > 0 for a in applied) == [False, False, False, True, True, True]
        for url in other_databases:
            conn = await asyncpg.connect(db.url_as_role(url, role))
            try:
                assert await conn.fetchval("SELECT count(*) FROM svc.outbox") == 0
            finally:
                await conn.close()
    finally:
        for url in other_databases:  # a role is dropped only once nothing of it is left
            admin = await asyncpg.connect(url)
            try:
                await admin.execute(f'DROP SCHEMA IF EXISTS svc CASCADE; DROP OWNED BY "{role}"')
            finally:
                await admin.close()
        admin = await asyncpg.connect(pg_admin_url)
        try:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()


async def test_atiende_migrate_with_an_admin_url_makes_every_services_role(
    database_url: str,
) -> None:
    """`atiende migrate all --admin-url …`, the deployment's migrate step, with the one shared
    ATIENDE_DATABASE_URL naming each service's role through `{service}`."""
    base, _, database = database_url.rpartition("/")
    host = base.rpartition("@")[2]
    env = {
        **os.environ,
        "ATIENDE_DATABASE_URL": f"postgresql://atiende_{{service}}@{host}/{database}",
    }
    env.pop("ATIENDE_DATABASE_ADMIN_URL", None)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "atiende_runtime.cli", "migrate", "all"),
        *("--admin-url", database_url),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode()[-3000:]
    assert all(f"{name}: " in out.decode() for name in SERVICE_NAMES), out.decode()

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace"
            " WHERE nspname = ANY($1::text[])",
            list(SERVICE_NAMES),
        )
    finally:
        await conn.close()
    assert {r["nspname"]: r["owner"] for r in rows} == {
        name: db.service_role(name) for name in SERVICE_NAMES
    }
