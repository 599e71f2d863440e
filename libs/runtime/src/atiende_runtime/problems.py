"""RFC 9457 problem details: every error a client sees is application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from .errors import Conflict, DomainError, FieldError, Gone, Invalid, NotFound

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://atiende.dev/problems/"
VALIDATION = PROBLEM_TYPES + "validation"

STATUS_OF: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, Gone: 410, Invalid: 422}
"""Domain errors by HTTP status; any other DomainError is a 400."""


class Problem(Exception):
    """Raise from a route for a client error with a stable `type` URI."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.extensions = extensions
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.errors = errors
        self.headers = headers


def validation_problem(errors: list[FieldError] | list[dict[str, Any]]) -> Problem:
    """The one 422 every service answers for a field that breaks a rule."""
    items = [e.as_dict() if isinstance(e, FieldError) else e for e in errors]
    fields = ", ".join(sorted({str(e["field"]) for e in items}))
    return Problem(
        422,
        "Request validation failed",
        f"Invalid field(s): {fields}",
        type_=VALIDATION,
        errors=items,
    )


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def domain_problem(error: DomainError) -> Problem:
    """The problem+json of a domain error."""
    if isinstance(error, Invalid):
        problem = validation_problem(list(error.errors))
        problem.detail = error.message
        return problem
    return Problem(
        status_of(error),
        error.title,
        error.message,
        type_=PROBLEM_TYPES + error.kind,
        errors=[e.as_dict() for e in error.errors] or None,
        extensions=error.extensions or None,
    )


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": type_,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        item: dict[str, Any] = {
            "field": _field_path(tuple(err.get("loc", ()))),
            "rule": err.get("type", "invalid"),
            "message": err.get("msg", "invalid value"),
        }
        ctx = err.get("ctx")
        if ctx:
            item["constraint"] = {k: str(v) for k, v in ctx.items()}
        out.append(item)
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.title,
            exc.detail,
            type_=exc.type,
            errors=exc.errors,
            headers=exc.headers,
            extensions=exc.extensions,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return await _problem(request, domain_problem(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _problem(
            request, _unreadable_body(exc) or validation_problem(validation_errors(exc))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem_response(
            request,
            exc.status_code,
            _reason(exc.status_code),
            exc.detail if isinstance(exc.detail, str) else None,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            request, 500, "Internal Server Error", "An unexpected error occurred"
        )


def _unreadable_body(exc: RequestValidationError) -> Problem | None:
    """A body that is not JSON at all is not a field breaking a rule: malformed JSON is a 400,
    a body of another media type a 415 (FastAPI hands such a body on as bytes, unparsed)."""
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            where = f" at position {err['loc'][1]}" if len(err.get("loc", ())) > 1 else ""
            return Problem(
                400, "Bad Request", f"The body is not valid JSON{where}: {ctx.get('error', '')}"
            )
        if tuple(err.get("loc", ())) == ("body",) and isinstance(err.get("input"), bytes):
            return Problem(415, "Unsupported Media Type", "Send the body as application/json")
    return None


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's own 405 names only the methods
    of the first route matching the path, while GET /x and POST /x are two routes."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if not getattr(route.original_route, "include_in_schema", True):
            continue  # a route that only explains a refusal (a 405 of its own) is no method
        if route.path and compile_path(route.path)[0].match(request.url.path):
            methods |= set(route.methods or ())
    return sorted(methods)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
