"""pytest plugin shared by every test in the repository (loaded with `-p atiende_testing.plugin`).

Infrastructure comes from, in order: ATIENDE_TEST_DATABASE_URL / ATIENDE_TEST_AMQP_URL, the local
defaults (127.0.0.1), testcontainers when a Docker engine answers. If none works the test run
fails, saying what to start: nothing here is ever skipped for missing infrastructure.

Isolation: every test that asks for `database_url` gets a database of its own, and every test that
asks for `broker_namespace` gets exchange and queue names of its own.

Authentication: services run in-process (`service_factory`) have it off unless the test configures
it (auth_mode, jwt_secret or oidc_issuer); clusters of real processes (`cluster_factory`,
`cluster`) always have it on (hs256, a secret made per session) and their tests send tokens:
`cluster.headers("agent", sub="ana")`, or the `auth_headers` fixture.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from atiende_harness.cluster import (
    SERVICE_NAMES,
    Cluster,
    ServiceProcess,
    SmtpSink,
    bearer,
    free_port,
    new_secret,
    service_env,
)
from atiende_runtime.db import service_role, url_as_role
from atiende_runtime.services import service

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
PG_HINT = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
    " or set ATIENDE_TEST_DATABASE_URL"
)
AMQP_HINT = "start it with `rabbitmq-server -detached` or set ATIENDE_TEST_AMQP_URL"


def _tcp_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("ATIENDE_TEST_DATABASE_URL", DEFAULT_PG)
    if _tcp_open(*_host_port(url, 5432)):
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as pg:
            yield pg.get_connection_url()
        return
    pytest.fail(f"PostgreSQL is not reachable at {url}: {PG_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url = os.environ.get("ATIENDE_TEST_AMQP_URL", DEFAULT_AMQP)
    if _tcp_open(*_host_port(url, 5672)):
        yield url
        return
    if _docker_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13") as rmq:
            params = rmq.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/"
        return
    pytest.fail(f"RabbitMQ is not reachable at {url}: {AMQP_HINT}", pytrace=False)


def _with_database(url: str, name: str) -> str:
    base, _, rest = url.rpartition("/")
    _, _, query = rest.partition("?")
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for this test, dropped afterwards."""
    name = f"atiende_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _with_database(pg_admin_url, name)
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


_namespaces: list[str] = []


@pytest.fixture
async def broker_namespace(amqp_url: str) -> AsyncIterator[str]:
    """Exchange and queue names of this test's own (`t<hex>.events`, `t<hex>.<service>.<handler>`).

    The services' queues are deleted when the test ends: quorum queues are heavy (a Raft group
    each), and hundreds left behind slow RabbitMQ down for every later test."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    _namespaces.append(namespace)
    yield namespace
    with contextlib.suppress(Exception):
        await asyncio.wait_for(_delete_known_topology(amqp_url, namespace), timeout=30)


def _known_queues(namespace: str) -> list[str]:
    from atiende_contracts import Names

    names = Names(namespace)
    queues = [names.unrouted_queue]
    for name in SERVICE_NAMES:
        for sub in service(name).consumers.subscriptions:
            queue = names.queue(name, sub.name)
            queues += [queue, names.parking_queue(queue)]
    return queues


async def _delete_known_topology(url: str, namespace: str) -> None:
    import aio_pika

    from atiende_contracts import Names

    names = Names(namespace)
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in _known_queues(namespace):
            if channel.is_closed:
                channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(queue)
        for exchange in (
            names.events_exchange,
            names.unrouted_exchange,
            names.dead_letter_exchange,
        ):
            if channel.is_closed:
                channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(exchange)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Best effort: delete the queues and exchanges the tests declared (needs rabbitmqctl)."""
    if not _namespaces or not shutil.which("rabbitmqctl"):
        return
    url = os.environ.get("ATIENDE_TEST_AMQP_URL", DEFAULT_AMQP)
    with contextlib.suppress(Exception):
        asyncio.run(_delete_test_topology(url, tuple(_namespaces)))


async def _delete_test_topology(url: str, namespaces: tuple[str, ...]) -> None:
    import aio_pika

    def names(kind: str) -> list[str]:
        out = subprocess.run(
            ["rabbitmqctl", "-q", f"list_{kind}", "name"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        return [n for n in out if n.split(".", 1)[0] in namespaces]

    queues, exchanges = names("queues"), names("exchanges")
    connection = await aio_pika.connect(url)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(queue)
        for exchange in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(exchange)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free local port, keeping every message it receives."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- in-process service ------------------------------------------------------------------------


@dataclass
class RunningService:
    app: Any
    client: Any  # httpx.AsyncClient bound to the app

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def foreign_unit_of_work(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A unit of work on this service's outbox that may emit any event: tests feed a service
        the events it consumes as though their producer had published them. (The service's own
        unit of work refuses events it does not publish.)"""
        from atiende_runtime.uow import unit_of_work

        return unit_of_work(self.runtime.pool, self.runtime.source)


@contextlib.asynccontextmanager
async def run_service(name: str, **overrides: Any) -> AsyncIterator[RunningService]:
    """Start a service's app in this process (lifespan included) with settings overrides."""
    import httpx

    definition = service(name)
    settings = definition.settings(**overrides)
    app = definition.create_app(settings)
    async with app.router.lifespan_context(app):
        # the lifespan starts the service in the background (HTTP answers /readyz meanwhile); a
        # test starts with the service ready, or with the error that made it give up
        await app.state.runtime.wait_started()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield RunningService(app, client)


@pytest.fixture
def service_factory(
    database_url: str, amqp_url: str, broker_namespace: str
) -> Callable[..., contextlib.AbstractAsyncContextManager[RunningService]]:
    """`async with service_factory("routing") as svc:` runs it on this test's database and names,
    logged in as its own role (`atiende_routing`), which its startup creates with the test's
    administrative URL, as a deployment's migrate step does."""

    def factory(
        service: str, **overrides: Any
    ) -> contextlib.AbstractAsyncContextManager[RunningService]:
        configured = {"auth_mode", "jwt_secret", "oidc_issuer"} & set(overrides)
        params: dict[str, Any] = {
            # off by name (a service with nothing configured refuses to start): these tests call
            # the routes as the development principal; tests of authentication configure it
            **({} if configured else {"auth_mode": "off"}),
            "database_url": url_as_role(database_url, service_role(service)),
            "database_admin_url": database_url,
            "amqp_url": amqp_url,
            "broker_namespace": broker_namespace,
            "relay_poll_interval": 0.2,
            **overrides,
        }
        return run_service(service, **params)

    return factory


@pytest.fixture(scope="session")
def cluster_secret() -> str:
    """The token secret of every cluster this session starts (authentication on, hs256)."""
    return new_secret()


@pytest.fixture
def auth_headers(cluster_secret: str) -> Callable[..., dict[str, str]]:
    """`auth_headers("agent", sub="ana")`: the Authorization header of a token the clusters
    accept (every staff role when none is named)."""

    def headers(*roles: str, sub: str = "tester@example.com") -> dict[str, str]:
        return bearer(cluster_secret, *roles, sub=sub)

    return headers


@pytest.fixture
async def cluster_factory(
    database_url: str,
    amqp_url: str,
    broker_namespace: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    cluster_secret: str,
) -> AsyncIterator[Callable[..., Cluster]]:
    """Builds clusters of real service processes on this test's database, names and SMTP sink,
    with authentication on: `c = cluster_factory("intake", "routing"); await c.start()`, then
    requests with `headers=c.headers("agent")`. Stopped at teardown."""
    ports = {name: free_port() for name in SERVICE_NAMES}
    made: list[Cluster] = []

    def factory(*names: str, **extra_env: str) -> Cluster:
        services = {}
        for name in names or SERVICE_NAMES:
            env = service_env(
                name,
                ports,
                database_url=database_url,
                amqp_url=amqp_url,
                namespace=broker_namespace,
                smtp=(smtp_sink.host, smtp_sink.port),
                jwt_secret=cluster_secret,
                **{
                    "ATIENDE_RELAY_POLL_INTERVAL": "0.2",
                    "ATIENDE_DISPATCH_POLL_INTERVAL": "0.2",
                    **extra_env,
                },
            )
            services[name] = ServiceProcess(name, ports[name], env, tmp_path / f"{name}.log")
        made.append(Cluster(services, cluster_secret))
        return made[-1]

    try:
        yield factory
    finally:
        for c in made:
            c.stop()


@pytest.fixture
async def cluster(cluster_factory: Callable[..., Cluster]) -> Cluster:
    """The five services as real OS processes, started and ready."""
    c = cluster_factory()
    await c.start()
    return c
