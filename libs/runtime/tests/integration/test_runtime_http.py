"""The HTTP side every service gets from build_app, seen through the real intake (and routing):
problem+json for every client error, health and readiness, Prometheus metrics."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

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
