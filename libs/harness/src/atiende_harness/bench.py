"""`atiende-bench` (`make bench`): how fast the five services open, assign, acknowledge and count
cases on this machine, as real processes on the real PostgreSQL, RabbitMQ and an SMTP server.

For each target rate (`--rate 50,100,200` runs them in turn on the same services), cases are
opened open-loop for `--warmup` seconds (not measured), then for `--duration` seconds (measured),
then the run waits for their effects to drain; it stops at the first step not sustained.
Figures per step: achieved rate, the backlog (scheduled but not yet acknowledged by email) and
whether the step was sustained, latency percentiles from the POST's
scheduled time to the 201, to `case.assigned` on the exchange, to the email at the SMTP server
and to the case being counted by the indicators. Per run: the floor (raw INSERT + confirmed
publish rate), peak RSS and CPU of each process, and the highest rate sustained.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import sys
import time
from typing import Any

from .accounting import ASSIGNED, Outcome
from .floor import measure_floor
from .load import Attempt, OpenLoopLoad
from .microbench import run_in_process
from .observe import EventTap, IndicatorsPoller
from .preload import preload
from .procs import ResourceSampler, Stack
from .report import infrastructure_options, metadata, percentiles, service_env, write

TARGETS = {
    "sustained_cases_per_s": 150,
    "p99_post_to_email_ms_at_100_per_s": 1000,
    "p99_intake_ms_at_100_per_s": 50,
    "peak_rss_mb_per_service": 150,
    "service_cpu_ms_per_case": 10,
    "consumer_to_floor_ratio": 0.4,
}
SERVICES = ("intake", "routing", "surveys", "notifications", "indicators")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="atiende-bench", description=__doc__)
    parser.add_argument(
        "--rate",
        default="10,20,30,40,60,80,100,150,200,300,400",
        type=lambda text: [float(r) for r in text.split(",")],
        help="cases per second; several (50,100,200) run as steps, lowest first, up to the"
        " first that is not sustained",
    )
    parser.add_argument("--duration", type=float, default=60, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds per step")
    parser.add_argument("--preload", type=int, default=0, help="stored cases to start from")
    parser.add_argument("--floor-seconds", type=float, default=10, help="0: no floor measure")
    parser.add_argument(
        "--microbench-events",
        type=int,
        default=3000,
        help="events through the runtime microbenchmark (consumer and relay); 0: skip it",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=120, help="longest wait for a step's effects"
    )
    infrastructure_options(parser)
    options = parser.parse_args(argv)
    options.rate = sorted(options.rate)
    return options


class Effects:
    """First arrival of each effect, looked up by case id or customer email."""

    def __init__(self, tap: EventTap, stack: Stack, poller: IndicatorsPoller, baseline: int):
        self.tap, self.mail, self.poller, self.baseline = tap, stack.mail, poller, baseline
        self.assigned: dict[str, float] = {}
        self.emailed: dict[str, float] = {}
        self._seen_events = self._seen_mail = 0

    def refresh(self) -> None:
        for at, event in self.tap.received[self._seen_events :]:
            if event.routing_key == ASSIGNED:
                case_id = str(event.data.get("case_id") or event.subject)
                self.assigned.setdefault(case_id, at)
        self._seen_events = len(self.tap.received)
        for at, email in self.mail.received[self._seen_mail :]:
            self.emailed.setdefault(email.to.lower(), at)
        self._seen_mail = len(self.mail.received)

    def counted_at(self, ranks: dict[int, int]) -> dict[int, float]:
        """For each request index, when the indicators first showed at least its rank in cases
        opened by this run (the k-th case answered is taken as the k-th they count)."""
        readings = self.poller.readings
        counts = [r.cases_opened - self.baseline for _, r in readings]  # never decreasing
        out = {}
        for index, rank in ranks.items():
            i = bisect.bisect_left(counts, rank)
            if i < len(readings):
                out[index] = readings[i][0]
        return out

    def complete(self, attempts: list[Attempt], opened_so_far: int) -> bool:
        self.refresh()
        latest = self.poller.latest
        return (
            all(
                a.case_id in self.assigned and a.email in self.emailed
                for a in attempts
                if a.outcome is Outcome.OK
            )
            and latest is not None
            and latest.cases_opened - self.baseline >= opened_so_far
        )


def _backlog(
    attempts: list[Attempt], emailed: dict[str, float], start: float, end: float
) -> dict[str, Any]:
    """Cases scheduled but not yet acknowledged by email, once a second through the window, and
    the slope of its second half: positive and steady means the rate is not sustained."""
    scheduled = sorted(a.scheduled for a in attempts)
    done = sorted(emailed[a.email] for a in attempts if a.email in emailed)
    points = []
    t = start + 1.0
    while t <= end + 1e-9:
        points.append((t - start, bisect.bisect_right(scheduled, t) - bisect.bisect_right(done, t)))
        t += 1.0
    half = points[len(points) // 2 :]
    slope = 0.0
    if len(half) >= 2:
        mean_x = sum(x for x, _ in half) / len(half)
        mean_y = sum(y for _, y in half) / len(half)
        var = sum((x - mean_x) ** 2 for x, _ in half)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in half) / var if var else 0.0
    return {
        "at_end": points[-1][1] if points else 0,
        "max": max((y for _, y in points), default=0),
        "slope_per_s": round(slope, 2),
    }


def step_figures(
    rate: float,
    attempts: list[Attempt],
    effects: Effects,
    ranks: dict[int, int],
    drain: float | None,
    cpu_seconds: dict[str, float] | None = None,
) -> dict[str, Any]:
    start = attempts[0].scheduled
    end = start + len(attempts) / rate
    seconds = end - start
    ok = [a for a in attempts if a.outcome is Outcome.OK]
    answered_in_window = sum(1 for a in ok if a.done <= end)
    emailed_in_window = sum(1 for a in ok if effects.emailed.get(a.email, end + 1) <= end)
    backlog = _backlog(attempts, effects.emailed, start, end)
    acknowledged_rate = emailed_in_window / seconds
    # kept up: answered and acknowledged at (nearly) the offered rate, and what was still in
    # flight when the offer stopped drained in moments, not in a queue's worth of minutes
    drained_quickly = drain is not None and drain <= max(5.0, 0.1 * seconds)
    counted = effects.counted_at({a.index: ranks[a.index] for a in ok})
    cpu_ms_per_case = {
        name: round(used * 1000 / len(ok), 2) for name, used in (cpu_seconds or {}).items() if ok
    }
    if cpu_ms_per_case:
        cpu_ms_per_case["services_total"] = round(
            sum(v for k, v in cpu_ms_per_case.items() if k in SERVICES), 2
        )
        if "postgresql" in cpu_ms_per_case:
            # what one case costs the whole machine: on 2 cores, 2 000 ms of CPU a second
            cpu_ms_per_case["everything"] = round(
                sum(v for k, v in cpu_ms_per_case.items() if k != "services_total"), 2
            )
    return {
        "target_rate": rate,
        "measured_s": round(seconds, 1),
        "requests": len(attempts),
        "outcomes": {o.value: sum(1 for a in attempts if a.outcome is o) for o in Outcome},
        "achieved_rate": round(answered_in_window / seconds, 1),
        "acknowledged_rate": round(acknowledged_rate, 1),
        "backlog": backlog,
        "sustained": len(ok) == len(attempts)
        and answered_in_window >= 0.95 * len(attempts)
        and acknowledged_rate >= 0.9 * rate
        and drained_quickly,
        "drain_s": round(drain, 1) if drain is not None else None,
        "cpu_ms_per_case": cpu_ms_per_case,
        "generator_max_lag_ms": round(
            max((a.sent - a.scheduled for a in attempts), default=0) * 1000, 1
        ),
        "latency_ms": {
            "intake_api": percentiles([a.latency for a in ok]),
            "post_to_assigned": percentiles(
                [
                    effects.assigned[a.case_id] - a.scheduled
                    for a in ok
                    if a.case_id in effects.assigned
                ]
            ),
            "post_to_email": percentiles(
                [effects.emailed[a.email] - a.scheduled for a in ok if a.email in effects.emailed]
            ),
            "post_to_counted": percentiles(
                [counted[a.index] - a.scheduled for a in ok if a.index in counted]
            ),
        },
    }


async def bench(options: argparse.Namespace) -> dict[str, Any]:
    result = metadata("bench", options)
    stack = Stack(
        options.database_url,
        options.amqp_url,
        options.results / "logs",
        keep=options.keep,
        service_env_overrides=service_env(options),
    )
    async with stack:
        result["run"] = {
            "database": stack.database,
            "namespace": stack.namespace,
            "logs": str(stack.logs),
        }
        if options.preload:
            print(f"preloading {options.preload} stored cases…", file=sys.stderr)
            result["preload"] = await preload(stack.database_url, options.preload)
        if options.floor_seconds:
            print("measuring the floor…", file=sys.stderr)
            result["floor"] = await measure_floor(
                stack.database_url, stack.amqp_url, stack.namespace, seconds=options.floor_seconds
            )
        if options.microbench_events:
            print("runtime microbenchmark…", file=sys.stderr)
            result["microbench"] = await asyncio.to_thread(
                run_in_process,
                stack.database_url,
                stack.amqp_url,
                f"{stack.namespace}m",
                events=options.microbench_events,
                log_path=stack.logs / "microbench.log",
                env={**os.environ, **service_env(options)},
            )
            floor_rate = result.get("floor", {}).get("operations_per_s")
            for figure in result["microbench"].values():
                if floor_rate and figure.get("events_per_s"):
                    figure["to_floor_ratio"] = round(figure["events_per_s"] / floor_rate, 3)
        tap = EventTap(stack.amqp_url, stack.namespace, durable=False)
        await tap.start()
        poller = IndicatorsPoller(
            stack.url("indicators"), headers=stack.headers("manager", sub="harness-poller")
        )
        first = await poller.read_now()
        assert first is not None, "indicators did not answer"
        poller.start()
        sampler = ResourceSampler(stack)
        sampler.start()
        load = OpenLoopLoad(
            stack.url("intake"), stack.run_id, headers=stack.headers("intake", sub="harness-load")
        )
        effects = Effects(tap, stack, poller, first.cases_opened)
        steps = []
        try:
            for rate in options.rate:
                print(
                    f"step {rate:g} cases/s: warm-up {options.warmup:g} s, measure {options.duration:g} s",
                    file=sys.stderr,
                )
                if options.warmup:
                    await load.run(rate, options.warmup)
                sampler.recording = True
                cpu_before = sampler.cpu_seconds()
                servers_before = sampler.server_cpu_seconds()
                attempts = await load.run(rate, options.duration)
                cpu_after = sampler.cpu_seconds()
                servers_after = sampler.server_cpu_seconds()
                sampler.recording = False
                # process CPU time spent in the window ÷ cases in it (a restarted process: left out)
                cpu_used = {
                    name: cpu_after[name] - used
                    for name, used in cpu_before.items()
                    if name in cpu_after and cpu_after[name] >= used
                }
                for server, pids in servers_after.items():
                    before = servers_before.get(server, {})
                    cpu_used[server] = sum(
                        max(0.0, used - before.get(pid, 0.0)) for pid, used in pids.items()
                    )
                window_end = attempts[0].scheduled + options.duration
                deadline = time.monotonic() + options.drain_timeout
                opened = sum(1 for a in load.attempts if a.outcome is Outcome.OK)
                drain: float | None = None
                while time.monotonic() < deadline:
                    if effects.complete(load.attempts, opened):
                        drain = time.monotonic() - window_end
                        break
                    await asyncio.sleep(0.2)
                # the k-th case answered is the one the indicators count as their k-th
                ranked = sorted(
                    (a for a in load.attempts if a.outcome is Outcome.OK), key=lambda a: a.done
                )
                ranks = {a.index: k + 1 for k, a in enumerate(ranked)}
                effects.refresh()
                steps.append(step_figures(rate, attempts, effects, ranks, drain, cpu_used))
                print(json.dumps(steps[-1]), file=sys.stderr)
                if not steps[-1]["sustained"] or drain is None:
                    # a higher rate cannot be sustained either, and would start on this backlog
                    break
        finally:
            await load.close()
            await sampler.stop()
            await poller.stop()
            await tap.stop()
    result["steps"] = steps
    sustained = [s["target_rate"] for s in steps if s["sustained"]]
    result["highest_sustained_rate"] = max(sustained, default=None)
    result["resources"] = sampler.figures()
    floor = result.get("floor")
    if floor and result["highest_sustained_rate"]:
        result["pipeline_to_floor_ratio"] = round(
            result["highest_sustained_rate"] / floor["operations_per_s"], 3
        )
    result["targets"] = where_we_stand(result)
    return result


def where_we_stand(result: dict[str, Any]) -> dict[str, Any]:
    steps = result["steps"]
    best = max((s for s in steps if s["sustained"]), key=lambda s: s["target_rate"], default=None)
    at_100 = next((s for s in steps if s["target_rate"] == 100), None)
    services = {k: v for k, v in result["resources"].items() if k in SERVICES}
    consumer = result.get("microbench", {}).get("consumer", {})
    return {
        "sustained_cases_per_s": {
            "target": TARGETS["sustained_cases_per_s"],
            "measured": result["highest_sustained_rate"],
        },
        "p99_post_to_email_ms_at_100_per_s": {
            "target": TARGETS["p99_post_to_email_ms_at_100_per_s"],
            "measured": at_100["latency_ms"]["post_to_email"]["p99"] if at_100 else None,
            "measured_at_highest_sustained": best["latency_ms"]["post_to_email"]["p99"]
            if best
            else None,
        },
        "p99_intake_ms_at_100_per_s": {
            "target": TARGETS["p99_intake_ms_at_100_per_s"],
            "measured": at_100["latency_ms"]["intake_api"]["p99"] if at_100 else None,
        },
        "peak_rss_mb_per_service": {
            "target": TARGETS["peak_rss_mb_per_service"],
            "measured": max((v["peak_rss_mb"] for v in services.values()), default=None),
        },
        "service_cpu_ms_per_case": {
            "target": TARGETS["service_cpu_ms_per_case"],
            "measured_at_highest_sustained": best["cpu_ms_per_case"].get("services_total")
            if best
            else None,
        },
        "consumer_to_floor_ratio": {
            "target": TARGETS["consumer_to_floor_ratio"],
            "measured": consumer.get("to_floor_ratio"),
        },
    }


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"atiende-bench {result['date']} commit {result['commit'][:12]} on {result['machine']['cores']} cores"
    ]
    if "preload" in result:
        lines.append(
            f"preloaded {result['preload']['cases']} stored cases in {result['preload']['seconds']} s"
        )
    if "floor" in result:
        lines.append(f"floor: {result['floor']['operations_per_s']} INSERT+confirmed publish per s")
    for name, m in result.get("microbench", {}).items():
        lines.append(
            f"runtime microbenchmark, {name}: {m.get('events_per_s')} events/s"
            f" = {m.get('to_floor_ratio')} of the floor ({m.get('events')} events)"
        )
    for s in result["steps"]:
        lat = s["latency_ms"]
        lines.append(
            f"{s['target_rate']:>6g}/s  achieved {s['achieved_rate']:>6g}/s  acked {s['acknowledged_rate']:>6g}/s"
            f"  backlog slope {s['backlog']['slope_per_s']:>6g}/s  {'sustained' if s['sustained'] else 'NOT sustained'}"
            f"  drain {s['drain_s']} s"
        )
        for name, p in lat.items():
            lines.append(
                f"          {name:<17} p50 {p['p50']} p95 {p['p95']} p99 {p['p99']} max {p['max']} ms (n={p['count']})"
            )
        if s.get("cpu_ms_per_case"):
            lines.append(
                "          CPU ms per case: "
                + ", ".join(f"{k} {v}" for k, v in s["cpu_ms_per_case"].items())
            )
    lines.append(f"highest rate sustained: {result['highest_sustained_rate']} cases/s")
    if "pipeline_to_floor_ratio" in result:
        lines.append(f"pipeline / floor: {result['pipeline_to_floor_ratio']}")
    lines.append("resources (CPU in % of one core; the machine's in % of all its cores):")
    for name, r in result["resources"].items():
        rss = f"{r['peak_rss_mb']:>7} MB" if r["peak_rss_mb"] else "      - MB"
        lines.append(
            f"  {name:<27} peak RSS {rss}  CPU mean {r['cpu_percent_mean']:>6}%"
            f"  peak {r['cpu_percent_peak']:>6}%"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # the harness shares the machine's two cores with what it measures: on uvloop (as the
    # services run) its own load generator, SMTP sink and event tap take less of them
    import uvloop

    result = uvloop.run(bench(options))
    path = write(options.results, "bench", result)
    print(summary(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
