"""Where authentication plugs in: every route but health, public forms and the survey page
depends on `require(...)`. Tokens are JWT bearer tokens with a `roles` claim (HS256 for now).

With no ATIENDE_JWT_SECRET configured, authentication is off (a development default, logged
loudly at startup); the roles model is in place for the issue that turns it on everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request

from .problems import Problem


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]


ANONYMOUS_DEV = Principal(subject="anonymous", roles=frozenset({"*"}))

_GUARDS: dict[Callable[..., Any], frozenset[str]] = {}
"""Every dependency `require(...)` made, with the roles it admits (the OpenAPI document states
them, and marks those routes as needing a bearer token)."""


def roles_of(dependency: Callable[..., Any]) -> frozenset[str] | None:
    """The roles `dependency` admits if `require(...)` made it; None for any other callable."""
    return _GUARDS.get(dependency)


def principal_of(request: Request) -> Principal | None:
    """The principal `require(...)` admitted for this request (None on a route without a guard)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    async def dependency(request: Request) -> Principal:
        settings = request.app.state.runtime.settings
        if not settings.jwt_secret:
            request.state.principal = ANONYMOUS_DEV
            return ANONYMOUS_DEV
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="atiende"'}
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "Unauthorized", "A bearer token is required", headers=challenge)
        try:
            claims = jwt.decode(
                token, settings.jwt_secret, algorithms=["HS256"], audience=settings.jwt_audience
            )
        except jwt.PyJWTError as exc:
            raise Problem(401, "Unauthorized", f"Invalid token: {exc}", headers=challenge) from exc
        principal = Principal(str(claims.get("sub", "")), frozenset(claims.get("roles", [])))
        if roles and not principal.roles.intersection(roles):
            raise Problem(403, "Forbidden", f"Requires one of the roles: {', '.join(roles)}")
        # kept on the request so helpers such as idempotency.once know who is asking
        request.state.principal = principal
        return principal

    _GUARDS[dependency] = frozenset(roles)
    return dependency
