"""A service that starts while PostgreSQL is unreachable waits for it (with backoff) instead of
exiting, and becomes ready once it answers; it gives up after `startup_timeout_seconds`. While it
waits its HTTP server answers: /healthz 200, /readyz 503 naming what it waits for."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from atiende_runtime.db import service_role
from atiende_runtime.services import service
from atiende_testing import SERVICE_NAMES, ServiceProcess, eventually, free_port, service_env


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def tcp_proxy(listen_port: int, host: str, port: int) -> AsyncIterator[None]:
    """Forwards 127.0.0.1:`listen_port` to `host`:`port` while open."""
    pipes: set[asyncio.Task[None]] = set()

    async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, port)
        for task in (
            asyncio.create_task(_pipe(client_r, server_w)),
            asyncio.create_task(_pipe(server_r, client_w)),
        ):
            pipes.add(task)
            task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(forward, "127.0.0.1", listen_port)
    try:
        yield
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)


def through(database_url: str, port: int, role: str | None = None) -> str:
    parts = urlsplit(database_url)
    return parts._replace(netloc=f"{role or parts.username}@127.0.0.1:{port}").geturl()


def database_through(database_url: str, port: int) -> dict[str, str]:
    """Settings sending the service's database traffic (as its role, and as the administrator
    creating that role) through 127.0.0.1:`port`."""
    return {
        "database_url": through(database_url, port, service_role("indicators")),
        "database_admin_url": through(database_url, port),
    }


async def test_service_waits_for_a_database_that_comes_up_late(
    service_factory: Any, database_url: str
) -> None:
    real = urlsplit(database_url)
    port = free_port()
    proxy_open = asyncio.Event()
    stop_proxy = asyncio.Event()

    async def open_proxy_later() -> None:
        await asyncio.sleep(3)  # nothing listens on `port` until then: connection refused
        async with tcp_proxy(port, real.hostname or "127.0.0.1", real.port or 5432):
            proxy_open.set()
            await stop_proxy.wait()

    proxy = asyncio.create_task(open_proxy_later())
    started = time.monotonic()
    try:
        async with service_factory(
            "indicators", **database_through(database_url, port), startup_timeout_seconds=60
        ) as indicators:
            waited = time.monotonic() - started
            ready = await indicators.client.get("/readyz")
    finally:
        stop_proxy.set()
        await proxy

    assert proxy_open.is_set()
    assert waited >= 3
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True, "broker": True}


async def test_service_gives_up_after_the_startup_timeout(
    service_factory: Any, database_url: str
) -> None:
    started = time.monotonic()
    with pytest.raises(OSError):
        async with service_factory(
            "indicators",
            **database_through(database_url, free_port()),
            startup_timeout_seconds=2,
        ):
            pass  # pragma: no cover - never gets here

    assert 2 <= time.monotonic() - started < 10


async def test_service_waits_for_the_broker_too(service_factory: Any, amqp_url: str) -> None:
    real = urlsplit(amqp_url)
    port = free_port()
    proxied = real._replace(netloc=f"{real.username}:{real.password}@127.0.0.1:{port}").geturl()
    stop_proxy = asyncio.Event()

    async def open_proxy_later() -> None:
        await asyncio.sleep(2)
        async with tcp_proxy(port, real.hostname or "127.0.0.1", real.port or 5672):
            await stop_proxy.wait()

    proxy = asyncio.create_task(open_proxy_later())
    try:
        async with service_factory(
            "indicators", amqp_url=proxied, startup_timeout_seconds=60
        ) as indicators:
            ready = await indicators.client.get("/readyz")
    finally:
        stop_proxy.set()
        await proxy

    assert ready.status_code == 200, ready.text


async def test_a_process_answers_its_probes_while_it_waits_for_the_database(
    database_url: str, amqp_url: str, broker_namespace: str, tmp_path: Path
) -> None:
    """A real `atiende serve` whose database is not there yet: alive (/healthz 200), not ready
    (/readyz 503 naming the database), a log line per attempt; ready once the database is."""
    real = urlsplit(database_url)
    db_port = free_port()
    ports = {name: free_port() for name in SERVICE_NAMES}
    env = service_env(
        "indicators",
        ports,
        database_url=through(database_url, db_port),  # nothing listens there yet
        amqp_url=amqp_url,
        namespace=broker_namespace,
        smtp=("127.0.0.1", free_port()),
        jwt_secret=secrets.token_urlsafe(32),
        ATIENDE_STARTUP_TIMEOUT_SECONDS="120",
    )
    process = ServiceProcess("indicators", ports["indicators"], env, tmp_path / "indicators.log")
    process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=5) as client:

            async def alive() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/healthz")).status_code == 200
                return False

            await eventually(alive, timeout=60, message=process.log_tail())
            waiting = await client.get("/readyz")
            assert waiting.status_code == 503
            assert waiting.headers["content-type"].startswith("application/problem+json")
            assert waiting.json()["waiting_for"] == "database"
            assert waiting.json()["checks"] == {"database": False, "broker": False}
            await eventually(
                lambda: any(
                    "dependencies unreachable; retrying" in line and '"database"' in line
                    for line in process.log_lines()
                ),
                message=process.log_tail(),
            )

            async with tcp_proxy(db_port, real.hostname or "127.0.0.1", real.port or 5432):
                await process.wait_ready(timeout=60)
                ready = await client.get("/readyz")
                assert ready.json()["checks"] == {"database": True, "broker": True}
                process.stop()
    finally:
        process.stop()


async def test_requests_while_starting_answer_503_not_500() -> None:
    """A route that needs the database, asked before startup finished (here: never begun)."""
    definition = service("indicators")
    app = definition.create_app(definition.settings(auth_mode="off"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://indicators") as client:
        readyz = await client.get("/readyz")
        route = await client.get("/indicators")

    assert readyz.status_code == 503
    assert readyz.json()["waiting_for"] == "startup"
    assert route.status_code == 503, route.text
    assert route.headers["retry-after"] == "5"
    assert route.headers["content-type"].startswith("application/problem+json")


async def test_a_process_that_gives_up_waiting_exits_with_status_3(
    database_url: str, amqp_url: str, broker_namespace: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in SERVICE_NAMES}
    env = service_env(
        "indicators",
        ports,
        database_url=through(database_url, free_port()),
        amqp_url=amqp_url,
        namespace=broker_namespace,
        smtp=("127.0.0.1", free_port()),
        jwt_secret=secrets.token_urlsafe(32),
        ATIENDE_STARTUP_TIMEOUT_SECONDS="3",
    )
    process = ServiceProcess("indicators", ports["indicators"], env, tmp_path / "indicators.log")
    process.start()
    try:
        assert process.proc is not None
        status = await asyncio.to_thread(process.proc.wait, 60)
    finally:
        process.stop()

    assert status == 3, process.log_tail()
    assert any("giving up" in line for line in process.log_lines())
