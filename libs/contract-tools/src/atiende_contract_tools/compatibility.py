"""The breaking-change rule between two JSON Schemas of one event version.

The rule is *backward compatibility*: a consumer built on the new schema must accept every message
that was valid under the old one (messages already in a queue, in a `.parked` queue waiting to be
replayed, or still published by a producer not yet upgraded). So removing a property, narrowing a
type, losing an enum value, tightening a format or bound, and requiring a property are breaking;
adding an optional property, widening a type and gaining an enum value are not. The latter still
reach consumers that do not know them yet (the models forbid extra fields and validate enums),
hence the deployment order: consumers before producers. See docs/events.md, "Versioning".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Schema = dict[str, Any]

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
