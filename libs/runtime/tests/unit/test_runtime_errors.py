"""Domain errors become problem+json in one place, with the field and the rule named."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from atiende_runtime.errors import Conflict, FieldError, Gone, Invalid, NotFound
from atiende_runtime.problems import PROBLEM_JSON, install_problem_handlers


class CaseClosed(Conflict):
    kind = "case-closed"
    default_title = "Case is closed"


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/x")
    async def _x() -> None:
        raise error

    return app


async def problem_of(error: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/x")


async def test_invalid_names_each_field_and_rule() -> None:
    response = await problem_of(
        Invalid(
            [FieldError("email", "format", "not an address"), FieldError("name", "missing", "")]
        )
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://atiende.dev/problems/validation"
    assert body["title"] == "Request validation failed"
    assert body["detail"] == "Invalid field(s): email, name"
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("email", "format"),
        ("name", "missing"),
    ]


async def test_each_kind_has_its_status_and_a_subclass_keeps_it() -> None:
    assert (await problem_of(NotFound("no case 7"))).status_code == 404
    assert (await problem_of(Gone("expired"))).status_code == 410
    response = await problem_of(
        CaseClosed("case AT-1 is closed", extensions={"status": "closed", "allowed": []})
    )
    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "https://atiende.dev/problems/case-closed"
    assert body["title"] == "Case is closed"
    assert body["detail"] == "case AT-1 is closed"
    assert body["status"] == 409  # the problem's own member wins over an extension
    assert body["allowed"] == []


def test_by_field_keeps_the_first_error_of_each_field() -> None:
    error = Invalid(
        [
            FieldError("email", "missing", "first"),
            FieldError("email", "format", "second"),
            FieldError("kind", "enum", "third"),
        ]
    )
    assert {f: e.message for f, e in error.by_field().items()} == {
        "email": "first",
        "kind": "third",
    }
    assert Invalid.field("x", "rule", "msg").errors == (FieldError("x", "rule", "msg"),)
