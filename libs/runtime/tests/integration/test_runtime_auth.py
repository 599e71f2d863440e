"""Bearer-token authentication with roles, seen through the real intake with a JWT secret set."""

from __future__ import annotations

import time
from typing import Any

import jwt

SECRET = "s3cret-long-enough-for-hs256-keys"  # >= 32 bytes, as RFC 7518 asks
PROBLEM_JSON = "application/problem+json"
CASE = {
    "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
    "type": "complaint",
    "channel": "phone",
    "description": "The invoice is wrong",
}


def bearer(
    roles: list[str], *, secret: str = SECRET, audience: str = "atiende", **claims: Any
) -> dict[str, str]:
    claims = {"sub": "agent-7", "aud": audience, "roles": roles, "exp": time.time() + 300, **claims}
    token = jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")
    return {"Authorization": f"Bearer {token}"}


async def test_agent_token_opens_a_case(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        response = await intake.client.post("/cases", json=CASE, headers=bearer(["agent"]))

    assert response.status_code == 201, response.text


async def test_missing_or_invalid_token_is_a_401_challenge(service_factory: Any) -> None:
    attempts = {
        "no token": {},
        "not bearer": {"Authorization": "Basic YWdlbnQ6cGFzcw=="},
        "another secret": bearer(["agent"], secret="another-secret-just-as-long-as-ours"),
        "another audience": bearer(["agent"], audience="elsewhere"),
        "expired": bearer(["agent"], exp=int(time.time()) - 60),
        "no expiry": bearer(["agent"], exp=None),
        "no subject": bearer(["agent"], sub=None),
        "unsigned": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "agent-7", "aud": "atiende", "roles": ["agent"], "exp": time.time() + 300},
                None,
                algorithm="none",
            )
        },
    }
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        for attempt, headers in attempts.items():
            response = await intake.client.post("/cases", json=CASE, headers=headers)

            assert response.status_code == 401, attempt
            assert response.headers["content-type"] == PROBLEM_JSON, attempt
            assert response.headers["www-authenticate"] == 'Bearer realm="atiende"', attempt
            assert response.json()["title"] == "Unauthorized", attempt
        assert await intake.runtime.pool.fetchval("SELECT count(*) FROM cases") == 0


async def test_token_without_a_permitted_role_is_403(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        response = await intake.client.post("/cases", json=CASE, headers=bearer(["customer"]))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == "Requires one of the roles: agent, intake"


async def test_health_endpoints_need_no_token(service_factory: Any) -> None:
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        for path in ("/healthz", "/readyz", "/metrics"):
            response = await intake.client.get(path)
            assert response.status_code == 200, path
