"""Every route of every service is either public on purpose (listed below, with the reason) or
guarded: 401 without a token (or with a forged one) and 403 with a valid token whose only role
is one no route grants. A route added without `require(...)` fails here, so nobody has to
remember to add it to a list of guarded routes. The walk runs in both token modes: hs256 (the
development secret) and oidc (tokens from an issuer's published keys, as in production).

The apps are built but their lifespan is never run: there is no database pool, so a route that
reached the database before checking the caller would fail here instead of answering 401.
"""

from __future__ import annotations

import enum
import time
import typing
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from atiende_runtime.auth import Principal, require
from atiende_runtime.service import build_app, runtime_of
from atiende_runtime.services import services
from atiende_runtime.settings import Settings
from atiende_testing.oidc import FakeIssuer, new_key

SECRET = "test-secret-at-least-32-bytes-long"  # HS256 wants >= 32 bytes

PUBLIC: dict[tuple[str, str, str], str] = {}
"""(service, method, path template) -> why anyone may call it without a token."""

for _name in ("intake", "routing", "surveys", "notifications", "indicators"):
    PUBLIC[(_name, "GET", "/healthz")] = "liveness probe: says only that the process answers"
    PUBLIC[(_name, "GET", "/readyz")] = "readiness probe for the orchestrator; no data"
    PUBLIC[(_name, "GET", "/metrics")] = (
        "Prometheus scrape: counters and latencies, no personal data; keep it off the public "
        "network (docs/security.md)"
    )
PUBLIC |= {
    ("intake", "GET", "/form"): "the public web form: customers file a case with no account",
    ("intake", "POST", "/form"): "the web form's submission: rate-limited per address + honeypot",
    ("intake", "GET", "/form/thanks"): "the form's static thank-you page",
    # The survey pages: the unguessable token in the path (secrets.token_urlsafe(32)) is the
    # customer's capability; customers have no account.
    ("surveys", "GET", "/s/{token}"): "survey page, reached through the emailed link",
    ("surveys", "POST", "/s/{token}"): "survey answer, same token",
    ("surveys", "GET", "/s/{token}/a"): "survey answer page, same token",
    ("surveys", "POST", "/s/{token}/a"): "survey answer, same token",
    ("surveys", "GET", "/s/{token}/optout"): "survey opt-out page, same token",
    ("surveys", "POST", "/s/{token}/optout"): "survey opt-out, same token",
}
# Not public on purpose: intake's POST /inbound/email is for the mail gateway (role
# mail-gateway); the internet reaches intake's mail through its SMTP listener, not HTTP.

DOCUMENTATION = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""The plain (non-FastAPI) routes allowed: the OpenAPI document and its viewers, public so that
clients can be generated from it (it describes, it holds no data)."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """The template, e.g. /cases/{case_id}."""
    url: str
    """The template with every parameter filled with a valid dummy value."""


def dummy(annotation: Any) -> str:
    """A value a path parameter of this type accepts, so the request reaches the route."""
    if annotation is uuid.UUID:
        return str(uuid.uuid4())
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if typing.get_origin(annotation) is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if annotation is int:
        return "1"
    return "probe"


def endpoints(app: FastAPI) -> tuple[list[Endpoint], list[str]]:
    """Every (method, route) of the app, and the paths of the routes that are not FastAPI's."""
    found: list[Endpoint] = []
    plain: list[str] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = str(context.path)
        if not isinstance(route, APIRoute):
            plain.append(path)
            continue
        url = path
        for param in route.dependant.path_params:
            url = url.replace("{" + param.name + "}", dummy(param.field_info.annotation))
        found.extend(Endpoint(method, path, url) for method in sorted(context.methods or ()))
    return found, plain


def token(
    settings: Settings,
    *roles: str,
    secret: str = SECRET,
    audience: str | None = None,
    expires: int = 300,
) -> str:
    """An HS256 token as the hs256 mode verifies them (auth.py): `roles` claim, audience, exp."""
    claims = {
        "sub": "probe@example.com",
        "roles": list(roles),
        "aud": audience or settings.jwt_audience,
        "exp": int(time.time()) + expires,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


Callers = dict[str, tuple[str | None, int]]
"""Who knocks (a name), with the bearer token they hold and the status a guarded route owes them."""


def hs256_callers(settings: Settings) -> Callers:
    return {
        "no token": (None, 401),
        "forged token": (token(settings, "admin", secret="forged-secret-also-32-bytes-long"), 401),
        "expired token": (token(settings, "admin", expires=-60), 401),
        "other audience": (token(settings, "admin", audience="someone-else"), 401),
        "role 'nobody'": (token(settings, "nobody"), 403),
    }


def oidc_callers(issuer: FakeIssuer) -> Callers:
    impostor = new_key("RS256", kid=issuer.key("RS256").kid)
    return {
        "no token": (None, 401),
        "forged token": (issuer.token(key=impostor, roles=["admin"]), 401),
        "expired token": (issuer.token(roles=["admin"], exp=int(time.time()) - 120), 401),
        "other audience": (issuer.token(roles=["admin"], aud="someone-else"), 401),
        "other issuer": (issuer.token(roles=["admin"], iss="https://elsewhere.example"), 401),
        "role 'nobody'": (issuer.token("ES256", roles=["nobody"]), 403),
    }


async def unguarded(
    app: FastAPI,
    settings: Settings,
    service: str,
    public: dict[tuple[str, str, str], str],
    callers: Callers | None = None,
) -> list[str]:
    """What is wrong with the app's guards, one line per route (empty when all is well)."""
    wrong: list[str] = []
    found, plain = endpoints(app)
    wrong.extend(
        f"{path}: a plain route, not in DOCUMENTATION" for path in set(plain) - DOCUMENTATION
    )
    listed = {(m, p) for (s, m, p) in public if s == service}
    present = {(e.method, e.path) for e in found}
    wrong.extend(f"{m} {p}: listed as public but no such route" for m, p in listed - present)
    # who knocks, and the status each must get from a guarded route
    callers = callers or hs256_callers(settings)
    expected = {who: status for who, (_, status) in callers.items()}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        for e in found:
            if (e.method, e.path) in listed:
                continue
            answers = {}
            for who, (bearer, _) in callers.items():
                headers = {"content-type": "application/json"}
                if bearer is not None:
                    headers["authorization"] = f"Bearer {bearer}"
                answers[who] = (await client.request(e.method, e.url, headers=headers)).status_code
            if answers != expected:
                wrong.append(f"{e.method} {e.path}: {answers}, expected {expected}")
    return wrong


@pytest.fixture(scope="module")
def issuer() -> typing.Iterator[FakeIssuer]:
    with FakeIssuer() as running:
        yield running


@pytest.mark.parametrize("name", list(services()))
async def test_every_route_is_public_on_purpose_or_guarded(name: str) -> None:
    definition = services()[name]
    settings = definition.settings(auth_mode="hs256", jwt_secret=SECRET)
    app = definition.create_app(settings)
    assert await unguarded(app, settings, name, PUBLIC) == []


@pytest.mark.parametrize("name", list(services()))
async def test_every_route_is_guarded_against_an_oidc_issuers_tokens(
    name: str, issuer: FakeIssuer
) -> None:
    definition = services()[name]
    settings = definition.settings(auth_mode="oidc", oidc_issuer=issuer.url)
    app = definition.create_app(settings)
    assert await unguarded(app, settings, name, PUBLIC, oidc_callers(issuer)) == []


def test_every_service_is_walked() -> None:
    # the public list names five services; a sixth is walked too (it comes from the entry points)
    assert {s for (s, _, _) in PUBLIC} <= set(services())
    assert len(services()) >= 5


async def test_a_route_without_a_guard_fails_the_walk() -> None:
    """The walk itself bites: an app built like the services, with one guarded and one
    forgotten route and one reaching the database before its guard, is reported for those
    two only."""
    router = APIRouter()

    @router.get("/guarded/{item_id}")
    async def guarded(
        item_id: uuid.UUID, _: Annotated[Principal, Depends(require("agent"))]
    ) -> dict[str, str]:
        return {}

    @router.post("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    async def database_first(request: Request) -> None:
        # reaches the pool before the guard runs: with no lifespan, there is no pool
        async with runtime_of(request).pool.acquire():
            pass

    @router.get("/database-first", dependencies=[Depends(database_first)])
    async def database_first_route(
        _: Annotated[Principal, Depends(require("agent"))],
    ) -> dict[str, str]:
        return {}

    settings = Settings(service_name="probe", jwt_secret=SECRET)
    app = build_app(settings, package="atiende_runtime", title="probe", routers=[router])
    wrong = await unguarded(app, settings, "probe", PUBLIC)
    assert [line.split(":")[0] for line in wrong] == [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "POST /forgotten",
        "GET /database-first",
    ]
    health = {("probe", "GET", p): "probe" for p in ("/healthz", "/readyz", "/metrics")}
    assert await unguarded(app, settings, "probe", health) == wrong[3:]
