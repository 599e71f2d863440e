"""Erasure of a customer's copies in the tables every service has: its outbox (events waiting to
be published, and published ones kept until `outbox_retention_hours`) and its Idempotency-Key
store (full response bodies kept until the key expires).

Each service calls `scrub_copies` from its own `customer.erased` handling, in the same
transaction, with what only it knows: the customer's ids in its world (`subjects`: the customer's
and their cases' ids), the personal values it held (`values`: name, addresses, phone, document…)
and the keys under which its events and responses carry free text about the customer
(`free_text`: e.g. `comment`, `description`, `note`).

A stored JSON document is rewritten, never deleted, so an event still validates against its
contract and a retried request still gets its (scrubbed) first answer:
- in a row about the customer (its outbox subject is one of `subjects`, or its text names one of
  them), every string under a `free_text` key becomes `ERASED`;
- in any row, every string containing one of `values` (case-insensitively) becomes `ERASED`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .db import Connection

ERASED = "[erased]"
"""What a scrubbed string reads afterwards, in every service."""

MIN_VALUE_LENGTH = 3
"""Shorter values are not searched for: "Li" or "Al" would erase half of every text. Rows about
the customer still lose their free text by key."""


@dataclass(frozen=True)
class Scrubbed:
    outbox: int
    idempotency: int


def searchable(values: Iterable[str | None]) -> list[str]:
    """The values worth searching for: stripped, long enough, each once (case-insensitively),
    with a copy without spaces of any that has them (a phone written "+34 600 12 34 56" is
    stored "+34600123456")."""
    found: dict[str, str] = {}
    for raw in values:
        if raw is None:
            continue
        value = raw.strip()
        for variant in (value, "".join(value.split())):
            if len(variant) >= MIN_VALUE_LENGTH:
                found.setdefault(variant.casefold(), variant)
    return list(found.values())


def scrub_text(text: str, values: Iterable[str]) -> str:
    """`text` with every occurrence of one of `values` (case-insensitively) replaced by ERASED:
    for text that is not the customer's, only mentions them (a message to staff about their
    case)."""
    for value in sorted(searchable(values), key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return text


def scrub_document(
    document: Any, values: Collection[str], free_text: Collection[str], *, about: bool
) -> Any:
    """`document` with personal strings replaced by ERASED (see the module's rules). `values`
    must be casefolded."""

    def walk(node: Any, free: bool) -> Any:
        if isinstance(node, str):
            if free or any(v in node.casefold() for v in values):
                return ERASED
            return node
        if isinstance(node, dict):
            return {k: walk(v, free or (about and k in free_text)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, free) for v in node]
        return node

    return walk(document, False)


async def scrub_copies(
    conn: Connection,
    *,
    subjects: Iterable[uuid.UUID | str],
    values: Iterable[str | None],
    free_text: Collection[str] = (),
) -> Scrubbed:
    """Scrub the service's outbox and Idempotency-Key responses (the current schema's) of a
    customer's data, in the caller's transaction. Returns how many rows changed."""
    ids = sorted({str(s) for s in subjects})
    needles = [v.casefold() for v in searchable(values)]
    keys = frozenset(free_text)
    # candidates in SQL (strpos, so a value's % or _ is not a pattern); the rewrite in Python
    outbox = await conn.fetch(
        """SELECT position, subject, data FROM outbox
           WHERE subject = ANY($1::text[])
              OR EXISTS (SELECT 1 FROM unnest($1::text[] || $2::text[]) AS n
                         WHERE strpos(lower(data::text), lower(n)) > 0)""",
        ids,
        needles,
    )
    changed_outbox = 0
    for row in outbox:
        text = str(row["data"]).casefold()
        about = row["subject"] in ids or any(i in text for i in ids)
        data = scrub_document(row["data"], needles, keys, about=about)
        if data != row["data"]:
            await conn.execute(
                "UPDATE outbox SET data = $2 WHERE position = $1", row["position"], data
            )
            changed_outbox += 1
    kept = await conn.fetch(
        """SELECT caller, scope, key, response, headers FROM idempotency_keys
           WHERE EXISTS (SELECT 1 FROM unnest($1::text[] || $2::text[]) AS n
                         WHERE strpos(lower(coalesce(response::text, '') || headers::text),
                                      lower(n)) > 0)""",
        ids,
        needles,
    )
    changed_keys = 0
    for row in kept:
        text = f"{row['response']} {row['headers']}".casefold()
        about = any(i in text for i in ids)
        response = scrub_document(row["response"], needles, keys, about=about)
        headers = scrub_document(row["headers"], needles, (), about=False)
        if (response, headers) != (row["response"], row["headers"]):
            await conn.execute(
                """UPDATE idempotency_keys SET response = $4, headers = $5
                   WHERE caller = $1 AND scope = $2 AND key = $3""",
                row["caller"],
                row["scope"],
                row["key"],
                response,
                headers,
            )
            changed_keys += 1
    return Scrubbed(changed_outbox, changed_keys)


# A service that keeps copies of customers also keeps an `erased_customers (customer_id uuid
# PRIMARY KEY, erased_at timestamptz NOT NULL)` table (its own migration): an erased customer is
# remembered there, so a copy arriving late is not stored in clear.


async def remember_erased(conn: Connection, customer_id: uuid.UUID, at: datetime) -> None:
    """Note that the customer was erased (again: nothing changes)."""
    await conn.execute(
        """INSERT INTO erased_customers (customer_id, erased_at) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        customer_id,
        at,
    )


async def was_erased(conn: Connection, customer_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM erased_customers WHERE customer_id = $1)", customer_id
        )
    )
