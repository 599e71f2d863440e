"""Tokens from an OpenID Connect issuer (ATIENDE_AUTH_MODE=oidc), verified against its JWKS
served over real HTTP by a stand-in issuer (atiende_testing.oidc): what is admitted, what is
refused, where roles come from, and when the keys are fetched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends

from atiende_runtime.auth import Principal, require
from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings
from atiende_testing.oidc import FakeIssuer, new_key


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer() as running:
        yield running


def probe_app(**settings: Any) -> Any:
    """An app built like the services' (same runtime, same `require`) with one guarded route
    that says who called; its lifespan is not run, since the route needs no database."""
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(
        who: Annotated[Principal, Depends(require("agent", "supervisor"))],
    ) -> dict[str, Any]:
        return {"subject": who.subject, "roles": sorted(who.roles)}

    return build_app(
        Settings(service_name="probe", **settings),
        package="atiende_runtime",
        title="probe",
        routers=[router],
    )


@pytest.fixture
async def client(issuer: FakeIssuer) -> AsyncIterator[httpx.AsyncClient]:
    app = probe_app(auth_mode="oidc", oidc_issuer=issuer.url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        yield http


async def call(http: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await http.get("/whoami", headers=headers)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_valid_token_is_admitted_with_its_subject_and_roles(
    issuer: FakeIssuer, client: httpx.AsyncClient, alg: str
) -> None:
    response = await call(client, issuer.token(alg, sub="ana@example.com", roles=["agent"]))

    assert response.status_code == 200, response.text
    assert response.json() == {"subject": "ana@example.com", "roles": ["agent"]}
    # the JWKS came from the issuer's discovery document, as Keycloak publishes it
    assert issuer.requests[issuer.discovery_path] == 1
    assert issuer.jwks_fetches == 1


def forged_tokens(issuer: FakeIssuer) -> dict[str, str]:
    rsa = issuer.key("RS256")
    public_pem = (
        rsa.private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    claims = issuer.claims()
    impostor = new_key("RS256", kid=rsa.kid)  # same kid, a key the issuer never published
    return {
        "wrong issuer": issuer.token(iss="https://elsewhere.example.com/realms/atiende"),
        "wrong audience": issuer.token(aud="another-api"),
        "expired": issuer.token(exp=int(time.time()) - 120),
        "no expiry": issuer.token(exp=None),
        "no issuer": issuer.token(iss=None),
        "no subject": issuer.token(sub=None),
        "not yet valid": issuer.token(nbf=int(time.time()) + 600),
        "unknown kid": issuer.token(key=new_key("RS256")),
        "signed by an impostor with the issuer's kid": issuer.token(key=impostor),
        # algorithm confusion: HS256 "signed" with the issuer's public key as the shared secret
        "HS256 with the public key": hs256_with(public_pem, claims, rsa.kid),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": rsa.kid}),
        "not a JWT": "not-a-token",
    }


def hs256_with(secret: str, claims: dict[str, Any], kid: str) -> str:
    """PyJWT refuses to HMAC with a PEM key, so the token is put together by hand, as an
    attacker would."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(signature.digest())}"


async def test_tokens_that_are_not_the_issuers_or_not_for_us_are_401(
    issuer: FakeIssuer, client: httpx.AsyncClient
) -> None:
    answers = {}
    for what, token in [("no token", None), *forged_tokens(issuer).items()]:
        response = await call(client, token)
        answers[what] = response.status_code
        if response.status_code == 401:
            assert response.headers["www-authenticate"] == 'Bearer realm="atiende"', what
            assert response.headers["content-type"] == "application/problem+json", what

    assert answers == dict.fromkeys(answers, 401)
    # a valid token still works afterwards: nothing above spoilt the cached keys
    assert (await call(client, issuer.token())).status_code == 200


async def test_an_unknown_kid_does_not_make_every_request_fetch_the_keys(
    issuer: FakeIssuer, client: httpx.AsyncClient
) -> None:
    assert (await call(client, issuer.token())).status_code == 200
    for _ in range(5):
        assert (await call(client, issuer.token(key=new_key("RS256")))).status_code == 401

    # within the cooldown (30 s by default) an unknown kid is refused from the cached set
    assert issuer.jwks_fetches == 1


async def test_a_rotated_key_is_fetched_once(issuer: FakeIssuer) -> None:
    app = probe_app(auth_mode="oidc", oidc_issuer=issuer.url, oidc_jwks_cooldown_seconds=0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        old = issuer.token()
        assert (await call(http, old)).status_code == 200
        assert issuer.jwks_fetches == 1

        fresh = issuer.rotate("RS256")
        for _ in range(3):
            assert (await call(http, issuer.token(key=fresh))).status_code == 200
        # one fetch for the new kid; the next two found it in the cache
        assert issuer.jwks_fetches == 2
        # the old key is gone from the issuer's set, so from ours
        assert (await call(http, old)).status_code == 401


async def test_roles_come_from_the_configured_claim_path(issuer: FakeIssuer) -> None:
    app = probe_app(auth_mode="oidc", oidc_issuer=issuer.url, jwt_roles_claim="realm_access.roles")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        keycloak_agent = issuer.token(roles=None, realm_access={"roles": ["agent", "offline"]})
        keycloak_customer = issuer.token(roles=None, realm_access={"roles": ["customer"]})
        # a top-level `roles` claim is not where this issuer's roles are read from
        top_level_only = issuer.token(roles=["agent"])
        no_roles_at_all = issuer.token(roles=None)

        admitted = await call(http, keycloak_agent)
        assert admitted.status_code == 200
        assert admitted.json()["roles"] == ["agent", "offline"]
        for token in (keycloak_customer, top_level_only, no_roles_at_all):
            refused = await call(http, token)
            assert refused.status_code == 403
            assert refused.json()["detail"] == "Requires one of the roles: agent, supervisor"


async def test_a_configured_jwks_url_skips_discovery(issuer: FakeIssuer) -> None:
    app = probe_app(auth_mode="oidc", oidc_issuer=issuer.url, oidc_jwks_url=issuer.jwks_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        assert (await call(http, issuer.token("ES256"))).status_code == 200

    assert issuer.jwks_fetches == 1
    assert sum(issuer.requests.values()) == 1


async def test_an_unreachable_issuer_is_a_503_not_a_401_or_500() -> None:
    with FakeIssuer() as issuer:
        token = issuer.token()
        url = issuer.url
    # the issuer is gone: its port is closed
    app = probe_app(auth_mode="oidc", oidc_issuer=url, oidc_http_timeout_seconds=2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        response = await call(http, token)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_real_service_accepts_keycloak_tokens(
    issuer: FakeIssuer, service_factory: Any
) -> None:
    """indicators, started for real (database, broker), behind the issuer: the settings a
    Keycloak deployment uses (docs/deployment.md)."""
    settings = {
        "auth_mode": "oidc",
        "oidc_issuer": issuer.url,
        "jwt_roles_claim": "realm_access.roles",
        "jwt_subject_claim": "preferred_username",
    }

    def keycloak(*roles: str) -> dict[str, str]:
        token = issuer.token(
            roles=None,
            sub=str(uuid.uuid4()),
            preferred_username="marta",
            realm_access={"roles": list(roles)},
        )
        return {"Authorization": f"Bearer {token}"}

    async with service_factory("indicators", **settings) as svc:
        assert (await svc.client.get("/indicators", headers=keycloak("manager"))).status_code == 200
        assert (await svc.client.get("/indicators", headers=keycloak("agent"))).status_code == 403
        assert (await svc.client.get("/indicators")).status_code == 401
        assert (await svc.client.get("/healthz")).status_code == 200
