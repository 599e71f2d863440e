"""The faults the chaos run injects, each returning what it measured.

- `kill`: SIGKILL of one service process (no graceful anything), then start it again;
- `rabbitmq`: `rabbitmqctl stop_app` / `start_app` (or a full restart of the node), then the time
  until every consumer queue of the run has a consumer again;
- `postgres`: `pg_ctlcluster ... main restart`, then the time until every service is ready;
- `poison`: an unparsable message straight into each consumer queue; it must be parked after
  the delivery limit while everything else keeps flowing.

The broker and database restarts hit the whole machine, not only this run: every other client of
that RabbitMQ or PostgreSQL sees them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import aio_pika

from .procs import Stack, consumer_queues

POISON = b"{harness poison: not json"


class Fault(StrEnum):
    KILL = "kill"
    RABBITMQ = "rabbitmq"
    POSTGRES = "postgres"
    POISON = "poison"


def parse_faults(text: str) -> dict[Fault, int]:
    """`kill=4,rabbitmq=1,postgres=1,poison=1` (a bare name means once)."""
    counts: dict[Fault, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, times = part.partition("=")
        try:
            fault = Fault(name.strip())
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise ValueError(f"unknown fault {name!r}; known: {known}") from None
        counts[fault] = counts.get(fault, 0) + int(times or 1)
    return counts


def schedule(
    counts: dict[Fault, int], services: list[str], rng: random.Random
) -> list[tuple[Fault, str | None]]:
    """The faults in a random order; kills cycle through the services in a shuffled order, so
    `kill=N*5` kills each of the five services N times."""
    victims: list[str] = []
    while len(victims) < counts.get(Fault.KILL, 0):
        round_ = list(services)
        rng.shuffle(round_)
        victims += round_
    plan: list[tuple[Fault, str | None]] = [
        (Fault.KILL, v) for v in victims[: counts.get(Fault.KILL, 0)]
    ]
    for fault in (Fault.RABBITMQ, Fault.POSTGRES, Fault.POISON):
        plan += [(fault, None)] * counts.get(fault, 0)
    rng.shuffle(plan)
    return plan


@dataclass
class FaultResult:
    fault: Fault
    target: str | None
    started: float
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def report(self, origin: float) -> dict[str, Any]:
        return {
            "fault": self.fault.value,
            "target": self.target,
            "at_s": round(self.started - origin, 2),
            "seconds": round(self.seconds, 2),
            **self.figures,
            **({"error": self.error} if self.error else {}),
        }


async def _run(*argv: str, timeout: float = 120) -> str:
    """Run a command and return its output. The output goes to a file, not a pipe: rabbitmqctl may
    start a daemon (epmd) that inherits the pipe and would keep it open long after it exits."""
    with tempfile.TemporaryFile() as out:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await asyncio.wait_for(process.wait(), timeout=timeout)
        except TimeoutError:
            process.kill()
            raise TimeoutError(f"{' '.join(argv)} did not finish in {timeout}s") from None
        out.seek(0)
        text = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {text[-500:]}")
    return text


async def consumers_back(amqp_url: str, queues: list[str], timeout: float) -> float:
    """Seconds until every queue has at least one consumer (polled once every 0.25 s)."""
    started = time.monotonic()
    waiting = list(queues)
    while waiting:
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(amqp_url, timeout=5)
            async with connection:
                still = []
                for queue in waiting:
                    try:
                        channel = await connection.channel()
                        declared = await channel.declare_queue(queue, passive=True)
                        if not declared.declaration_result.consumer_count:
                            still.append(queue)
                        await channel.close()
                    except Exception:
                        still.append(queue)
                waiting = still
        if not waiting:
            break
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no consumer after {timeout}s on: {', '.join(waiting)}")
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def restart_rabbitmq(
    stack: Stack, *, full: bool, node: str | None, down_seconds: float = 2.0
) -> dict[str, Any]:
    ctl = ["rabbitmqctl", *(["-n", node] if node else [])]
    if full:
        if node:
            raise ValueError("a full restart is only done for the machine's own node")
        await _run(*ctl, "stop", timeout=120)
        await asyncio.sleep(down_seconds)
        # detached: the node outlives this harness, as the machine's broker should
        await _run("rabbitmq-server", "-detached", timeout=30)
        await _run(*ctl, "await_startup", "--timeout", "120", timeout=150)
    else:
        await _run(*ctl, "stop_app")
        await asyncio.sleep(down_seconds)
        await _run(*ctl, "start_app")
    queues = consumer_queues(stack.namespace)
    back = await consumers_back(stack.amqp_url, queues, timeout=180)
    return {"consumers_back_s": round(back, 2), "queues": len(queues)}


def _postgres_version() -> str:
    """The cluster version Debian's pg_ctlcluster knows (`ls /etc/postgresql`)."""
    return sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]


async def restart_postgres(stack: Stack) -> dict[str, Any]:
    await _run("pg_ctlcluster", "--skip-systemctl-redirect", _postgres_version(), "main", "restart")
    ready = await stack.all_ready(timeout=180)
    return {"services_ready_s": round(ready, 2)}


async def publish_poison(stack: Stack) -> dict[str, Any]:
    queues = consumer_queues(stack.namespace)
    connection = await aio_pika.connect(stack.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for queue in queues:
            await channel.default_exchange.publish(
                aio_pika.Message(POISON, content_type="application/json"), routing_key=queue
            )
    return {"queues": len(queues)}


async def inject(
    stack: Stack,
    fault: Fault,
    target: str | None,
    *,
    full_rabbitmq_restart: bool = False,
    rabbitmq_node: str | None = None,
) -> FaultResult:
    started = time.monotonic()
    result = FaultResult(fault, target, started, 0.0)
    try:
        if fault is Fault.KILL:
            assert target is not None
            result.figures = {"ready_after_s": round(await stack.restart(target), 2)}
        elif fault is Fault.RABBITMQ:
            result.figures = await restart_rabbitmq(
                stack, full=full_rabbitmq_restart, node=rabbitmq_node
            )
        elif fault is Fault.POSTGRES:
            result.figures = await restart_postgres(stack)
        else:
            result.figures = await publish_poison(stack)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result
