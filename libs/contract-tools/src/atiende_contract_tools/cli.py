"""The `atiende-contracts` command: write or check the event schema snapshots and the AsyncAPI
document.

    uv run atiende-contracts          # write schemas/ and docs/asyncapi.yaml
    uv run atiende-contracts --check  # write nothing; exit 1 if a change is breaking

Writing refuses to overwrite a snapshot with a breaking change of the same version (`--force`
overrides, for an event never published).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from atiende_contracts import ALL_EVENTS

from .asyncapi import ASYNCAPI_PATH, render_asyncapi, write_asyncapi
from .snapshots import (
    REGENERATE,
    SCHEMAS_DIR,
    BreakingChangeError,
    check_snapshots,
    outdated_snapshots,
    write_snapshots,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atiende-contracts",
        description="Write the JSON Schema snapshot of every event and docs/asyncapi.yaml.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if an event's schema breaks its committed snapshot",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite snapshots even with a breaking change (only for never-published events)",
    )
    parser.add_argument("--schemas-dir", type=Path, default=SCHEMAS_DIR)
    parser.add_argument("--asyncapi", type=Path, default=ASYNCAPI_PATH)
    args = parser.parse_args(argv)

    if args.check:
        problems = check_snapshots(args.schemas_dir)
        for problem in problems:
            print(f"BREAKING {problem}", file=sys.stderr)
        for name in outdated_snapshots(args.schemas_dir):
            if not any(name.removesuffix(".json") in p for p in problems):
                print(f"note: {name} is outdated (compatible change); run `{REGENERATE}`")
        if args.asyncapi.exists() and args.asyncapi.read_text(encoding="utf-8") != (
            render_asyncapi()
        ):
            print(f"note: {args.asyncapi} is outdated; run `{REGENERATE}`")
        if problems:
            return 1
        print(f"{len(ALL_EVENTS)} event schemas compatible with their snapshots")
        return 0

    try:
        written = write_snapshots(args.schemas_dir, force=args.force)
    except BreakingChangeError as exc:
        for problem in exc.problems:
            print(f"BREAKING {problem}", file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    if write_asyncapi(args.asyncapi):
        print(f"wrote {args.asyncapi}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
