"""What both entry points share: command-line options for the infrastructure, percentiles, and
the JSON result file (with the date, the commit and the options of the run)."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def infrastructure_options(parser: argparse.ArgumentParser) -> None:
    from .procs import with_database

    # the server of ATIENDE_DATABASE_ADMIN_URL, but never its database: a run makes a database of
    # its own (ATIENDE_DATABASE_URL is a service's role, which may not create databases)
    server = os.environ.get("ATIENDE_DATABASE_ADMIN_URL")
    parser.add_argument(
        "--database-url",
        default=with_database(server, "postgres") if server else DEFAULT_PG,
        help="an administrative URL of the PostgreSQL server; the run creates its own database",
    )
    parser.add_argument("--amqp-url", default=os.environ.get("ATIENDE_AMQP_URL", DEFAULT_AMQP))
    parser.add_argument("--results", type=Path, default=Path("results"), help="output folder")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's database and queues for a post-mortem"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the services' log level (INFO is what runs in production)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for every service process (repeatable), e.g. to compare"
        " settings: --env OTEL_SDK_DISABLED=true",
    )


def service_env(options: argparse.Namespace) -> dict[str, str]:
    """The variables the run sets for every service process."""
    env = {"ATIENDE_LOG_LEVEL": options.log_level}
    for item in options.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env takes NAME=VALUE, not {item!r}")
        env[name] = value
    return env


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | int | None]:
    """p50/p95/p99/max by nearest rank, in milliseconds for values in seconds."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * scale, 1)

    return {
        "count": len(ordered),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1] * scale, 1),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(Path(__file__).parent), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def metadata(kind: str, options: argparse.Namespace) -> dict[str, Any]:
    return {
        "kind": kind,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": _git("status", "--porcelain", "--untracked-files=no") != "",
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "options": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(options).items()
            if key not in {"database_url", "amqp_url"}
        },
    }


def write(results: Path, kind: str, data: dict[str, Any]) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
