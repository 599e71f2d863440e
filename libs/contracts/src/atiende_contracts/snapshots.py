"""JSON Schema snapshots of every event, the breaking-change rule, and the AsyncAPI document.

    uv run python -m atiende_contracts.snapshots          # write schemas/ and docs/asyncapi.yaml
    uv run python -m atiende_contracts.snapshots --check  # exit 1 if a change is breaking

Writing refuses to overwrite a snapshot with a breaking change of the same version (`--force`
overrides, for an event never published).

Every event version has a committed snapshot `schemas/<event_type>.v<version>.json`. Snapshots of
older versions stay: v1 and v2 of one event may be on the wire at the same time.

The compatibility rule (`breaking_changes`) is *backward compatibility*: a consumer built on the
new schema must accept every message that was valid under the old one (messages already in a
queue, in a `.parked` queue waiting to be replayed, or still published by a producer not yet
upgraded). So removing a property, narrowing a type, losing an enum value, tightening a format or
bound, and requiring a property are breaking; adding an optional property, widening a type and
gaining an enum value are not. The latter still reach consumers that do not know them yet (the
models forbid extra fields and validate enums), hence the deployment order: consumers before
producers. See docs/events.md, "Versioning".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .envelope import HEADER_PREFIX, SPEC_VERSION, EventData
from .events import ALL_EVENTS
from .registry import json_schema
from .topology import Names

Schema = dict[str, Any]

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
"""Where the committed snapshots live (inside the package, so they ship with it)."""

_REPO_ROOT = Path(__file__).resolve().parents[4]
ASYNCAPI_PATH = _REPO_ROOT / "docs" / "asyncapi.yaml"
"""The generated AsyncAPI document (only meaningful in a source checkout)."""

REGENERATE = "python -m atiende_contracts.snapshots"

PRODUCER: dict[str, str] = {
    "case.opened": "intake",
    "contact.received": "intake",
    "case.contact_linked": "intake",
    "customer.profile_changed": "intake",
    "customer.merged": "intake",
    "customer.merge_undone": "intake",
    "customer.erased": "intake",
    "catalogue.entry_changed": "intake",
    "case.assigned": "routing",
    "case.resolved": "routing",
    "survey.invited": "surveys",
    "survey.answered": "surveys",
    "notification.sent": "notifications",
    "notification.failed": "notifications",
}
"""The one service that publishes each event type (documentation: docs/events.md, AsyncAPI)."""

CONSUMERS: dict[str, tuple[str, ...]] = {
    "case.opened": ("routing", "notifications", "surveys", "indicators"),
    "contact.received": ("indicators",),
    "case.contact_linked": ("indicators",),
    "customer.profile_changed": ("indicators",),
    "customer.merged": ("indicators",),
    "customer.merge_undone": ("indicators",),
    "customer.erased": ("indicators",),
    "catalogue.entry_changed": ("indicators",),
    "case.assigned": ("indicators",),
    "case.resolved": ("intake", "surveys", "indicators"),
    "survey.invited": ("notifications", "indicators"),
    "survey.answered": ("indicators",),
    "notification.sent": ("intake", "indicators"),
    "notification.failed": ("indicators",),
}
"""The services that subscribe to each event type, each with its own consumer-group queue."""


# --- snapshots ------------------------------------------------------------------------------


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


# --- the breaking-change rule ---------------------------------------------------------------

_MIN_KEYWORDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_MAX_KEYWORDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_ANY = "any"


def breaking_changes(old_schema: Mapping[str, Any], new_schema: Mapping[str, Any]) -> list[str]:
    """What in `new_schema` rejects data `old_schema` accepted, or drops what it promised.

    Reported as breaking:
    - a removed property;
    - a new entry in `required` (a new required property, or an optional one became required);
    - a property whose type no longer accepts one of the old JSON types (`integer` -> `number`
      is a widening, fine), whose enum lost a value, whose `format` or `pattern` changed or
      appeared, whose bounds (minimum, maxLength, ...) tightened, or whose object/array contents
      changed in one of these ways (nested properties are checked the same way);
    - an object that stopped allowing additional properties.

    Not breaking: a new optional property, a property no longer required, a widened type, an enum
    that gained a value, loosened bounds, changed titles/descriptions/defaults. An enum gaining a
    value is a deliberate choice: consumers must be upgraded before producers emit the new value
    (docs/events.md). `$ref`s into `$defs` (where pydantic puts enums and nested models) are
    resolved on both sides before comparing.
    """
    comparer = _Comparer(old_schema, new_schema)
    return comparer.schema(old_schema, new_schema, "", frozenset())


class _Comparer:
    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root

    # -- structure

    def schema(
        self,
        old: Mapping[str, Any] | bool,
        new: Mapping[str, Any] | bool,
        path: str,
        seen: frozenset[tuple[str, str]],
    ) -> list[str]:
        """Compare two (sub)schemas at `path` ("" is the document root)."""
        if new is True or new == {}:
            return []
        if old is False:
            return []
        if new is False:
            return [f"{_where(path)}: no longer accepts any value"]
        old_map: Mapping[str, Any] = {} if old is True else old
        assert isinstance(new, Mapping)
        old_resolved, old_ref = _resolve(old_map, self.old_root)
        new_resolved, new_ref = _resolve(new, self.new_root)
        if old_ref and new_ref:
            if (old_ref, new_ref) in seen:
                return []  # a recursive schema: this pair is already being compared
            seen = seen | {(old_ref, new_ref)}
        old_variants = _typed_variants(old_resolved, self.old_root)
        new_variants = _typed_variants(new_resolved, self.new_root)

        problems: list[str] = []
        new_types = sorted({t for t, _ in new_variants})
        lost_types: list[str] = []
        for old_type, old_variant in old_variants:
            candidates = [v for t, v in new_variants if _accepts_type(t, old_type)]
            if not candidates:
                lost_types.append(old_type)
                continue
            attempts: list[list[str]] = [
                self.variant(old_variant, c, old_type, path, seen) for c in candidates
            ]
            if all(attempts):  # no new alternative takes this old one as it was
                problems.extend(sorted(attempts, key=len)[0])
        if lost_types:
            old_types = sorted({t for t, _ in old_variants})
            if len(lost_types) == len(old_variants):
                problems.insert(
                    0,
                    f"{_where(path)}: type changed from {_types(old_types)} to {_types(new_types)}",
                )
            else:
                problems.insert(
                    0, f"{_where(path)}: no longer accepts {_types(sorted(set(lost_types)))}"
                )
        return _unique(problems)

    def variant(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        json_type: str,
        path: str,
        seen: frozenset[tuple[str, str]],
    ) -> list[str]:
        """Compare one old alternative with one new alternative of a compatible JSON type."""
        where = _where(path)
        problems: list[str] = []

        old_enum, new_enum = _enum(old), _enum(new)
        if new_enum is not None:
            if old_enum is None:
                problems.append(f"{where}: now restricted to the values {_values(new_enum)}")
            else:
                new_keys = {_key(v) for v in new_enum}
                lost = [v for v in old_enum if _key(v) not in new_keys]
                if lost:
                    problems.append(f"{where}: enum lost {_values(lost)}")

        old_format, new_format = old.get("format"), new.get("format")
        if new_format is not None and new_format != old_format:
            if old_format is None:
                problems.append(f"{where}: format {new_format!r} added")
            else:
                problems.append(f"{where}: format changed from {old_format!r} to {new_format!r}")

        old_pattern, new_pattern = old.get("pattern"), new.get("pattern")
        if new_pattern is not None and new_pattern != old_pattern:
            problems.append(f"{where}: pattern changed from {old_pattern!r} to {new_pattern!r}")

        for keyword in _MIN_KEYWORDS:
            problems.extend(_bound(where, keyword, old.get(keyword), new.get(keyword), lower=True))
        for keyword in _MAX_KEYWORDS:
            problems.extend(_bound(where, keyword, old.get(keyword), new.get(keyword), lower=False))
        old_multiple: Any = old.get("multipleOf")
        new_multiple: Any = new.get("multipleOf")
        if _number(new_multiple) and not (
            _number(old_multiple) and old_multiple % new_multiple == 0
        ):
            problems.append(f"{where}: multipleOf changed from {old_multiple} to {new_multiple}")
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            problems.append(f"{where}: items must now be unique")

        if json_type in ("object", _ANY):
            problems.extend(self.object(old, new, path, seen))
        if json_type in ("array", _ANY) and "items" in new:
            problems.extend(self.schema(old.get("items", True), new["items"], f"{path}[]", seen))
        return problems

    def object(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        path: str,
        seen: frozenset[tuple[str, str]],
    ) -> list[str]:
        problems: list[str] = []
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = new.get("required", ())

        for name in old_props:
            if name not in new_props:
                problems.append(f"removed property '{_join(path, name)}'")
        for name in new_required:
            if name in old_required:
                continue
            if name in old_props:
                problems.append(f"property '{_join(path, name)}' became required")
            else:
                problems.append(f"new required property '{_join(path, name)}'")
        for name, old_prop in old_props.items():
            if name in new_props:
                problems.extend(self.schema(old_prop, new_props[name], _join(path, name), seen))

        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            problems.append(f"{_where(path)}: no longer allows additional properties")
        elif isinstance(new_extra, Mapping) and old_extra is not False:
            problems.extend(self.schema(old_extra, new_extra, _join(path, "*"), seen))
        return problems


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[Schema, str]:
    """Follow `$ref`s (and single-schema `allOf` wrappers); sibling keywords are kept.

    Returns the resolved schema and the last `$ref` followed ("" if none).
    """
    current: Schema = dict(schema)
    last_ref = ""
    for _ in range(64):
        if "$ref" in current:
            ref = current.pop("$ref")
            last_ref = ref
            current = {**_pointer(root, ref), **current}
        elif isinstance(current.get("allOf"), list) and len(current["allOf"]) == 1:
            (part,) = current.pop("allOf")
            current = {**part, **current}
        else:
            return current, last_ref
    raise ValueError(f"$ref chain too long (cyclic?) near {last_ref!r}")


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for token in [t for t in ref[1:].split("/") if t]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise ValueError(f"unresolvable $ref {ref!r}")
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref {ref!r} does not point to a schema object")
    return node


def _typed_variants(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[tuple[str, Schema]]:
    """Split a schema into alternatives of one JSON type each (`any` when untyped)."""
    for keyword in ("anyOf", "oneOf"):
        alternatives = schema.get(keyword)
        if isinstance(alternatives, list):
            out: list[tuple[str, Schema]] = []
            for alternative in alternatives:
                if alternative is True:
                    out.append((_ANY, {}))
                elif isinstance(alternative, Mapping):
                    resolved, _ = _resolve(alternative, root)
                    out.extend(_typed_variants(resolved, root))
            return out

    declared = schema.get("type")
    enum = _enum(schema)
    if isinstance(declared, str):
        types = [declared]
    elif isinstance(declared, list):
        types = [t for t in declared if isinstance(t, str)]
    elif enum is not None:
        types = sorted({_json_type(v) for v in enum})
    else:
        types = [_ANY]
    if len(types) == 1 and types[0] != _ANY and enum is None:
        return [(types[0], dict(schema))]
    variants: list[tuple[str, Schema]] = []
    for json_type in types:
        variant = {k: v for k, v in schema.items() if k not in ("type", "const")}
        if enum is not None and json_type != _ANY:
            variant["enum"] = [v for v in enum if _accepts_type(json_type, _json_type(v))]
        variants.append((json_type, variant))
    return variants


def _accepts_type(new_type: str, old_type: str) -> bool:
    return new_type in (old_type, _ANY) or (new_type == "number" and old_type == "integer")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _bound(where: str, keyword: str, old: Any, new: Any, *, lower: bool) -> list[str]:
    """A lower bound that rose or appeared, or an upper bound that fell or appeared."""
    if not _number(new):
        return []
    if not _number(old):
        return [f"{where}: {keyword} {new} added"]
    if (new > old) if lower else (new < old):
        return [f"{where}: {keyword} changed from {old} to {new}"]
    return []


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _values(values: Sequence[Any]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def _types(types: Sequence[str]) -> str:
    return "|".join(types)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    return f"property '{path}'" if path else "the event data"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- AsyncAPI ---------------------------------------------------------------------------------

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
_LOCAL_DEFS = "#/$defs/"
_COMPONENT_SCHEMAS = "#/components/schemas/"


def _contracts_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atiende-contracts")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


def _relocate_refs(node: Any) -> Any:
    """Point `#/$defs/X` refs at `#/components/schemas/X` (pydantic's defs are hoisted there)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_DEFS):
                out[key] = _COMPONENT_SCHEMAS + value.removeprefix(_LOCAL_DEFS)
            else:
                out[key] = _relocate_refs(value)
        return out
    if isinstance(node, list):
        return [_relocate_refs(item) for item in node]
    return node


def _headers_schema() -> Schema:
    p = HEADER_PREFIX
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 context attributes in binary content mode, each a `ce-` header, "
            "plus W3C trace context. The body is the event data."
        ),
        "required": [
            f"{p}id",
            f"{p}source",
            f"{p}type",
            f"{p}specversion",
            f"{p}time",
            f"{p}dataschema",
            f"{p}dataversion",
        ],
        "properties": {
            f"{p}id": {
                "type": "string",
                "format": "uuid",
                "description": "Event id, unique per event; also the AMQP message_id. "
                "Consumers deduplicate on it.",
            },
            f"{p}source": {
                "type": "string",
                "description": "The producing service; also the AMQP app_id.",
            },
            f"{p}type": {
                "type": "string",
                "description": "`io.atiende.<aggregate>.<event>.v<N>`; also the AMQP type.",
            },
            f"{p}specversion": {"type": "string", "const": SPEC_VERSION},
            f"{p}time": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (RFC 3339); the AMQP timestamp has it in "
                "whole seconds.",
            },
            f"{p}subject": {
                "type": "string",
                "description": "The case id, for case-related events; also the AMQP "
                "correlation_id.",
            },
            f"{p}dataschema": {
                "type": "string",
                "description": "`urn:atiende:events:<aggregate>.<event>:v<N>`, the `$id` of the "
                "data's JSON Schema.",
            },
            f"{p}dataversion": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "Extension attribute: the data schema version.",
            },
            "traceparent": {
                "type": "string",
                "description": "W3C Trace Context: the producer's span.",
            },
            "tracestate": {
                "type": "string",
                "description": "W3C Trace Context: vendor-specific trace state.",
            },
        },
    }


def asyncapi_document(names: Names | None = None) -> dict[str, Any]:
    """An AsyncAPI 3.0 description of the events exchange: one channel and message per event."""
    names = names or Names()
    schemas: dict[str, Any] = {"CloudEventsHeaders": _headers_schema()}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for model in ALL_EVENTS:
        key = model.routing_key()
        schema = json_schema(model)
        for def_name, definition in schema.pop("$defs", {}).items():
            hoisted = _relocate_refs(definition)
            if schemas.setdefault(def_name, hoisted) != hoisted:
                raise ValueError(f"two different schemas are both called {def_name!r}")
        schema.pop("$id", None)
        schemas[key] = _relocate_refs(schema)
        summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        producer = PRODUCER.get(model.event_type, "unknown")
        consumers = CONSUMERS.get(model.event_type, ())

        messages[key] = {
            "name": key,
            "title": model.__name__,
            **({"summary": summary} if summary else {}),
            "contentType": "application/json",
            "headers": {
                "allOf": [
                    {"$ref": f"{_COMPONENT_SCHEMAS}CloudEventsHeaders"},
                    {
                        "type": "object",
                        "properties": {
                            f"{HEADER_PREFIX}type": {"const": model.cloudevents_type()},
                            f"{HEADER_PREFIX}dataschema": {"const": model.dataschema()},
                            f"{HEADER_PREFIX}dataversion": {"const": str(model.version)},
                        },
                    },
                ]
            },
            "payload": {"$ref": f"{_COMPONENT_SCHEMAS}{key}"},
            "correlationId": {
                "description": "The case id (CloudEvents subject).",
                "location": f"$message.header#/{HEADER_PREFIX}subject",
            },
            "bindings": {
                "amqp": {
                    "messageType": model.cloudevents_type(),
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
            "x-dataschema": model.dataschema(),
        }
        channels[key] = {
            "address": key,
            "title": f"{model.event_type} v{model.version}",
            "description": (
                f"Routing key `{key}` on the `{names.events_exchange}` topic exchange. "
                f"Published by {producer}; consumed by {', '.join(consumers) or 'nobody yet'}, "
                f"each through its own quorum queue `{names.queue('<service>', '<handler>')}`."
            ),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": names.events_exchange,
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        message_ref = [{"$ref": f"#/channels/{key}/messages/{key}"}]
        operations[f"{producer}.publish.{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": message_ref,
            "summary": f"{producer} publishes {model.event_type} (through its outbox).",
            "bindings": {
                "amqp": {
                    "deliveryMode": 2,
                    "timestamp": True,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        for consumer in consumers:
            operations[f"{consumer}.receive.{key}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": message_ref,
                "summary": f"{consumer} consumes {model.event_type}.",
                "description": (
                    f"From a queue `{names.queue(consumer, '<handler>')}` bound with `{key}`; "
                    "acked after the handler's transaction commits, dead-lettered to "
                    f"`{names.parking_queue(names.queue(consumer, '<handler>'))}` after the "
                    "delivery limit."
                ),
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
            }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Atiende domain events",
            "version": _contracts_version(),
            "description": (
                "Every domain event of Atiende, published on one durable topic exchange. "
                "Generated from the pydantic models in atiende_contracts by "
                f"`{REGENERATE}`; do not edit by hand. See docs/events.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "RabbitMQ; the exchange and queue names use the namespace "
                f"`{names.namespace}`.",
                "variables": {
                    "host": {"default": "localhost"},
                    "port": {"default": "5672"},
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render_asyncapi(document: Mapping[str, Any] | None = None) -> str:
    """The AsyncAPI document as YAML text. JSON is valid YAML, so it is written as JSON."""
    header = f"# Generated by `{REGENERATE}` from atiende_contracts; do not edit.\n"
    return header + render_json(document if document is not None else asyncapi_document())


def write_asyncapi(path: Path = ASYNCAPI_PATH) -> bool:
    """Write the AsyncAPI document; return whether the file changed."""
    text = render_asyncapi()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atiende_contracts.snapshots",
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
