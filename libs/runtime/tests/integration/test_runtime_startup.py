"""A service that starts while PostgreSQL is unreachable waits for it (with backoff) instead of
exiting, and becomes ready once it answers; it gives up after `startup_timeout_seconds`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from atiende_runtime.db import service_role
from atiende_testing import free_port


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
