"""atiende-bench-assignment: how long routing takes to choose an agent for a case among 500
agents (the pure decision: availability, capacity per channel, required skills, sticky, then the
team's strategy). Prints one JSON line per strategy with p50/p99/max in microseconds."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from atiende_contracts import Availability
from atiende_routing.domain.assignment import AgentLoad, CaseNeeds, choose_agent
from atiende_routing.domain.org import Agent, Capacity, Skills, Strategy

LANGUAGES = ("es", "en", "fr", "de", "ca", "eu", "gl", "pt")
MOTIVES = tuple(f"motive-{n}" for n in range(40))
CHANNELS = ("email", "phone", "chat", "web_form")


def agents(count: int, rng: random.Random, now: datetime) -> list[AgentLoad]:
    out = []
    for n in range(count):
        capacity = rng.randint(3, 12)
        agent = Agent(
            id=f"agent-{n:04d}",
            name=f"Agent {n}",
            teams=("general",),
            availability=rng.choices(list(Availability), weights=(7, 2, 1))[0],
            skills=Skills(
                languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 3))),
                motives=frozenset(rng.sample(MOTIVES, rng.randint(2, 10))),
                channels=frozenset(rng.sample(CHANNELS, rng.randint(1, 4))),
            ),
            capacity=Capacity(capacity, {"phone": max(1, capacity // 4)}),
        )
        open_cases = rng.randint(0, capacity)
        out.append(
            AgentLoad(
                agent,
                open_cases,
                {"phone": min(open_cases, rng.randint(0, 2))},
                now - timedelta(seconds=rng.randint(0, 36_000)),
            )
        )
    return out


def measure(
    strategy: Strategy, loads: list[AgentLoad], decisions: int, rng: random.Random, now: datetime
) -> dict[str, object]:
    timings: list[float] = []
    chosen = 0
    for _ in range(decisions):
        needs = CaseNeeds(
            channel=rng.choice(CHANNELS),
            language=rng.choice(LANGUAGES),
            motive=rng.choice(MOTIVES),
            required=Skills(languages=frozenset({rng.choice(LANGUAGES)}))
            if rng.random() < 0.3
            else Skills(),
            previous_agent_id=f"agent-{rng.randrange(len(loads)):04d}"
            if rng.random() < 0.2
            else None,
        )
        started = time.perf_counter()
        choice = choose_agent(strategy, "general", loads, needs, now)
        timings.append((time.perf_counter() - started) * 1e6)
        chosen += choice is not None
    timings.sort()
    return {
        "bench": "assignment",
        "strategy": strategy.value,
        "agents": len(loads),
        "decisions": decisions,
        "assigned_share": round(chosen / decisions, 3),
        "p50_us": round(statistics.median(timings), 1),
        "p99_us": round(timings[int(len(timings) * 0.99) - 1], 1),
        "max_us": round(timings[-1], 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="atiende-bench-assignment", description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=8)
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    now = datetime.now(UTC)
    loads = agents(options.agents, rng, now)
    for strategy in Strategy:
        print(json.dumps(measure(strategy, loads, options.decisions, rng, now)), flush=True)


if __name__ == "__main__":
    main()
