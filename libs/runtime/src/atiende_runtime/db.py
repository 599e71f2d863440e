"""PostgreSQL: the connection pool and plain-SQL migrations applied under an advisory lock.

Each service owns one schema named after it and logs in as a PostgreSQL role of its own
(`atiende_<service>` by convention) that owns that schema and nothing else: its pool's
search_path points there, and the server refuses it every other service's schema. Given an
administrative URL, `migrate` creates that role and the schema owned by it, and applies the
migrations as the role (see docs/security.md, "Database roles").
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from importlib import resources
from importlib.abc import Traversable
from urllib.parse import quote, urlsplit

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
    url: str,
    schema: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    statement_cache_size: int = 100,
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        # 0 behind PgBouncer in transaction mode, where a prepared statement may be gone (or be
        # another client's) on the next transaction's server connection
        statement_cache_size=statement_cache_size,
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


def service_role(service: str) -> str:
    """The PostgreSQL role a service logs in as, by convention (the plugin and harness use it)."""
    return f"atiende_{service}"


def role_of(url: str) -> str | None:
    """The user a database URL logs in as (None when the URL names none)."""
    return urlsplit(url).username


def password_of(url: str) -> str | None:
    return urlsplit(url).password


def url_as_role(url: str, role: str) -> str:
    """`url` logging in as `role` instead, with the same password (none with trust)."""
    parts = urlsplit(url)
    secret = f":{quote(parts.password, safe='')}" if parts.password else ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{quote(role, safe='')}{secret}@{host}").geturl()


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


async def migrate(
    url: str,
    schema: str,
    package: str,
    *,
    owner: str | None = None,
    owner_password: str | None = None,
) -> list[str]:
    """Apply the runtime's and then `package`'s migrations to `schema`; returns names applied.

    Without `owner`, `url`'s user applies them (a service migrating its own schema at startup).
    With `owner`, `url` is administrative: the role `owner` is created if missing (LOGIN, with
    `owner_password` if given), the schema is created owned by it (or, made by an earlier
    version as another user, handed over with everything in it), PUBLIC's default grants are
    revoked, and every migration runs as `owner` (SET LOCAL ROLE), so whatever it creates is the
    role's. Nothing is ever granted on one schema to another service's role.

    A transaction-level advisory lock keyed on the schema serialises concurrent replicas: the
    second waits, then finds everything applied. An applied file whose text changed is refused.
    """
    applied_now: list[str] = []
    conn = await asyncpg.connect(url)
    try:
        if owner is not None and owner == await conn.fetchval("SELECT current_user"):
            log.warning(
                "the service logs in as the administrative role: its schema is not isolated",
                extra={"schema": schema, "role": owner},
            )
            owner = None
        if owner is not None:
            # committed on its own, before any lock is taken: a role created inside the long
            # transaction below would make other databases' migrations of the same role wait
            # for it while holding their own locks (a deadlock on a server's first start)
            await _ensure_role(conn, owner, owner_password)
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))", f"atiende.migrate.{schema}"
            )
            if owner is not None:
                await _prepare_owned_schema(conn, schema, owner)
                await conn.execute(f"SET LOCAL ROLE {_ident(owner)}")
            elif not await _schema_exists(conn, schema):
                # checked first: CREATE SCHEMA IF NOT EXISTS wants CREATE on the database even
                # when the schema is there, which a service's own role does not have
                await conn.execute(f'CREATE SCHEMA "{schema}"')
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
            if owner is not None and await conn.fetchval(_PUBLIC_EXECUTES, schema):
                # functions are executable by PUBLIC unless revoked (the role's default
                # privileges cover functions created from now on)
                await conn.execute(
                    f'REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "{schema}" FROM PUBLIC'
                )
    finally:
        await conn.close()
    if applied_now:
        log.info("migrations applied", extra={"schema": schema, "migrations": applied_now})
    return applied_now


_PUBLIC_EXECUTES = """
SELECT coalesce(bool_or(has_function_privilege('public', p.oid, 'EXECUTE')), false)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
"""


async def _schema_exists(conn: asyncpg.Connection, schema: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema))


async def _prepare_owned_schema(conn: asyncpg.Connection, schema: str, owner: str) -> None:
    """The administrative half of `migrate` (inside its transaction, under its schema lock)."""
    # database-wide privileges are one catalog row per database, which the five services'
    # migrations would update concurrently ("tuple concurrently updated"): one at a time
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('atiende.migrate.database'))")
    if not await conn.fetchval(
        "SELECT has_database_privilege($1, current_database(), 'CONNECT')", owner
    ):
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(owner)}")
    # before PostgreSQL 15 every role may create objects in `public`: a way to share data
    # between services that the schemas' ownership would not stop
    if await conn.fetchval("SELECT has_schema_privilege('public', 'public', 'CREATE')"):
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    if not await _schema_exists(conn, schema):
        await conn.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION {_ident(owner)}')
    else:
        await _hand_over(conn, schema, owner)
    if await conn.fetchval(
        "SELECT has_schema_privilege('public', $1, 'USAGE')"
        " OR has_schema_privilege('public', $1, 'CREATE')",
        schema,
    ):
        await conn.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')
    revoked = await conn.fetchval(
        """SELECT 1 FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole
           WHERE r.rolname = $1 AND d.defaclnamespace = 0 AND d.defaclobjtype = 'f'""",
        owner,
    )
    if not revoked:
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} REVOKE EXECUTE ON FUNCTIONS"
            " FROM PUBLIC"
        )


async def _ensure_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    """Create the login role if missing, set its password when one is given, and make the
    administrator a member (a superuser already is one). Roles belong to the
    whole server, not to a database: two databases' migrations (two test sessions, two
    environments on one server) may create the same role at once, and the loser hears so as
    duplicate_object or as a unique violation on pg_authid; either way the role is there."""
    exists = bool(await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role))
    if not exists or password is not None:
        await _create_or_alter_role(conn, role, password, exists=exists)
    if not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", role):
        # an administrator that is not a superuser (CREATEROLE) must be a member to create a
        # schema for the role, hand objects over to it and SET ROLE to it
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            await conn.execute(f"GRANT {_ident(role)} TO CURRENT_USER")


async def _create_or_alter_role(
    conn: asyncpg.Connection, role: str, password: str | None, *, exists: bool
) -> None:
    statement = f"ALTER ROLE {_ident(role)}" if exists else f"CREATE ROLE {_ident(role)} LOGIN"
    if password is not None:
        # utility statements take no parameters: quote_literal does the quoting
        statement += " PASSWORD " + await conn.fetchval("SELECT quote_literal($1::text)", password)
    try:
        await conn.execute(statement)
        log.info("database role " + ("updated" if exists else "created"), extra={"role": role})
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        pass
    except asyncpg.InternalServerError as exc:
        # two migrations setting the same password at once: "tuple concurrently updated"
        if "concurrently" not in str(exc):
            raise


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_FOREIGN_OWNED = """
SELECT format('ALTER %s %s OWNER TO %I', kind, name, $2::text) FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                          ELSE 'TABLE' END AS kind,
           c.oid::regclass::text AS name, c.relkind = 'S' AS later
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND pg_get_userbyid(c.relowner) <> $2
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      -- serial and identity sequences follow their table
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                          ELSE 'FUNCTION' END,
           p.oid::regprocedure::text, false
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = $1 AND pg_get_userbyid(p.proowner) <> $2
    UNION ALL
    -- enums, domains, ranges (their multirange follows) and free-standing composite types
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text, false
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE n.nspname = $1 AND pg_get_userbyid(t.typowner) <> $2
      AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
) o ORDER BY later
"""


async def _hand_over(conn: asyncpg.Connection, schema: str, owner: str) -> None:
    """A schema an earlier version created as the administrator (every service logged in as
    the superuser then) becomes the role's, with every table, sequence, view, function and type
    in it (indexes, triggers and column-owned sequences follow their tables)."""
    current = await conn.fetchval(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", schema
    )
    statements = [r[0] for r in await conn.fetch(_FOREIGN_OWNED, schema, owner)]
    if current == owner and not statements:
        return
    await conn.execute(f'ALTER SCHEMA "{schema}" OWNER TO {_ident(owner)}')
    for statement in statements:
        await conn.execute(statement)
    log.info(
        "schema handed over to its role",
        extra={"schema": schema, "role": owner, "objects": len(statements)},
    )
