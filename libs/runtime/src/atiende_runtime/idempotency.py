"""Idempotency-Key for every POST that creates something: the same key with the same body gets
the first answer again (and no second effect); the same key with another body is refused (422).

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
from starlette.routing import Route

from .db import Connection
from .problems import Problem

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


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body (key order and spacing do not matter)."""
    canonical = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
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


async def claim(conn: Connection, scope: str, key: str, request_hash: str) -> StoredAnswer | None:
    """Claim `key` for this request; returns the earlier answer if the key was already used."""
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT (scope, key) DO NOTHING RETURNING true""",
        scope,
        key,
        request_hash,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response, headers FROM idempotency_keys"
        " WHERE scope = $1 AND key = $2",
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
) -> None:
    """Store the answer given for `key` (in the same transaction as the effect)."""
    await conn.execute(
        """UPDATE idempotency_keys SET status_code = $3, response = $4, headers = $5
           WHERE scope = $1 AND key = $2""",
        scope,
        key,
        status_code,
        jsonable_encoder(body),
        headers or {},
    )


@dataclass(frozen=True)
class Answer:
    """What a create route answers: status, body (a pydantic model or plain JSON) and headers."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(
            jsonable_encoder(self.body), status_code=self.status_code, headers=self.headers
        )


def scope_of(request: Request) -> str:
    """The key's scope: method and route template ("POST /customers/{customer_id}/merge"), so
    the same key on two routes never collides; path values go into the fingerprint."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, Route) else request.url.path
    return f"{request.method} {path}"


async def once(
    conn: Connection,
    request: Request,
    key: str | None,
    payload: Any,
    produce: Callable[[], Awaitable[Answer]],
) -> JSONResponse:
    """Run `produce` at most once per Idempotency-Key, inside the caller's transaction.

    Without a key it simply runs. With one: a first use runs it and stores its answer in the same
    transaction as its effects; a retry with the same route, path values and body gets the stored
    answer (marked `Idempotent-Replayed: true`) and runs nothing; another body is refused (422).
    """
    if key is None:
        return (await produce()).response()
    scope = scope_of(request)
    digest = fingerprint({"path": dict(request.path_params), "body": payload})
    earlier = await claim(conn, scope, key, digest)
    if earlier is not None:
        return earlier.response()
    answer = await produce()
    await remember(conn, scope, key, answer.status_code, answer.body, answer.headers)
    return answer.response()
