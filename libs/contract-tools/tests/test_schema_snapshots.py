"""Every event's JSON Schema is snapshotted, and no change breaks the snapshot of its version."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from atiende_contract_tools.asyncapi import ASYNCAPI_PATH, asyncapi_document, render_asyncapi
from atiende_contract_tools.cli import main
from atiende_contract_tools.compatibility import breaking_changes
from atiende_contract_tools.flows import event_flows
from atiende_contract_tools.snapshots import (
    REGENERATE,
    SCHEMAS_DIR,
    BreakingChangeError,
    load_snapshot,
    render_json,
    snapshot_path,
    write_snapshots,
)
from atiende_contracts import ALL_EVENTS, INTEGRATION_EVENTS, EventData, json_schema

EVENT_IDS = [model.routing_key() for model in ALL_EVENTS]


# --- the committed snapshots ----------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_EVENTS, ids=EVENT_IDS)
def test_every_event_has_a_committed_snapshot(model: type[EventData]) -> None:
    path = snapshot_path(model)
    assert path.exists(), f"{path.name} is missing: run `{REGENERATE}` and commit it"


@pytest.mark.parametrize("model", ALL_EVENTS, ids=EVENT_IDS)
def test_schema_does_not_break_its_snapshot(model: type[EventData]) -> None:
    committed = load_snapshot(model)
    assert committed is not None, f"no snapshot for {model.routing_key()}: run `{REGENERATE}`"
    changes = breaking_changes(committed, json_schema(model))
    assert not changes, (
        f"{model.__name__} v{model.version} changed incompatibly:\n  - "
        + "\n  - ".join(changes)
        + f"\nraise {model.__name__}.version and run `{REGENERATE}`"
    )


@pytest.mark.parametrize("model", ALL_EVENTS, ids=EVENT_IDS)
def test_snapshot_is_up_to_date(model: type[EventData]) -> None:
    path = snapshot_path(model)
    expected = render_json(json_schema(model))
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is outdated (a compatible change): run `{REGENERATE}`"
    )


def test_snapshot_files_are_well_formed() -> None:
    """Old versions' files stay, but each must name its event and version correctly."""
    current: dict[str, int] = {}
    for model in ALL_EVENTS:
        current[model.event_type] = max(model.version, current.get(model.event_type, 0))
    files = sorted(SCHEMAS_DIR.glob("*.json"))
    assert files
    for path in files:
        match = re.fullmatch(
            r"(?P<type>[a-z_]+\.[a-z_]+)\.v(?P<version>[1-9][0-9]*)\.json", path.name
        )
        assert match, f"unexpected file name {path.name}"
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["x-event-type"] == match["type"]
        assert schema["x-version"] == int(match["version"])
        assert match["type"] in current, f"{path.name}: no such event in ALL_EVENTS"
        assert int(match["version"]) <= current[match["type"]], f"{path.name} is from the future"


# --- the AsyncAPI document ------------------------------------------------------------------


def test_committed_asyncapi_document_is_generated_from_the_models() -> None:
    assert ASYNCAPI_PATH.exists(), f"docs/asyncapi.yaml is missing: run `{REGENERATE}`"
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render_asyncapi(), (
        f"docs/asyncapi.yaml is outdated: run `{REGENERATE}`"
    )


def test_asyncapi_document_describes_every_event() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    for model in ALL_EVENTS:
        key = model.routing_key()
        channel = document["channels"][key]
        assert channel["address"] == key
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "atiende.events"
        message = document["components"]["messages"][key]
        assert message["bindings"]["amqp"]["messageType"] == model.cloudevents_type()
        payload = document["components"]["schemas"][key]
        assert set(payload["properties"]) == set(model.model_fields)
        send = [
            op
            for op in document["operations"].values()
            if op["action"] == "send" and op["channel"] == {"$ref": f"#/channels/{key}"}
        ]
        # an integration event is sent by a system outside Atiende: only received here
        assert len(send) == (0 if model in INTEGRATION_EVENTS else 1)


def test_asyncapi_refs_all_resolve() -> None:
    document = asyncapi_document()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node: Any = document
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict)


def test_asyncapi_file_is_yaml_of_the_document() -> None:
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(render_asyncapi()) == asyncapi_document()


def test_every_event_has_exactly_one_producer_and_some_consumers() -> None:
    """Derived from the installed services: what each may emit and what its queues are bound to."""
    flows = event_flows()
    for model in ALL_EVENTS:
        flow = flows[model.routing_key()]
        expected = 0 if model in INTEGRATION_EVENTS else 1
        assert len(flow.producers) == expected, (
            f"{model.routing_key()} is published by {flow.producers}"
        )
        assert flow.consumers, f"no service consumes {model.routing_key()}"


EVENTS_MD = ASYNCAPI_PATH.parent / "events.md"
INTEGRATION = "(an integration)"
"""The producer cell of an event published outside Atiende."""


@pytest.mark.parametrize("model", ALL_EVENTS, ids=EVENT_IDS)
def test_events_doc_lists_the_event_and_its_fields(model: type[EventData]) -> None:
    text = EVENTS_MD.read_text(encoding="utf-8")
    key = model.routing_key()
    flow = event_flows()[key]
    rows = re.findall(rf"^\| `{re.escape(key)}` \| ([^|]*) \| ([^|]*) \|", text, flags=re.MULTILINE)
    assert len(rows) == 1, f"docs/events.md: one table row for {key}"
    producers, consumers = (cell.strip().split(", ") for cell in rows[0])
    if model in INTEGRATION_EVENTS:
        assert producers == [INTEGRATION], f"docs/events.md: {key} comes from outside Atiende"
    else:
        assert producers == list(flow.producers), f"docs/events.md: producer of {key}"
    # the table may order consumers for the reader; the derived map is in service (port) order
    assert sorted(consumers) == sorted(flow.consumers), f"docs/events.md: consumers of {key}"
    heading = f"### `{key}`"
    assert heading in text, f"docs/events.md lacks a section {heading}"
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == set(model.model_fields), f"docs/events.md: fields of {key}"


# --- the command ----------------------------------------------------------------------------


def _snapshots_in(tmp_path: Path) -> Path:
    directory = tmp_path / "schemas"
    assert main(["--schemas-dir", str(directory), "--asyncapi", str(tmp_path / "a.yaml")]) == 0
    return directory


def test_command_writes_and_checks(tmp_path: Path) -> None:
    directory = _snapshots_in(tmp_path)
    assert {p.name for p in directory.iterdir()} == {
        f"{m.event_type}.v{m.version}.json" for m in ALL_EVENTS
    }
    assert (tmp_path / "a.yaml").read_text(encoding="utf-8") == render_asyncapi()
    assert main(["--check", "--schemas-dir", str(directory)]) == 0


def test_check_fails_on_a_breaking_change_and_writing_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _snapshots_in(tmp_path)
    # a committed snapshot with a property the model no longer has = the model removed it
    path = directory / "case.assigned.v1.json"
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    snapshot["properties"]["queue_position"] = {"type": "integer"}
    path.write_text(render_json(snapshot), encoding="utf-8")
    capsys.readouterr()

    assert main(["--check", "--schemas-dir", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "removed property 'queue_position'" in err
    assert "raise CaseAssigned.version" in err

    with pytest.raises(BreakingChangeError):
        write_snapshots(directory)
    assert main(["--schemas-dir", str(directory), "--asyncapi", str(tmp_path / "a.yaml")]) == 1
    assert "queue_position" in path.read_text(encoding="utf-8"), (
        "the snapshot must not be overwritten"
    )


def test_check_fails_on_a_missing_snapshot(tmp_path: Path) -> None:
    directory = _snapshots_in(tmp_path)
    (directory / "case.opened.v1.json").unlink()
    assert main(["--check", "--schemas-dir", str(directory)]) == 1


def test_old_versions_snapshots_are_kept(tmp_path: Path) -> None:
    directory = _snapshots_in(tmp_path)
    old = directory / "case.opened.v0.json"
    old.write_text("{}\n", encoding="utf-8")
    _snapshots_in(tmp_path)
    assert old.exists()


# --- breaking_changes itself ----------------------------------------------------------------


def obj(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
        **extra,
    }


STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BASE = obj({"id": {"type": "string", "format": "uuid"}, "name": STR}, ["id", "name"])


def test_identical_schemas_are_compatible() -> None:
    assert breaking_changes(BASE, BASE) == []


def test_removed_field_is_breaking() -> None:
    new = obj({"id": {"type": "string", "format": "uuid"}}, ["id"])
    assert breaking_changes(BASE, new) == ["removed property 'name'"]


def test_removed_optional_field_is_breaking() -> None:
    old = obj({"id": STR, "note": STR}, ["id"])
    assert breaking_changes(old, obj({"id": STR}, ["id"])) == ["removed property 'note'"]


def test_retyped_field_is_breaking() -> None:
    new = obj({"id": {"type": "string", "format": "uuid"}, "name": INT}, ["id", "name"])
    assert breaking_changes(BASE, new) == ["property 'name': type changed from string to integer"]


def test_changed_format_is_breaking() -> None:
    new = obj({"id": {"type": "string", "format": "date-time"}, "name": STR}, ["id", "name"])
    assert breaking_changes(BASE, new) == [
        "property 'id': format changed from 'uuid' to 'date-time'"
    ]


def test_dropped_format_is_compatible() -> None:
    new = obj({"id": STR, "name": STR}, ["id", "name"])
    assert breaking_changes(BASE, new) == []


def test_new_required_field_is_breaking() -> None:
    new = obj({**BASE["properties"], "team": STR}, ["id", "name", "team"])
    assert breaking_changes(BASE, new) == ["new required property 'team'"]


def test_field_becoming_required_is_breaking() -> None:
    old = obj({"id": STR, "note": STR}, ["id"])
    new = obj({"id": STR, "note": STR}, ["id", "note"])
    assert breaking_changes(old, new) == ["property 'note' became required"]


def test_new_optional_field_is_compatible() -> None:
    new = obj(
        {**BASE["properties"], "language": {"type": "string", "default": "es"}}, ["id", "name"]
    )
    assert breaking_changes(BASE, new) == []


def test_field_becoming_optional_is_compatible() -> None:
    new = obj(BASE["properties"], ["id"])
    assert breaking_changes(BASE, new) == []


def test_titles_and_descriptions_do_not_matter() -> None:
    new = obj(
        {
            "id": {"type": "string", "format": "uuid", "title": "Id"},
            "name": {**STR, "description": "x"},
        },
        ["id", "name"],
        title="Renamed",
    )
    assert breaking_changes(BASE, new) == []


def _with_enum(values: list[str]) -> dict[str, Any]:
    """Like pydantic: the enum lives in $defs and the property refers to it."""
    return obj(
        {"id": STR, "channel": {"$ref": "#/$defs/Channel"}},
        ["id", "channel"],
        **{"$defs": {"Channel": {"type": "string", "enum": values, "title": "Channel"}}},
    )


def test_enum_value_added_is_compatible() -> None:
    assert (
        breaking_changes(_with_enum(["email", "sms"]), _with_enum(["email", "sms", "push"])) == []
    )


def test_enum_value_removed_is_breaking() -> None:
    changes = breaking_changes(_with_enum(["email", "sms"]), _with_enum(["email"]))
    assert changes == ["property 'channel': enum lost \"sms\""]


def test_enum_inlined_instead_of_referenced_is_compared_by_value() -> None:
    inline = obj(
        {"id": STR, "channel": {"type": "string", "enum": ["email", "sms"]}}, ["id", "channel"]
    )
    assert breaking_changes(_with_enum(["email", "sms"]), inline) == []
    assert breaking_changes(inline, _with_enum(["sms"])) == [
        "property 'channel': enum lost \"email\""
    ]


def test_free_string_becoming_an_enum_is_breaking() -> None:
    old = obj({"id": STR, "channel": STR}, ["id", "channel"])
    (change,) = breaking_changes(old, _with_enum(["email"]))
    assert "now restricted" in change


def test_nullable_becoming_required_value_is_breaking() -> None:
    nullable = {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
    old = obj({"case_id": nullable}, ["case_id"])
    new = obj({"case_id": {"type": "string", "format": "uuid"}}, ["case_id"])
    assert breaking_changes(old, new) == ["property 'case_id': no longer accepts null"]
    assert breaking_changes(new, old) == [], "widening to nullable is compatible"


def test_integer_widened_to_number_is_compatible_but_not_back() -> None:
    old = obj({"n": INT}, ["n"])
    new = obj({"n": {"type": "number"}}, ["n"])
    assert breaking_changes(old, new) == []
    assert breaking_changes(new, old) == ["property 'n': type changed from number to integer"]


def test_tightened_bounds_are_breaking_loosened_are_not() -> None:
    old = obj({"score": {"type": "integer", "minimum": 1, "maximum": 5}}, ["score"])
    tighter = obj({"score": {"type": "integer", "minimum": 1, "maximum": 3}}, ["score"])
    looser = obj({"score": {"type": "integer", "minimum": 0, "maximum": 10}}, ["score"])
    assert breaking_changes(old, tighter) == ["property 'score': maximum changed from 5 to 3"]
    assert breaking_changes(old, looser) == []


def test_nested_object_changes_are_found_through_refs() -> None:
    def with_address(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return obj(
            {"address": {"$ref": "#/$defs/Address"}},
            ["address"],
            **{"$defs": {"Address": obj(props, required)}},
        )

    old = with_address({"city": STR, "zip": STR}, ["city"])
    new = with_address({"city": INT, "country": STR}, ["city", "country"])
    assert sorted(breaking_changes(old, new)) == sorted(
        [
            "removed property 'address.zip'",
            "new required property 'address.country'",
            "property 'address.city': type changed from string to integer",
        ]
    )


def test_array_items_are_compared() -> None:
    old = obj({"tags": {"type": "array", "items": STR}}, ["tags"])
    new = obj({"tags": {"type": "array", "items": INT}}, ["tags"])
    assert breaking_changes(old, new) == ["property 'tags[]': type changed from string to integer"]


def test_closing_additional_properties_is_breaking() -> None:
    open_ = {"type": "object", "properties": {"id": STR}, "required": ["id"]}
    closed = {**open_, "additionalProperties": False}
    assert breaking_changes(open_, closed) == [
        "the event data: no longer allows additional properties"
    ]
    assert breaking_changes(closed, open_) == []


def test_recursive_schemas_terminate() -> None:
    node = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert breaking_changes(node, node) == []


def test_a_real_model_change_is_caught() -> None:
    """The rule on pydantic's own output: dropping an enum member from a model's enum."""
    old = json_schema(ALL_EVENTS[0])
    new = json.loads(json.dumps(old))
    new["$defs"]["Channel"]["enum"].remove("letter")
    new["required"].append("extra")
    new["properties"]["extra"] = {"type": "string"}
    assert breaking_changes(old, new) == [
        "new required property 'extra'",
        "property 'channel': enum lost \"letter\"",
    ]
