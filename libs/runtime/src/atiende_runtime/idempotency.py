"""Idempotency-Key for every POST that creates something: the same key with the same body gets
the first answer again (and no second effect); the same key with another body is refused (422).

A key belongs to its caller (the subject of the request's token; "anonymous" when authentication
is off) and its route: two clients choosing the same key get their own answers. It expires after
`idempotency_ttl_hours` (24 by default): an expired key is new again, and the outbox relay's
housekeeping deletes expired keys with their stored responses.

The key is claimed inside the route's own transaction, so the effect and the stored answer commit
together. A concurrent retry with the same key waits on the claimed row until the first request
commits (then replays its answer) or rolls back (then does the work itself).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Route

from .auth import principal_of
from .db import Connection
from .problems import Problem

ANONYMOUS_CALLER = "anonymous"
DEFAULT_TTL_HOURS = 24.0

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retried create safe: same key and body, same answer, one effect",
    ),
]


def as_json(value: Any) -> Any:
    """What `jsonable_encoder(value)` returns, ten times faster for a pydantic model: for one,
    jsonable_encoder returns its JSON-mode dump by alias after walking that dump a second time,
    which changes nothing in it; anything else still goes through jsonable_encoder."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(value)


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body (key order and spacing do not matter)."""
    return _digest(as_json(payload))


def _digest(plain: Any) -> str:
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any
    headers: dict[str, str]

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body,
            status_code=self.status_code,
            headers={**self.headers, "Idempotent-Replayed": "true"},
        )


async def claim(
    conn: Connection,
    scope: str,
    key: str,
    request_hash: str,
    *,
    caller: str = ANONYMOUS_CALLER,
    ttl_hours: float = DEFAULT_TTL_HOURS,
) -> StoredAnswer | None:
    """Claim `key` of `caller` for this request; returns the earlier answer if the key was
    already used and has not expired (an expired key is claimed again, as new)."""
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (caller, scope, key, request_hash, expires_at)
           VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
           ON CONFLICT (caller, scope, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL,
                   headers = '{}', created_at = now(), expires_at = EXCLUDED.expires_at
               WHERE idempotency_keys.expires_at <= now()
           RETURNING true""",
        caller,
        scope,
        key,
        request_hash,
        ttl_hours * 3600,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response, headers FROM idempotency_keys"
        " WHERE caller = $1 AND scope = $2 AND key = $3",
        caller,
        scope,
        key,
    )
    if row is None or row["status_code"] is None:  # pragma: no cover - the claim row is committed
        raise Problem(
            409, "Request in progress", "A request with this Idempotency-Key is in flight"
        )
    if row["request_hash"] != request_hash:
        raise Problem(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was used with a different request body",
            type_="https://atiende.dev/problems/idempotency-key-reused",
            errors=[
                {
                    "field": "header.Idempotency-Key",
                    "rule": "reused_with_different_body",
                    "message": "use a new key for a different request",
                }
            ],
        )
    return StoredAnswer(row["status_code"], row["response"], dict(row["headers"] or {}))


async def remember(
    conn: Connection,
    scope: str,
    key: str,
    status_code: int,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    caller: str = ANONYMOUS_CALLER,
) -> None:
    """Store the answer given for `key` (in the same transaction as the effect)."""
    await _store(conn, scope, key, status_code, as_json(body), headers, caller=caller)


async def _store(
    conn: Connection,
    scope: str,
    key: str,
    status_code: int,
    body: Any,
    headers: dict[str, str] | None,
    *,
    caller: str,
) -> None:
    """`remember` with the body already plain JSON."""
    await conn.execute(
        """UPDATE idempotency_keys SET status_code = $4, response = $5, headers = $6
           WHERE caller = $1 AND scope = $2 AND key = $3""",
        caller,
        scope,
        key,
        status_code,
        body,
        headers or {},
    )


async def prune(conn: Connection) -> int:
    """Delete expired keys and their stored responses; returns how many went."""
    result = await conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= now()")
    return int(result.split()[-1])


@dataclass(frozen=True)
class Answer:
    """What a create route answers: status, body (a pydantic model or plain JSON) and headers."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, body: Any = None) -> JSONResponse:
        """The response; `body` is the answer's body already made plain JSON, if it was."""
        return JSONResponse(
            as_json(self.body) if body is None else body,
            status_code=self.status_code,
            headers=self.headers,
        )


def scope_of(request: Request) -> str:
    """The key's scope: method and route template ("POST /customers/{customer_id}/merge"), so
    the same key on two routes never collides; path values go into the fingerprint."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, Route) else request.url.path
    return f"{request.method} {path}"


def caller_of(request: Request) -> str:
    """Whose key it is: the subject of the principal the route's `require(...)` admitted;
    "anonymous" when authentication is off, on an unguarded route, or for a token without `sub`."""
    principal = principal_of(request)
    return principal.subject if principal is not None and principal.subject else ANONYMOUS_CALLER


def ttl_hours_of(request: Request) -> float:
    runtime = getattr(request.app.state, "runtime", None)
    ttl = getattr(getattr(runtime, "settings", None), "idempotency_ttl_hours", None)
    return float(ttl) if isinstance(ttl, int | float) else DEFAULT_TTL_HOURS


async def once(
    conn: Connection,
    request: Request,
    key: str | None,
    payload: Any,
    produce: Callable[[], Awaitable[Answer]],
) -> JSONResponse:
    """Run `produce` at most once per Idempotency-Key, inside the caller's transaction.

    Without a key it simply runs. With one: a first use runs it and stores its answer in the same
    transaction as its effects; a retry by the same caller with the same route, path values and
    body, before the key expires, gets the stored answer (marked `Idempotent-Replayed: true`) and
    runs nothing; another body is refused (422). Another caller's key of the same name is another
    key.
    """
    if key is None:
        return (await produce()).response()
    scope = scope_of(request)
    caller = caller_of(request)
    # the body made plain once (the same JSON, so the same digest, as the whole dict through
    # jsonable_encoder)
    digest = _digest({"path": jsonable_encoder(request.path_params), "body": as_json(payload)})
    earlier = await claim(conn, scope, key, digest, caller=caller, ttl_hours=ttl_hours_of(request))
    if earlier is not None:
        return earlier.response()
    answer = await produce()
    body = as_json(answer.body)  # once, for the stored answer and the response
    await _store(conn, scope, key, answer.status_code, body, answer.headers, caller=caller)
    return answer.response(body)
