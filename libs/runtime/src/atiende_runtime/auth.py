"""Where authentication plugs in: every route but health, public forms and the survey page
depends on `require(...)`, which admits a bearer token (JWT) and checks its roles.

Three modes (ATIENDE_AUTH_MODE, docs/security.md):
- `oidc`: tokens signed by an OpenID Connect issuer (RS256 or ES256), verified against the
  issuer's published keys (JWKS, fetched once and cached; an unknown `kid` fetches again at most
  once per cooldown); issuer, audience and expiry are required.
- `hs256`: tokens signed with a shared secret (development: `make run` makes one, `atiende token`
  mints tokens with it); audience and expiry required.
- `off`: no authentication at all; every request is the development principal with every role.
  Only when asked for by name: a service with no authentication configured refuses to start.

Roles come from a claim path (`roles` by default; `realm_access.roles` for Keycloak).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

import jwt
from fastapi import Request

from .problems import Problem
from .settings import Settings

log = logging.getLogger(__name__)

AuthMode = Literal["oidc", "hs256", "off"]

OIDC_ALGORITHMS = ("RS256", "ES256")
"""Asymmetric algorithms accepted from an issuer; never HS256 or `none` (algorithm confusion)."""

HS256_MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key at least as long as the hash output."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="atiende"'}


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]


ANONYMOUS_DEV = Principal(subject="anonymous", roles=frozenset({"*"}))
"""Who every request is when authentication is off: nobody, with every role."""


def actor_of(principal: Principal) -> str | None:
    """Who did it, as events and audit columns record it: the token's subject, or None when
    authentication is off (the development principal is nobody)."""
    return None if principal is ANONYMOUS_DEV else principal.subject


class AuthConfigError(RuntimeError):
    """Authentication is not configured well enough to start: the message says what to set."""


NOT_CONFIGURED = (
    "authentication is not configured. Set ATIENDE_AUTH_MODE=oidc with ATIENDE_OIDC_ISSUER "
    "(production), or ATIENDE_AUTH_MODE=hs256 with ATIENDE_JWT_SECRET (development; `make run` "
    "does this for you), or ATIENDE_AUTH_MODE=off to accept every request without a token "
    "(never on a network anyone else can reach). See docs/security.md."
)


def auth_mode(settings: Settings) -> AuthMode:
    """The mode the settings ask for; unset means inferred from what is configured (a secret:
    hs256, an issuer: oidc), and nothing configured is refused rather than left open."""
    mode = settings.auth_mode
    secret, issuer = settings.jwt_secret, settings.oidc_issuer
    if mode is None:
        if secret and issuer:
            raise AuthConfigError(
                "both ATIENDE_JWT_SECRET and ATIENDE_OIDC_ISSUER are set: choose one with "
                "ATIENDE_AUTH_MODE (oidc or hs256)"
            )
        if secret:
            mode = "hs256"
        elif issuer:
            mode = "oidc"
        else:
            raise AuthConfigError(NOT_CONFIGURED)
    if mode == "hs256":
        if not secret:
            raise AuthConfigError("ATIENDE_AUTH_MODE=hs256 needs ATIENDE_JWT_SECRET")
        if len(secret.encode()) < HS256_MIN_SECRET_BYTES:
            raise AuthConfigError(
                f"ATIENDE_JWT_SECRET must be at least {HS256_MIN_SECRET_BYTES} bytes long"
            )
    if mode == "oidc":
        if not issuer:
            raise AuthConfigError("ATIENDE_AUTH_MODE=oidc needs ATIENDE_OIDC_ISSUER")
        for name, url in (
            ("ATIENDE_OIDC_ISSUER", issuer),
            ("ATIENDE_OIDC_JWKS_URL", settings.oidc_jwks_url),
        ):
            if url is not None and urlparse(url).scheme not in ("http", "https"):
                raise AuthConfigError(f"{name} must be an http(s) URL, not {url!r}")
    return mode


class Unauthorized(Exception):
    """The token is missing, malformed, forged, expired or not for us."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched: the token may be fine, we cannot tell yet."""


class Authenticator(Protocol):
    mode: AuthMode

    async def principal(self, token: str | None) -> Principal:
        """Who the bearer `token` (None: no Authorization header) is; raises Unauthorized or
        IssuerUnavailable."""
        ...


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted claim path (`realm_access.roles`), None when any step is missing."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def roles_in(value: Any) -> frozenset[str]:
    """Roles from a claim: a list of names, or one space-separated string (as `scope` is)."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        return frozenset(r for r in value if isinstance(r, str))
    return frozenset()


class _Verifying:
    """What the two token modes share: decoding options and reading the principal."""

    mode: AuthMode

    def __init__(self, settings: Settings) -> None:
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.roles_claim = settings.jwt_roles_claim
        self.subject_claim = settings.jwt_subject_claim
        self.required = ["exp", "aud", self.subject_claim]

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claim_at(claims, self.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise Unauthorized(f"the token has no {self.subject_claim!r} claim")
        return Principal(subject, roles_in(claim_at(claims, self.roles_claim)))


class Off:
    mode: AuthMode = "off"

    async def principal(self, token: str | None) -> Principal:
        return ANONYMOUS_DEV


class SharedSecret(_Verifying):
    mode: AuthMode = "hs256"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        assert settings.jwt_secret  # auth_mode checked it
        self.secret = settings.jwt_secret

    async def principal(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("a bearer token is required")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=self.audience,
                leeway=self.leeway,
                options={"require": self.required},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        return self._principal(claims)


class OidcIssuer(_Verifying):
    """Verifies tokens against an issuer's JWKS. PyJWKClient fetches with blocking urllib, so
    fetches run in a worker thread, one at a time; a cached key set is read without one."""

    mode: AuthMode = "oidc"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        assert settings.oidc_issuer  # auth_mode checked it
        self.issuer = settings.oidc_issuer
        self.required = [*self.required, "iss"]
        self.jwks_url = settings.oidc_jwks_url
        self.cache_seconds = settings.oidc_jwks_cache_seconds
        self.cooldown_seconds = settings.oidc_jwks_cooldown_seconds
        self.timeout = settings.oidc_http_timeout_seconds
        self._client: jwt.PyJWKClient | None = None
        self._fetching = asyncio.Lock()

    def _discover(self) -> str:
        """The issuer's `jwks_uri`, from its OpenID Connect discovery document."""
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 (http(s) checked)
                document = json.load(response)
        except (OSError, ValueError) as exc:
            raise IssuerUnavailable(f"OpenID discovery at {url} failed: {exc}") from exc
        if document.get("issuer") != self.issuer:
            # OpenID Connect Discovery §4.3: the document must name the issuer it was asked for
            raise IssuerUnavailable(f"{url} names issuer {document.get('issuer')!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or urlparse(jwks_uri).scheme not in ("http", "https"):
            raise IssuerUnavailable(f"{url} has no http(s) jwks_uri")
        return jwks_uri

    def _cached_key(self, kid: str) -> jwt.PyJWK | None:
        client = self._client
        cache = client.jwk_set_cache if client is not None else None
        keys = cache.get() if cache is not None else None
        if keys is None:
            return None
        return next(
            (k for k in keys.keys if k.key_id == kid and k.public_key_use in ("sig", None)), None
        )

    async def signing_key(self, kid: str) -> jwt.PyJWK:
        key = self._cached_key(kid)
        if key is not None:
            return key
        async with self._fetching:
            # another request may have fetched the keys while this one waited
            key = self._cached_key(kid)
            if key is not None:
                return key
            try:
                if self._client is None:
                    url = self.jwks_url
                    if not url:
                        url = await asyncio.to_thread(self._discover)
                    self._client = jwt.PyJWKClient(
                        url,
                        lifespan=self.cache_seconds,
                        timeout=self.timeout,
                        cooldown_duration=self.cooldown_seconds,
                    )
                    log.info("fetching the issuer's signing keys", extra={"jwks_url": url})
                return await asyncio.to_thread(self._client.get_signing_key, kid)
            except jwt.PyJWKClientConnectionError as exc:
                raise IssuerUnavailable(str(exc)) from exc
            except jwt.PyJWKClientError as exc:
                raise Unauthorized(str(exc)) from exc

    async def principal(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("a bearer token is required")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        # refuse HS256 and `none` before any key is looked up (algorithm confusion)
        if header.get("alg") not in OIDC_ALGORITHMS:
            raise Unauthorized(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no key (kid)")
        key = await self.signing_key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(OIDC_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": self.required},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        return self._principal(claims)


def authenticator_for(settings: Settings) -> Authenticator:
    """The authenticator the settings configure; raises AuthConfigError when they do not."""
    mode = auth_mode(settings)
    if mode == "oidc":
        return OidcIssuer(settings)
    if mode == "hs256":
        return SharedSecret(settings)
    return Off()


def mint_token(
    secret: str,
    *,
    subject: str,
    roles: Iterable[str],
    audience: str = "atiende",
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """An HS256 token the `hs256` mode accepts (development and tests; `atiende token`)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": sorted(set(roles)),
        "aud": audience,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


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


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    async def dependency(request: Request) -> Principal:
        authenticator: Authenticator = request.app.state.runtime.authenticator
        try:
            principal = await authenticator.principal(bearer_token(request))
        except Unauthorized as exc:
            raise Problem(401, "Unauthorized", f"Invalid token: {exc}", headers=CHALLENGE) from exc
        except IssuerUnavailable as exc:
            log.warning("cannot verify tokens: issuer unavailable", extra={"error": str(exc)})
            raise Problem(
                503,
                "Service Unavailable",
                "The token issuer's keys cannot be fetched; try again shortly",
                headers={"Retry-After": "5"},
            ) from exc
        if roles and principal is not ANONYMOUS_DEV and not principal.roles.intersection(roles):
            raise Problem(403, "Forbidden", f"Requires one of the roles: {', '.join(roles)}")
        # kept on the request so helpers such as idempotency.once know who is asking
        request.state.principal = principal
        return principal

    _GUARDS[dependency] = frozenset(roles)
    return dependency
