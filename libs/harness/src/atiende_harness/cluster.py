"""The suite as real OS processes, without pytest: a service process (`atiende serve NAME`),
the environment of one service in a private cluster, a cluster of them, a free port, an SMTP sink's
record of messages, and `eventually`. The end-to-end tests (through the pytest plugin in
libs/testing) and the bench and chaos harness all start services through this one module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from atiende_runtime.auth import mint_token
from atiende_runtime.db import service_role, url_as_role
from atiende_runtime.services import service_names

SERVICE_NAMES: tuple[str, ...] = service_names()
"""Every installed service, in port order (from the `atiende.services` entry points)."""

STAFF_ROLES: tuple[str, ...] = ("admin", "supervisor", "agent", "manager", "intake", "mail-gateway")
"""Every role some route grants: a token with all of them passes every guard."""


def new_secret() -> str:
    """A signing secret for one private cluster (HS256; longer than the 32 bytes required)."""
    return secrets.token_urlsafe(48)


def bearer(
    secret: str, *roles: str, sub: str = "tester@example.com", ttl: float = 3600
) -> dict[str, str]:
    """The Authorization header of a token signed with `secret`, for `roles` (every staff role
    when none is named) and subject `sub`, as a cluster started with `secret` accepts it."""
    token = mint_token(secret, subject=sub, roles=roles or STAFF_ROLES, ttl=timedelta(seconds=ttl))
    return {"Authorization": f"Bearer {token}"}


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in (m.get("To") or "")]

    async def wait_for(
        self, predicate: Callable[[Message], bool], *, count: int = 1, timeout: float = 30
    ) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if predicate(m)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} matching email(s) within {timeout}s, got {len(found)}; "
                    f"subjects seen: {[m.get('Subject') for m in self.messages]}"
                )
            await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(
    check: Callable[[], Any], *, timeout: float = 20, interval: float = 0.1, message: str = ""
) -> Any:
    """Poll an (async or sync) check until it returns a truthy value; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s (last value: {last!r})")


@dataclass
class ServiceProcess:
    service: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atiende_runtime.cli", "serve", self.service],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no acks, no final commits."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    async def wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc and self.proc.poll() is not None:
                    raise AssertionError(
                        f"{self.service} exited with {self.proc.returncode}; log:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz", timeout=2)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.service} not ready in {timeout}s; log:\n{self.log_tail()}")

    def log_lines(self) -> list[str]:
        return (
            self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_lines()[-lines:])


AUTH_VARIABLES = ("ATIENDE_AUTH_", "ATIENDE_OIDC_", "ATIENDE_JWT_")


def service_env(
    name: str,
    ports: dict[str, int],
    *,
    database_url: str,
    amqp_url: str,
    namespace: str,
    smtp: tuple[str, int],
    jwt_secret: str,
    **extra_env: str,
) -> dict[str, str]:
    """The environment of one service process of a private cluster: its database, broker
    namespace, port, SMTP server and token secret (authentication on, hs256, whatever the
    caller's shell has set); the load harness starts its clusters with it too.

    `database_url` is administrative (the tests' and the harness's own): the service logs in as
    its own role (`atiende_<name>`, same password if any) and gets the administrative URL only to
    create that role and its schema at startup, as the migrate step does in a deployment."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(AUTH_VARIABLES)},
        "ATIENDE_AUTH_MODE": "hs256",
        "ATIENDE_JWT_SECRET": jwt_secret,
        "ATIENDE_DATABASE_URL": url_as_role(database_url, service_role(name)),
        "ATIENDE_DATABASE_ADMIN_URL": database_url,
        "ATIENDE_AMQP_URL": amqp_url,
        "ATIENDE_BROKER_NAMESPACE": namespace,
        "ATIENDE_HTTP_PORT": str(ports[name]),
        "ATIENDE_SMTP_HOST": smtp[0],
        "ATIENDE_SMTP_PORT": str(smtp[1]),
        "ATIENDE_SURVEY_BASE_URL": f"http://127.0.0.1:{ports['surveys']}",
        "OTEL_SERVICE_NAME": f"atiende-{name}",
        **extra_env,
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if "ATIENDE_DATABASE_DIRECT_URL" not in extra_env:
        env.pop("ATIENDE_DATABASE_DIRECT_URL", None)  # the caller's shell: another database
    return env


@dataclass
class Cluster:
    services: dict[str, ServiceProcess]
    secret: str
    """The secret the services verify tokens with (their ATIENDE_JWT_SECRET)."""

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def headers(self, *roles: str, sub: str = "tester@example.com") -> dict[str, str]:
        """`Authorization: Bearer …` for `roles` (every staff role when none is named) as `sub`:
        `httpx.AsyncClient(headers=cluster.headers("agent", sub="ana"))`."""
        return bearer(self.secret, *roles, sub=sub)

    async def start(self) -> None:
        for svc in self.services.values():
            svc.start()
        await asyncio.gather(*(svc.wait_ready() for svc in self.services.values()))

    def stop(self) -> None:
        for svc in self.services.values():
            svc.stop()
