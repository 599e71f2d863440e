"""`atiende-chaos` (`make chaos`): open cases at a steady rate while injecting faults, wait for
quiet, then account for every case the Jepsen way (see accounting.py) and exit 1 if any case was
lost, duplicated or unexpected.

Faults (`--faults kill=20,rabbitmq=5,postgres=3,poison=1`) are spread evenly over the load, in a
random order (`--seed`), one at a time: `kill` is `kill -9` of one service process and its
restart (kills cycle through the five services), `rabbitmq` is `rabbitmqctl stop_app`/`start_app`
(`--full-rabbitmq-restart`: the whole node), `postgres` restarts the PostgreSQL cluster, `poison`
publishes an unparsable message to every consumer queue. The broker and database restarts hit
the whole machine: run them where nobody else depends on those servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import time
from typing import Any

import aio_pika

from atiende_contracts import Names
from atiende_runtime.parking import list_parked

from .accounting import Accounting, IndicatorCounts, Outcome, account
from .cluster import SERVICE_NAMES
from .faults import POISON, Fault, FaultResult, inject, parse_faults, schedule
from .load import OpenLoopLoad
from .observe import EventTap, IndicatorsPoller
from .procs import ResourceSampler, Stack, consumer_queues
from .report import infrastructure_options, metadata, percentiles, service_env, write


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="atiende-chaos", description=__doc__)
    parser.add_argument("--cases", type=int, default=1000, help="cases to open in all")
    parser.add_argument("--rate", type=float, default=20, help="cases per second")
    parser.add_argument(
        "--faults",
        default="kill=5,rabbitmq=1,postgres=1,poison=1",
        help="fault=count list; faults: " + ", ".join(f.value for f in Fault),
    )
    parser.add_argument("--full-rabbitmq-restart", action="store_true")
    parser.add_argument(
        "--rabbitmq-node",
        default=None,
        help="the node rabbitmqctl restarts (-n), when --amqp-url is not the machine's default one",
    )
    parser.add_argument("--seed", type=int, default=None, help="fault order (default: random)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=10,
        help="seconds before a POST counts as indeterminate",
    )
    parser.add_argument(
        "--quiet", type=float, default=20, help="seconds without a new effect that mean quiet"
    )
    parser.add_argument("--max-wait", type=float, default=600, help="longest wait for quiet")
    infrastructure_options(parser)
    options = parser.parse_args(argv)
    parse_faults(options.faults)  # refuse a typo before starting anything
    if options.seed is None:
        options.seed = random.randrange(2**32)
    return options


async def _indicators(poller: IndicatorsPoller, baseline: IndicatorCounts) -> IndicatorCounts:
    for _ in range(50):
        counts = await poller.read_now()
        if counts is not None:
            return IndicatorCounts(
                counts.cases_opened - baseline.cases_opened,
                counts.cases_assigned - baseline.cases_assigned,
                counts.notifications_sent - baseline.notifications_sent,
            )
        await asyncio.sleep(1)
    raise RuntimeError("indicators never answered after the run")


async def _queue_depths(amqp_url: str, queues: list[str]) -> dict[str, int]:
    depths: dict[str, int] = {}
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(amqp_url, timeout=5)
        async with connection:
            for queue in queues:
                with contextlib.suppress(Exception):
                    channel = await connection.channel()
                    declared = await channel.declare_queue(queue, passive=True)
                    depths[queue] = declared.declaration_result.message_count or 0
                    await channel.close()
    return depths


async def dead_letters(stack: Stack, poisons: int) -> dict[str, Any]:
    """What the parking queues (and the unrouted queue) hold at the end: poison messages are
    expected there, one per queue per poison fault; anything else is reported in full."""
    queues = consumer_queues(stack.namespace)
    parking = await _queue_depths(stack.amqp_url, [Names.parking_queue(q) for q in queues])
    unrouted = await _queue_depths(stack.amqp_url, [stack.names.unrouted_queue])
    out: dict[str, Any] = {"expected_poison_per_queue": poisons, "queues": {}}
    for queue in queues:
        parked = parking.get(Names.parking_queue(queue), 0)
        if not parked:
            out["queues"][queue] = {"parked": 0}
            continue
        items = [json.loads(i) for i in await list_parked(stack.amqp_url, queue, 100)]
        others = [i for i in items if not i["body"].startswith(POISON.decode())]
        out["queues"][queue] = {
            "parked": parked,
            "poison": len(items) - len(others),
            "other": others,
        }
    out["unrouted"] = unrouted.get(stack.names.unrouted_queue, 0)
    return out


async def wait_for_quiet(
    options: argparse.Namespace,
    stack: Stack,
    load: OpenLoopLoad,
    tap: EventTap,
    poller: IndicatorsPoller,
    baseline: IndicatorCounts,
) -> tuple[Accounting, float, bool]:
    """Until every case that exists has all its effects, or nothing new happened for
    `--quiet` seconds with every consumer queue empty; returns the accounting, the seconds it
    took and whether the run went quiet within `--max-wait`."""
    started = time.monotonic()
    last_change = started
    last_seen: tuple[int, int, IndicatorCounts] | None = None
    queues = consumer_queues(stack.namespace)
    records = [a.record() for a in load.attempts]
    while True:
        counts = await _indicators(poller, baseline)
        accounting = account(records, tap.events, stack.mail.emails, counts)
        if accounting.lost == 0:
            return accounting, time.monotonic() - started, True
        seen = (len(tap.received), len(stack.mail.received), counts)
        if seen != last_seen:
            last_seen, last_change = seen, time.monotonic()
        elif time.monotonic() - last_change > options.quiet:
            depths = await _queue_depths(stack.amqp_url, queues)
            if depths and not any(depths.values()):
                return accounting, time.monotonic() - started, True
        if time.monotonic() - started > options.max_wait:
            return accounting, time.monotonic() - started, False
        await asyncio.sleep(1)


async def chaos(options: argparse.Namespace) -> dict[str, Any]:
    result = metadata("chaos", options)
    counts = parse_faults(options.faults)
    stack = Stack(
        options.database_url,
        options.amqp_url,
        options.results / "logs",
        keep=options.keep,
        service_env_overrides=service_env(options),
    )
    rng = random.Random(options.seed)
    plan = schedule(counts, list(SERVICE_NAMES), rng)
    async with stack:
        result["run"] = {
            "database": stack.database,
            "namespace": stack.namespace,
            "logs": str(stack.logs),
        }
        tap = EventTap(stack.amqp_url, stack.namespace, durable=True)
        await tap.start()
        poller = IndicatorsPoller(
            stack.url("indicators"), headers=stack.headers("manager", sub="harness-poller")
        )
        baseline = await poller.read_now()
        assert baseline is not None, "indicators did not answer"
        sampler = ResourceSampler(stack)
        sampler.recording = True
        sampler.start()
        load = OpenLoopLoad(
            stack.url("intake"),
            stack.run_id,
            headers=stack.headers("intake", sub="harness-load"),
            timeout=options.request_timeout,
        )
        duration = options.cases / options.rate
        faults: list[FaultResult] = []
        try:
            origin = time.monotonic()
            load_task = asyncio.create_task(load.run(options.rate, duration))
            for k, (fault, target) in enumerate(plan):
                await asyncio.sleep(
                    max(0.0, origin + (k + 1) * duration / (len(plan) + 1) - time.monotonic())
                )
                print(f"fault {k + 1}/{len(plan)}: {fault.value} {target or ''}", file=sys.stderr)
                faults.append(
                    await inject(
                        stack,
                        fault,
                        target,
                        full_rabbitmq_restart=options.full_rabbitmq_restart,
                        rabbitmq_node=options.rabbitmq_node,
                    )
                )
                print(json.dumps(faults[-1].report(origin)), file=sys.stderr)
            faults_over = time.monotonic()
            await load_task
            load_over = time.monotonic()
            print("load over; waiting for quiet", file=sys.stderr)
            accounting, quiet_s, quiet = await wait_for_quiet(
                options, stack, load, tap, poller, baseline
            )
            drained = time.monotonic()
            result["dead_letters"] = await dead_letters(stack, counts.get(Fault.POISON, 0))
        finally:
            await load.close()
            await sampler.stop()
            await tap.stop()
    back = [f.figures["consumers_back_s"] for f in faults if "consumers_back_s" in f.figures]
    result.update(
        {
            "seed": options.seed,
            "load": {
                "cases": options.cases,
                "rate": options.rate,
                "seconds": round(load_over - origin, 1),
                "intake_latency_ms": percentiles(
                    [a.latency for a in load.attempts if a.outcome is Outcome.OK]
                ),
            },
            "faults": [f.report(origin) for f in faults],
            "fault_errors": sum(1 for f in faults if f.error),
            "consumers_back_s_max": max(back, default=None),
            "quiet": quiet,
            "drain_after_faults_s": round(drained - max(faults_over, load_over), 1),
            "wait_for_quiet_s": round(quiet_s, 1),
            "accounting": accounting.summary(),
            "resources": sampler.figures(),
        }
    )
    return result


def summary(result: dict[str, Any]) -> str:
    acc = result["accounting"]
    lines = [
        f"atiende-chaos {result['date']} commit {result['commit'][:12]} seed {result['seed']}",
        f"load: {result['load']['cases']} cases at {result['load']['rate']:g}/s "
        f"over {result['load']['seconds']} s; requests {acc['requests']}",
    ]
    for f in result["faults"]:
        extra = {k: v for k, v in f.items() if k not in {"fault", "target", "at_s"}}
        lines.append(f"  at {f['at_s']:>7} s  {f['fault']:<9} {f['target'] or '':<14} {extra}")
    lines += [
        f"consumers back after broker restart (max): {result['consumers_back_s_max']} s",
        f"drained {result['drain_after_faults_s']} s after faults and load stopped"
        + ("" if result["quiet"] else " (NOT quiet: gave up waiting)"),
        f"lost {acc['lost']}  duplicated {acc['duplicated']}  unexpected {acc['unexpected']}"
        f"  recovered {acc['recovered']}  resent (same id, deduplicable) {acc['resent']}",
    ]
    lines += [f"  {k}: {v}" for k, v in acc["by_effect"].items()]
    lines += [f"  e.g. {e}" for e in acc["examples"][:10]]
    dl = result["dead_letters"]
    lines.append(
        f"dead letters (expected {dl['expected_poison_per_queue']} poison per queue;"
        f" unrouted {dl['unrouted']}):"
    )
    for queue, held in dl["queues"].items():
        others = held.get("other", [])
        lines.append(
            f"  {queue:<55} parked {held['parked']:>4}  poison {held.get('poison', 0)}"
            f"  other {len(others)}"
            + "".join(
                f"\n      {o['type']} case {o['case_id']} ({o['reason']})" for o in others[:5]
            )
        )
    return "\n".join(lines)


def failed(result: dict[str, Any]) -> bool:
    acc = result["accounting"]
    return bool(acc["lost"] or acc["duplicated"] or acc["unexpected"])


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # the broker restarts are intended: the client libraries' reconnection tracebacks are noise
    for name in ("aio_pika", "aiormq"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    result = asyncio.run(chaos(options))
    path = write(options.results, "chaos", result)
    print(summary(result))
    print(f"written to {path}")
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
