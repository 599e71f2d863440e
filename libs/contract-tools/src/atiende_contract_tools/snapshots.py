"""JSON Schema snapshots of every event: write them, load them, check them against the models.

Every event version has a committed snapshot `<event_type>.v<version>.json` in the contracts
package (`atiende_contracts/schemas/`, the contract's published data). Snapshots of older versions
stay: v1 and v2 of one event may be on the wire at the same time.

Writing refuses to overwrite a snapshot with a breaking change of the same version (`force`
overrides, for an event never published); the rule is `compatibility.breaking_changes`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import atiende_contracts
from atiende_contracts import ALL_EVENTS, EventData, json_schema

from .compatibility import Schema, breaking_changes

SCHEMAS_DIR = Path(atiende_contracts.__file__).resolve().parent / "schemas"
"""Where the committed snapshots live (inside the contracts package, so they ship with it)."""

REGENERATE = "uv run atiende-contracts"
"""The command that rewrites the snapshots and docs/asyncapi.yaml (named in every hint)."""


def snapshot_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def snapshot_path(model: type[EventData], directory: Path = SCHEMAS_DIR) -> Path:
    return directory / snapshot_name(model.event_type, model.version)


def current_schemas() -> dict[str, Schema]:
    """The JSON Schema of every event in ALL_EVENTS, keyed by its snapshot file name."""
    return {snapshot_name(m.event_type, m.version): json_schema(m) for m in ALL_EVENTS}


def render_json(document: Any) -> str:
    """Stable text: sorted keys, indent 2, trailing newline (so diffs are reviewable)."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def load_snapshot(model: type[EventData], directory: Path = SCHEMAS_DIR) -> Schema | None:
    """The committed snapshot of the model's current version, or None if there is none."""
    path = snapshot_path(model, directory)
    if not path.exists():
        return None
    loaded: Schema = json.loads(path.read_text(encoding="utf-8"))
    return loaded


class BreakingChangeError(ValueError):
    """A schema breaks the committed snapshot of its own version: raise the version instead."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def write_snapshots(directory: Path = SCHEMAS_DIR, *, force: bool = False) -> list[Path]:
    """Write the snapshot of every event's current version; return the files that changed.

    Snapshots of other (older) versions are left alone. A snapshot is never overwritten with a
    breaking change (that would hide it): BreakingChangeError is raised and nothing is written,
    unless `force` (for an event no one has published yet).
    """
    if not force:
        problems = [p for p in check_snapshots(directory) if "no committed snapshot" not in p]
        if problems:
            raise BreakingChangeError(problems)
    directory.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    for name, schema in current_schemas().items():
        path = directory / name
        text = render_json(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def check_snapshots(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Problems that must fail a build: a missing snapshot, or a breaking change against it."""
    problems: list[str] = []
    for model in ALL_EVENTS:
        committed = load_snapshot(model, directory)
        label = f"{model.__name__} ({model.routing_key()})"
        if committed is None:
            problems.append(
                f"{label}: no committed snapshot {snapshot_path(model, directory).name}; "
                f"run `{REGENERATE}`"
            )
            continue
        for change in breaking_changes(committed, json_schema(model)):
            problems.append(
                f"{label}: {change}; raise {model.__name__}.version and run `{REGENERATE}`"
            )
    return problems


def outdated_snapshots(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Snapshot files that differ from the current schema (compatible or not)."""
    return [
        name
        for name, schema in current_schemas().items()
        if not (directory / name).exists()
        or (directory / name).read_text(encoding="utf-8") != render_json(schema)
    ]
