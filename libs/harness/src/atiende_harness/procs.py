"""A run's private stack: its own database and broker namespace on this machine's PostgreSQL and
RabbitMQ, an SMTP sink, and the five services as real OS processes (the same `ServiceProcess`
the end-to-end tests use), plus a sampler of each process's memory and CPU.

Nothing here touches what `make run` or another test uses: the database is
`atiende_bench_<hex>`, every exchange and queue starts with the run's namespace, and both are
removed at the end (unless kept for a post-mortem).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import psutil

from atiende_contracts import Names
from atiende_runtime.services import services

from .cluster import SERVICE_NAMES, Cluster, ServiceProcess, free_port, new_secret, service_env
from .observe import MailSink

log = logging.getLogger(__name__)


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` of the same server."""
    base, _, rest = url.rpartition("/")
    _, _, query = rest.partition("?")
    return f"{base}/{name}" + (f"?{query}" if query else "")


def consumer_queues(namespace: str) -> list[str]:
    """Every consumer queue the five services declare, read from their own consumer registries."""
    names = Names(namespace)
    return [
        names.queue(service, sub.name)
        for service in SERVICE_NAMES
        for sub in services()[service].consumers.subscriptions
    ]


async def delete_topology(amqp_url: str, namespace: str) -> None:
    """Delete every queue and exchange a run declared under `namespace` (best effort): quorum
    queues left behind weigh on the shared RabbitMQ for every later run."""
    names = Names(namespace)
    queues = consumer_queues(namespace)
    queues += [Names.parking_queue(q) for q in queues] + [names.unrouted_queue]
    exchanges = [names.events_exchange, names.unrouted_exchange, names.dead_letter_exchange]
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            # one channel per deletion: a failed one closes its channel
            for queue in queues:
                with contextlib.suppress(Exception):
                    await (await connection.channel()).queue_delete(queue)
            for exchange in exchanges:
                with contextlib.suppress(Exception):
                    await (await connection.channel()).exchange_delete(exchange)


@dataclass
class Stack:
    admin_url: str
    amqp_url: str
    workdir: Path
    keep: bool = False
    service_env_overrides: dict[str, str] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    mail: MailSink = field(default_factory=MailSink)
    secret: str = field(default_factory=new_secret)
    """The run's token secret: its services verify tokens with it (authentication on)."""

    def __post_init__(self) -> None:
        self.database = f"atiende_bench_{self.run_id}"
        self.database_url = with_database(self.admin_url, self.database)
        self.namespace = f"h{self.run_id}"
        self.names = Names(self.namespace)
        ports = {name: free_port() for name in SERVICE_NAMES}
        self.logs = self.workdir / self.database
        self.logs.mkdir(parents=True, exist_ok=True)
        self.cluster = Cluster(
            {
                name: ServiceProcess(
                    name,
                    ports[name],
                    self._env(name, ports),
                    self.logs / f"{name}.log",
                )
                for name in SERVICE_NAMES
            },
            self.secret,
        )

    def _env(self, name: str, ports: dict[str, int]) -> dict[str, str]:
        return service_env(
            name,
            ports,
            database_url=self.database_url,
            amqp_url=self.amqp_url,
            namespace=self.namespace,
            smtp=(self.mail.host, self.mail.port),
            jwt_secret=self.secret,
            **self.service_env_overrides,
        )

    def headers(self, *roles: str, sub: str = "harness@example.com") -> dict[str, str]:
        """A token the run's services accept, for `roles` (every staff role when none)."""
        return self.cluster.headers(*roles, sub=sub)

    @property
    def services(self) -> dict[str, ServiceProcess]:
        return self.cluster.services

    def url(self, service: str) -> str:
        return self.cluster[service].url

    async def __aenter__(self) -> Stack:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await admin.close()
        await self.mail.start()
        try:
            await self.cluster.start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cluster.stop()
        await self.mail.stop()
        if self.keep:
            log.warning("kept database %s and namespace %s", self.database, self.namespace)
            return
        await self.delete_topology()
        with contextlib.suppress(Exception):
            admin = await asyncpg.connect(self.admin_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await admin.close()

    async def delete_topology(self) -> None:
        await delete_topology(self.amqp_url, self.namespace)

    async def restart(self, service: str) -> float:
        """kill -9, start again, wait until ready; returns the seconds until ready."""
        process = self.cluster[service]
        started = time.monotonic()
        process.kill()
        process.start()
        await process.wait_ready(timeout=120)
        return time.monotonic() - started

    async def all_ready(self, timeout: float) -> float:
        """Seconds until every service answers /readyz 200 (after a fault)."""
        started = time.monotonic()
        deadline = started + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            for process in self.services.values():
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{process.url}/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{process.service} not ready after {timeout}s")
                    await asyncio.sleep(0.2)
        return time.monotonic() - started


@dataclass
class Usage:
    peak_rss_mb: float = 0.0
    cpu_samples: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        samples = self.cpu_samples or [0.0]
        return {
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "cpu_percent_mean": round(sum(samples) / len(samples), 1),
            "cpu_percent_peak": round(max(samples), 1),
        }


class ResourceSampler:
    """Peak RSS and CPU (% of one core) of each service process, of this harness and of the
    machine, sampled every `interval` seconds. A restarted service is followed by its new pid."""

    def __init__(self, stack: Stack, interval: float = 1.0) -> None:
        self.stack = stack
        self.interval = interval
        self.usage: dict[str, Usage] = {}
        self._procs: dict[str, psutil.Process] = {}
        self._servers_seen: dict[int, psutil.Process] = {}
        self._task: asyncio.Task[None] | None = None
        self.recording = False

    def _process(self, name: str) -> psutil.Process | None:
        if name == "harness":
            pid: int | None = os.getpid()
        else:
            popen = self.stack.services[name].proc
            pid = popen.pid if popen is not None and popen.poll() is None else None
        if pid is None:
            return None
        current = self._procs.get(name)
        if current is None or current.pid != pid:
            current = psutil.Process(pid)
            current.cpu_percent(None)  # the first reading only starts the measurement
            self._procs[name] = current
            return None
        return current

    def sample(self) -> None:
        for name in [*self.stack.services, "harness"]:
            with contextlib.suppress(psutil.Error):
                process = self._process(name)
                if process is None:
                    continue
                cpu = process.cpu_percent(None)
                rss = process.memory_info().rss / 2**20
                if self.recording:
                    usage = self.usage.setdefault(name, Usage())
                    usage.peak_rss_mb = max(usage.peak_rss_mb, rss)
                    usage.cpu_samples.append(cpu)
        for server, cpu in self._servers().items():
            if self.recording:
                self.usage.setdefault(server, Usage()).cpu_samples.append(cpu)
        machine = psutil.cpu_percent(None)
        if self.recording:
            self.usage.setdefault("machine (all cores)", Usage()).cpu_samples.append(machine)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each service process and the harness have used so far."""
        out = {}
        for name in [*self.stack.services, "harness"]:
            with contextlib.suppress(psutil.Error):
                process = self._procs.get(name) or self._process(name)
                if process is None:
                    process = self._procs.get(name)
                if process is not None and process.is_running():
                    times = process.cpu_times()
                    out[name] = times.user + times.system
        return out

    def server_cpu_seconds(self) -> dict[str, dict[int, float]]:
        """CPU time so far of each PostgreSQL and RabbitMQ process, by pid: a window's cost is the
        difference over the pids still there at its end (one that exited within the window is
        missed, so the figure is a floor; on a shared machine other clients' work is in it)."""
        out: dict[str, dict[int, float]] = {"postgresql": {}, "rabbitmq": {}}
        for process in psutil.process_iter(["name", "username", "cpu_times"]):
            name, times = process.info["name"], process.info["cpu_times"]
            if times is None:
                continue
            if name == "postgres":
                out["postgresql"][process.pid] = times.user + times.system
            elif name == "beam.smp" and process.info["username"] == "rabbitmq":
                out["rabbitmq"][process.pid] = times.user + times.system
        return out

    def _servers(self) -> dict[str, float]:
        """CPU of the database and broker servers, all their processes summed (whoever they
        serve: on a shared machine, other clients' work is in it too)."""
        totals = {"postgresql (all processes)": 0.0, "rabbitmq (all nodes)": 0.0}
        seen = set()
        for process in psutil.process_iter(["name", "username"]):
            name = process.info["name"]
            if name == "postgres":
                key = "postgresql (all processes)"
            elif name == "beam.smp" and process.info["username"] == "rabbitmq":
                key = "rabbitmq (all nodes)"
            else:
                continue
            seen.add(process.pid)
            known = self._servers_seen.setdefault(process.pid, process)
            with contextlib.suppress(psutil.Error):
                totals[key] += known.cpu_percent(None)
        for pid in set(self._servers_seen) - seen:
            del self._servers_seen[pid]
        return totals

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="resource-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def figures(self) -> dict[str, dict[str, float]]:
        return {name: usage.figures() for name, usage in self.usage.items()}
