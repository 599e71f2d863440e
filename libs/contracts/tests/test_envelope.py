"""The CloudEvents envelope, its AMQP mapping, and the registry of event models."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from atiende_contracts import (
    ALL_EVENTS,
    BY_ROUTING_KEY,
    BY_TYPE,
    CaseOpened,
    CaseType,
    Channel,
    Envelope,
    EventData,
    UnknownEventType,
    model_for,
    parse_data,
    routing_key_for_type,
)

CASE_ID = uuid.UUID("0b8f9a4e-58a2-4f55-9c1e-6f4f3f0a0c11")


def case_opened(**overrides: object) -> CaseOpened:
    values: dict[str, object] = {
        "case_id": CASE_ID,
        "case_number": "AT-2026-000123",
        "customer_id": uuid.UUID("5d2c1a53-7a86-4d3e-8c2e-0c8e6b1f9a22"),
        "customer_name": "Ana Pérez",
        "customer_email": "ana@example.com",
        "type": CaseType.COMPLAINT,
        "channel": Channel.EMAIL,
        "description": "El pedido llegó roto",
        "opened_at": datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return CaseOpened.model_validate(values)


def wrapped() -> Envelope:
    return Envelope.wrap(case_opened(), source="atiende/intake", subject=str(CASE_ID))


# --- envelope -------------------------------------------------------------------------------


def test_wrap_fills_the_cloudevents_attributes() -> None:
    envelope = wrapped()
    assert envelope.specversion == "1.0"
    assert envelope.type == "io.atiende.case.opened.v1"
    assert envelope.dataschema == "urn:atiende:events:case.opened:v1"
    assert envelope.dataversion == 1
    assert envelope.subject == str(CASE_ID)
    assert envelope.source == "atiende/intake"
    assert envelope.time.tzinfo is not None
    assert envelope.data["case_id"] == str(CASE_ID)
    assert envelope.data["language"] == "es", "defaults travel, so consumers need not know them"
    assert wrapped().id != envelope.id


def test_routing_key() -> None:
    assert wrapped().routing_key == "case.opened.v1"
    assert CaseOpened.routing_key() == "case.opened.v1"
    assert routing_key_for_type("io.atiende.survey.answered.v2") == "survey.answered.v2"
    with pytest.raises(ValueError):
        routing_key_for_type("com.example.case.opened.v1")


def test_amqp_headers_are_ce_prefixed_strings() -> None:
    envelope = wrapped()
    headers = envelope.amqp_headers()
    assert headers["ce-id"] == str(envelope.id)
    assert headers["ce-type"] == envelope.type
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-subject"] == str(CASE_ID)
    assert headers["ce-dataversion"] == "1"
    assert all(key.startswith("ce-") for key in headers)
    assert all(isinstance(value, str) for value in headers.values())


def test_no_subject_header_without_a_subject() -> None:
    envelope = Envelope.wrap(case_opened(), source="atiende/intake")
    assert "ce-subject" not in envelope.amqp_headers()


def test_amqp_round_trip() -> None:
    envelope = wrapped()
    body = json.dumps(envelope.data).encode()
    assert Envelope.from_amqp(envelope.amqp_headers(), body) == envelope


def test_amqp_round_trip_with_bytes_headers_and_trace_context() -> None:
    """Some clients hand header values over as bytes; extra headers (traceparent) are ignored."""
    envelope = wrapped()
    headers: dict[str, object] = {k: v.encode() for k, v in envelope.amqp_headers().items()}
    headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    rebuilt = Envelope.from_amqp(headers, json.dumps(envelope.data).encode())
    assert rebuilt == envelope
    assert parse_data(rebuilt) == case_opened()


@pytest.mark.parametrize("header", ["ce-id", "ce-source", "ce-type", "ce-dataversion"])
def test_from_amqp_rejects_missing_headers(header: str) -> None:
    headers = wrapped().amqp_headers()
    del headers[header]
    with pytest.raises(ValueError, match=header.removeprefix("ce-")):
        Envelope.from_amqp(headers, b"{}")


def test_from_amqp_rejects_no_headers_at_all() -> None:
    with pytest.raises(ValueError, match="lacks CloudEvents headers"):
        Envelope.from_amqp({}, b"{}")


@pytest.mark.parametrize("body", [b"not json", b"{", b"\xff\xfe\x00", b""])
def test_from_amqp_rejects_a_non_json_body(body: bytes) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        Envelope.from_amqp(wrapped().amqp_headers(), body)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_from_amqp_rejects_a_non_object_body(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        Envelope.from_amqp(wrapped().amqp_headers(), body)


def test_from_amqp_rejects_a_malformed_id_or_version() -> None:
    headers = wrapped().amqp_headers()
    with pytest.raises(ValueError):
        Envelope.from_amqp({**headers, "ce-id": "not-a-uuid"}, b"{}")
    with pytest.raises(ValueError):
        Envelope.from_amqp({**headers, "ce-dataversion": "one"}, b"{}")


# --- registry -------------------------------------------------------------------------------


def test_parse_data_returns_the_typed_event() -> None:
    data = parse_data(wrapped())
    assert isinstance(data, CaseOpened)
    assert data == case_opened()


def test_parse_data_rejects_invalid_data() -> None:
    envelope = wrapped()
    missing = envelope.model_copy(update={"data": {**envelope.data, "case_id": "nope"}})
    with pytest.raises(ValidationError):
        parse_data(missing)
    bad_enum = envelope.model_copy(update={"data": {**envelope.data, "channel": "pigeon"}})
    with pytest.raises(ValidationError):
        parse_data(bad_enum)
    extra = envelope.model_copy(update={"data": {**envelope.data, "surprise": 1}})
    with pytest.raises(ValidationError):
        parse_data(extra)
    lacking = {k: v for k, v in envelope.data.items() if k != "description"}
    with pytest.raises(ValidationError):
        parse_data(envelope.model_copy(update={"data": lacking}))


def test_parse_data_rejects_an_unknown_type() -> None:
    envelope = wrapped().model_copy(update={"type": "io.atiende.case.vanished.v1"})
    with pytest.raises(UnknownEventType):
        parse_data(envelope)
    with pytest.raises(ValueError):
        model_for("io.atiende.case.opened.v99")


def test_registry_indexes_every_event() -> None:
    assert len(BY_TYPE) == len(ALL_EVENTS)
    for model in ALL_EVENTS:
        assert model_for(model.cloudevents_type()) is model
        assert BY_ROUTING_KEY[model.routing_key()] is model


# --- the events themselves ------------------------------------------------------------------


def test_routing_keys_and_types_are_unique() -> None:
    keys = [model.routing_key() for model in ALL_EVENTS]
    assert len(set(keys)) == len(keys)
    assert len({model.cloudevents_type() for model in ALL_EVENTS}) == len(ALL_EVENTS)
    assert len({model.__name__ for model in ALL_EVENTS}) == len(ALL_EVENTS)


EVENT_TYPE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*(ed|ent|wn|un|ne|de|pt)")
"""`<aggregate>.<event>`, the event a past participle (opened, sent, made, kept, ...)."""

NAMED_BY_THE_ISSUES = {
    "case.sla_warning",  # a deadline approaches: time passed a threshold, no state changed
    "commitment.due_soon",
    "survey.detractor",  # an answer classified the customer as a detractor
    "customer.survey_opt_out",
}
"""Names the product's issues give verbatim (subscribers were promised them). Every other event
is a past participle."""


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_event_type_is_aggregate_dot_past_tense(model: type[EventData]) -> None:
    assert model.event_type in NAMED_BY_THE_ISSUES or EVENT_TYPE.fullmatch(model.event_type), (
        model.event_type
    )
    assert model.version >= 1
    assert model.routing_key() == f"{model.event_type}.v{model.version}"


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_every_model_forbids_extra_fields(model: type[EventData]) -> None:
    assert model.model_config.get("extra") == "forbid"
    assert model.model_json_schema().get("additionalProperties") is False
