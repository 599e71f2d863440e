"""Customers and identities: intake's customer SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from atiende_contracts import Formality, Tier
from atiende_runtime.db import Connection

from ..domain.customers import Identity, IdentityKind, Profile


class CustomersRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, uuid.UUID]:
        """Which customer each known identity belongs to (merged customers are followed)."""
        if not identities:
            return {}
        rows = await self.conn.fetch(
            """SELECT i.kind, i.scope, i.value, COALESCE(c.merged_into, c.id) AS customer_id
               FROM customer_identities i JOIN customers c ON c.id = i.customer_id
               JOIN unnest($1::text[], $2::text[], $3::text[]) AS w(kind, scope, value)
                 ON w.kind = i.kind AND w.scope = i.scope AND w.value = i.value""",
            [i.kind.value for i in identities],
            [i.scope for i in identities],
            [i.value for i in identities],
        )
        return {
            Identity(IdentityKind(r["kind"]), r["value"], r["scope"]): r["customer_id"]
            for r in rows
        }

    async def lock(self, customer_id: uuid.UUID) -> asyncpg.Record | None:
        """The customer row, locked: contacts of one customer are recorded one at a time, so two
        simultaneous complaints about one problem cannot open two cases."""
        return await self.conn.fetchrow(
            "SELECT * FROM customers WHERE id = $1 FOR UPDATE", customer_id
        )

    async def create(
        self, customer_id: uuid.UUID, name: str, primary_email: str | None, language: str = "es"
    ) -> None:
        await self.conn.execute(
            "INSERT INTO customers (id, name, primary_email, language) VALUES ($1, $2, $3, $4)",
            customer_id,
            name,
            primary_email,
            language,
        )

    async def attach(
        self, customer_id: uuid.UUID, identities: Sequence[Identity]
    ) -> list[Identity]:
        """Attach identities nobody owns yet; returns those attached."""
        attached = []
        for identity in identities:
            inserted = await self.conn.fetchval(
                """INSERT INTO customer_identities (customer_id, kind, scope, value)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (kind, scope, value) DO NOTHING
                   RETURNING true""",
                customer_id,
                identity.kind.value,
                identity.scope,
                identity.value,
            )
            if inserted:
                attached.append(identity)
        return attached

    async def fill_in(self, customer_id: uuid.UUID, name: str | None, email: str | None) -> None:
        """Complete what the customer record lacks (a name placeholder, a primary email)."""
        await self.conn.execute(
            """UPDATE customers SET
                   name = CASE WHEN $2::text IS NOT NULL AND name = '' THEN $2 ELSE name END,
                   primary_email = COALESCE(primary_email, $3), updated_at = now()
               WHERE id = $1 AND erased_at IS NULL""",
            customer_id,
            name,
            email,
        )

    async def has_contacts(self, customer_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM contacts WHERE customer_id = $1)", customer_id
            )
        )

    async def identities(self, customer_id: uuid.UUID) -> list[asyncpg.Record]:
        return list(
            await self.conn.fetch(
                """SELECT id, kind, scope, value, created_at FROM customer_identities
                   WHERE customer_id = $1 ORDER BY created_at, kind, value""",
                customer_id,
            )
        )


def profile_of(row: asyncpg.Record) -> Profile:
    return Profile(
        customer_id=row["id"],
        tier=Tier(row["tier"]),
        language=row["language"],
        formality=Formality(row["formality"]),
        consent_surveys=row["consent_surveys"],
        consent_marketing=row["consent_marketing"],
    )
