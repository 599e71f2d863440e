"""The HTTP side every service gets from build_app, seen through the real intake (and routing):
problem+json for every client error, health and readiness, Prometheus metrics, one span and one
log line per request."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from atiende_testing import eventually

PROBLEM_JSON = "application/problem+json"
VALIDATION = "https://atiende.dev/problems/validation"


def case_body(**changes: Any) -> dict[str, Any]:
    """A valid POST /cases body with `changes` applied; a change to None removes the field."""
    body: dict[str, Any] = {
        "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
        "type": "complaint",
        "channel": "phone",
        "description": "The invoice is wrong",
    }
    for key, value in changes.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (
            case_body(customer={"name": "Ana", "email": "not-an-email"}),
            "customer.email",
            "string_pattern_mismatch",  # the documented pattern refuses it before the library
        ),
        (case_body(type="praise"), "type", "enum"),
        (case_body(description=None), "description", "missing"),
        (case_body(priority="high"), "priority", "extra_forbidden"),
    ],
    ids=["invalid-email", "unknown-type", "missing-description", "extra-field"],
)
async def test_invalid_case_is_a_problem_naming_the_field_and_rule(
    service_factory: Any, body: dict[str, Any], field: str, rule: str
) -> None:
    async with service_factory("intake") as intake:
        response = await intake.client.post("/cases", json=body)

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        problem = response.json()
        assert problem["type"] == VALIDATION
        assert problem["status"] == 422
        assert problem["instance"] == "/cases"
        assert problem["detail"] == f"Invalid field(s): {field}"
        [error] = problem["errors"]
        assert (error["field"], error["rule"]) == (field, rule)
        assert error["message"]
        assert await intake.runtime.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_unknown_and_malformed_case_ids(service_factory: Any) -> None:
    async with service_factory("intake") as intake:
        unknown = uuid.uuid4()
        missing = await intake.client.get(f"/cases/{unknown}")
        malformed = await intake.client.get("/cases/not-a-uuid")

    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json() == {
        "type": "https://atiende.dev/problems/not-found",  # a domain NotFound: stable type
        "title": "Case not found",
        "status": 404,
        "instance": f"/cases/{unknown}",
        "detail": f"No case with id {unknown}",
    }
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == PROBLEM_JSON
    [error] = malformed.json()["errors"]
    assert (error["field"], error["rule"]) == ("path.case_id", "uuid_parsing")


async def test_unknown_route_and_method_are_problems_too(service_factory: Any) -> None:
    async with service_factory("intake") as intake:
        no_route = await intake.client.get("/nowhere")
        wrong_method = await intake.client.delete("/cases")

    assert (no_route.status_code, no_route.headers["content-type"]) == (404, PROBLEM_JSON)
    assert no_route.json()["title"] == "Not Found"
    assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (405, PROBLEM_JSON)
    assert "allow" in wrong_method.headers


async def test_health_and_readiness(service_factory: Any) -> None:
    async with service_factory("intake") as intake:
        health = await intake.client.get("/healthz")
        ready = await intake.client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": True, "broker": True}}


def handled_count(metrics_text: str, consumer: str) -> float:
    pattern = rf'^atiende_events_handled_total\{{consumer="{re.escape(consumer)}",outcome="handled"\}} (\S+)$'
    match = re.search(pattern, metrics_text, re.MULTILINE)
    return float(match[1]) if match else 0.0


async def test_metrics_count_handled_events(service_factory: Any) -> None:
    async with service_factory("intake") as intake, service_factory("routing") as routing:
        before = handled_count((await routing.client.get("/metrics")).text, "routing.assign-case")
        opened = await intake.client.post("/cases", json=case_body())
        assert opened.status_code == 201, opened.text

        async def assigned() -> bool:
            response = await routing.client.get(f"/cases/{opened.json()['id']}")
            return response.status_code == 200 and response.json()["status"] == "assigned"

        await eventually(assigned, message="routing never handled case.opened")
        metrics = await routing.client.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE atiende_events_handled_total counter" in metrics.text
    assert handled_count(metrics.text, "routing.assign-case") == before + 1


@pytest.fixture
def finished_spans(tracer_provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    """The spans the process's provider ends during the test."""
    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        exporter.shutdown()  # the provider keeps the processor; a shut exporter stores nothing


def logged_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_server_span_and_one_log_line_per_request_in_the_callers_trace(
    service_factory: Any, finished_spans: InMemorySpanExporter
) -> None:
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    traceparent = {"traceparent": f"00-{trace_id}-{parent_id}-01"}
    async with service_factory("intake") as intake:
        [handler] = logging.getLogger().handlers  # the runtime's JSON handler
        assert isinstance(handler, logging.StreamHandler)
        written = io.StringIO()
        handler.setStream(written)
        opened = await intake.client.post("/cases", json=case_body(), headers=traceparent)
        unknown = await intake.client.get(f"/cases/{uuid.uuid4()}", headers=traceparent)
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert (await intake.client.get(probe, headers=traceparent)).status_code == 200

    assert (opened.status_code, unknown.status_code) == (201, 404)
    servers = [
        span
        for span in finished_spans.get_finished_spans()
        if span.kind is SpanKind.SERVER and format(span.context.trace_id, "032x") == trace_id
    ]
    # one each for the two routes, none for the probes, all children of the caller's span
    assert [span.name for span in servers] == ["POST /cases", "GET /cases/{case_id}"]
    for span, status in zip(servers, (201, 404), strict=True):
        assert span.parent is not None
        assert format(span.parent.span_id, "016x") == parent_id
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == status
        assert span.attributes["http.route"] == span.name.split(" ", 1)[1]
    requests = [line for line in logged_lines(written) if line["message"] == "http request"]
    assert [(line["method"], line["status"]) for line in requests] == [("POST", 201), ("GET", 404)]
    assert [line["trace_id"] for line in requests] == [trace_id, trace_id]
    assert [line["span_id"] for line in requests] == [
        format(span.context.span_id, "016x") for span in servers
    ]
