"""The OpenAPI document every service publishes, made exact in one place.

FastAPI documents what a route returns when all goes well, and a 422 shaped as its own
`HTTPValidationError` served as application/json. What clients really get on errors is the
runtime's RFC 9457 problem+json (problems.py), for reasons no route declares one by one: a
malformed body (400), a missing or refused token (401, 403), an unknown id in the path (404), a
state that refuses a write or an Idempotency-Key still in flight (409), a body that is not JSON
(415), a field breaking a rule (422), the database out of reach (503). `exact_openapi` adds those
to every operation the rule applies to, so a route added later is documented without anyone
remembering to; what only a route knows (412, 428, a more precise description) it still states
in its own `responses=`, and that wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from .auth import roles_of
from .problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
BEARER = "bearerAuth"

PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; may carry extension members "
        "(e.g. current_version on a 412)",
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "description": "A URI naming the kind of problem; about:blank when the status "
                "says it all",
            },
            "title": {"type": "string", "description": "Short, the same for every occurrence"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "This occurrence, in words"},
            "instance": {"type": "string", "description": "The path that was requested"},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/FieldProblem"},
                "description": "One item per broken rule (422 and some 409)",
            },
        },
        "required": ["type", "title", "status"],
    },
    "FieldProblem": {
        "title": "FieldProblem",
        "description": "A field that breaks a rule",
        "type": "object",
        "properties": {
            "field": {
                "type": "string",
                "description": "Dotted path: a body field (customer.email), or query.<name>, "
                "path.<name>, header.<name>",
            },
            "rule": {"type": "string", "description": "A stable name of the broken rule"},
            "message": {"type": "string"},
            "constraint": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "The rule's parameters (e.g. pattern, ge)",
            },
        },
        "required": ["field", "rule", "message"],
    },
}

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# status -> the description used when a route did not state its own
GENERIC = {
    400: "The body is not well-formed JSON (problem+json)",
    401: "No bearer token, or an invalid or expired one (problem+json)",
    403: "The token lacks every role this route admits (problem+json)",
    404: "Nothing with this id (problem+json)",
    409: "Conflicts with the current state (problem+json)",
    415: "The body is not application/json (problem+json)",
    422: "A field breaks a rule; `errors` names each field and rule (problem+json)",
    503: "The database or the broker is out of reach; retry later (problem+json)",
}
IDEMPOTENCY_IN_FLIGHT = (
    "Conflicts with the current state, or a request with this Idempotency-Key is still in "
    "flight (problem+json)"
)
IDEMPOTENCY_REUSED = " An Idempotency-Key reused with another body is a 422 too."

ALWAYS_UP = frozenset({"/healthz"})
"""Operations that answer without the database (no 503)."""


def guarded_routes(app: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path) -> the roles its guard admits, for every route with a `require(...)`."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path_format is None:
            continue
        roles = _guard_roles(route.dependant)
        if roles is None:
            continue
        for method in context.methods or ():
            out[(method.lower(), context.path_format)] = roles
    return out


def _guard_roles(dependant: Dependant) -> frozenset[str] | None:
    found: frozenset[str] | None = None
    for dependency in dependant.dependencies:
        roles = roles_of(dependency.call) if dependency.call is not None else None
        if roles is None:
            roles = _guard_roles(dependency)
        if roles is not None:
            found = roles if found is None else found | roles
    return found


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _is_problem(response: dict[str, Any]) -> bool:
    """An error response a route declared with no content of its own, or with FastAPI's
    default JSON: it is problem+json. HTML error pages keep their content."""
    content = response.get("content") or {}
    return set(content) <= {"application/json", PROBLEM_JSON}


def _uses_idempotency_key(operation: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key"
        for p in operation.get("parameters", [])
    )


def _json_body(operation: dict[str, Any]) -> bool:
    content = operation.get("requestBody", {}).get("content", {})
    return "application/json" in content


def exact(schema: dict[str, Any], guarded: dict[tuple[str, str], frozenset[str]]) -> None:
    """Make `schema` (FastAPI's document) state every error each operation can answer."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(PROBLEM_SCHEMAS)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if guarded:
        components.setdefault("securitySchemes", {})[BEARER] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT naming the caller (sub) and its roles",
        }
    for path, method, operation in _operations(schema):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        wanted: dict[int, str] = {}
        has_params = bool(operation.get("parameters")) or "requestBody" in operation
        if "requestBody" in operation:
            wanted[400] = GENERIC[400]
            if _json_body(operation):
                wanted[415] = GENERIC[415]
        if has_params:
            wanted[422] = GENERIC[422]
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            wanted[404] = GENERIC[404]
        if method in WRITE_METHODS:
            wanted[409] = GENERIC[409]
        if _uses_idempotency_key(operation):
            wanted[409] = IDEMPOTENCY_IN_FLIGHT
            wanted[422] = GENERIC[422] + IDEMPOTENCY_REUSED
        roles = guarded.get((method, path))
        if roles is not None:
            wanted[401] = GENERIC[401]
            wanted[403] = GENERIC[403]
            operation["security"] = [{BEARER: []}]
            operation["x-roles"] = sorted(roles)
        if path not in ALWAYS_UP:
            wanted[503] = GENERIC[503]
        for status, description in wanted.items():
            responses.setdefault(str(status), {"description": description})
        for code, response in responses.items():
            if not code.isdigit() or int(code) < 400 or not _is_problem(response):
                continue
            headers = None
            if code == "401":
                headers = {
                    "WWW-Authenticate": {
                        "description": "The bearer challenge",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                }
            description = response.get("description") or GENERIC.get(int(code), "Refused")
            if code == "422" and description == "Validation Error":
                description = wanted.get(422, GENERIC[422])
            responses[code] = _problem_response(description, headers)


def install_exact_openapi(app: FastAPI) -> None:
    """Serve the exact document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            exact(schema, guarded_routes(app))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
