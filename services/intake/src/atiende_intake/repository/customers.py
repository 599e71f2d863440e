"""Customers and identities: intake's customer SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from atiende_contracts import Formality, NotificationChannel, Tier
from atiende_runtime.db import Connection

from ..domain.customers import (
    ERASED_TEXT,
    ContactFacts,
    Customer,
    CustomerMerge,
    HistoryEntry,
    Identity,
    IdentityKind,
    NewCustomer,
    Profile,
    identity_pseudonym,
    pseudonym,
)


def customer_of(row: asyncpg.Record) -> Customer:
    return Customer(
        id=row["id"],
        name=row["name"],
        primary_email=row["primary_email"],
        tier=Tier(row["tier"]),
        language=row["language"],
        formality=Formality(row["formality"]),
        consent_surveys=row["consent_surveys"],
        consent_marketing=row["consent_marketing"],
        merged_into=row["merged_into"],
        erased_at=row["erased_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        preferred_channel=(
            NotificationChannel(row["preferred_channel"]) if row["preferred_channel"] else None
        ),
    )


def merge_of(row: asyncpg.Record) -> CustomerMerge:
    return CustomerMerge(
        id=row["id"],
        source_id=row["source_id"],
        target_id=row["target_id"],
        identity_ids=list(row["identity_ids"]),
        contact_ids=list(row["contact_ids"]),
        case_ids=list(row["case_ids"]),
        repointed_ids=list(row["repointed_ids"]),
        merged_at=row["merged_at"],
        undone_at=row["undone_at"],
        merged_by=row["merged_by"],
        undone_by=row["undone_by"],
    )


class PostgresCustomersRepository:
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

    async def lock(self, customer_id: uuid.UUID) -> Customer | None:
        """The customer, its row locked: contacts of one customer are recorded one at a time, so
        two simultaneous complaints about one problem cannot open two cases."""
        row = await self.conn.fetchrow(
            "SELECT * FROM customers WHERE id = $1 FOR UPDATE", customer_id
        )
        return customer_of(row) if row else None

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

    async def identities(self, customer_id: uuid.UUID) -> list[Identity]:
        """The customer's identities, oldest first."""
        rows = await self.conn.fetch(
            """SELECT kind, scope, value FROM customer_identities
               WHERE customer_id = $1 ORDER BY created_at, kind, value""",
            customer_id,
        )
        return [Identity(IdentityKind(r["kind"]), r["value"], r["scope"]) for r in rows]

    # --- managing customers -------------------------------------------------------------

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        row = await self.conn.fetchrow("SELECT * FROM customers WHERE id = $1", customer_id)
        return customer_of(row) if row else None

    async def lock_in_order(self, *customer_ids: uuid.UUID) -> dict[uuid.UUID, Customer]:
        """Several customers, their rows locked in id order: two merges of the same pair in
        opposite directions then wait for each other instead of deadlocking."""
        rows = await self.conn.fetch(
            "SELECT * FROM customers WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
            list(customer_ids),
        )
        return {r["id"]: customer_of(r) for r in rows}

    async def create_with_profile(
        self, customer_id: uuid.UUID, new: NewCustomer, actor: str | None
    ) -> None:
        await self.conn.execute(
            """INSERT INTO customers (id, name, primary_email, tier, language, formality,
                   consent_surveys, consent_marketing, preferred_channel, updated_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            customer_id,
            new.name,
            new.email,
            new.tier.value,
            str(new.language),
            new.formality.value,
            new.consent_surveys,
            new.consent_marketing,
            new.preferred_channel.value if new.preferred_channel else None,
            actor,
        )

    async def update_profile(
        self, customer_id: uuid.UUID, name: str, profile: Profile, actor: str | None
    ) -> None:
        await self.conn.execute(
            """UPDATE customers SET name = $2, tier = $3, language = $4, formality = $5,
                   consent_surveys = $6, consent_marketing = $7, preferred_channel = $8,
                   updated_at = now(), updated_by = $9
               WHERE id = $1""",
            customer_id,
            name,
            profile.tier.value,
            str(profile.language),
            profile.formality.value,
            profile.consent_surveys,
            profile.consent_marketing,
            profile.preferred_channel.value if profile.preferred_channel else None,
            actor,
        )

    async def changed_by(self, customer_id: uuid.UUID) -> tuple[str | None, str | None]:
        row = await self.conn.fetchrow(
            "SELECT updated_by, erased_by FROM customers WHERE id = $1", customer_id
        )
        return (row["updated_by"], row["erased_by"]) if row else (None, None)

    async def merge(
        self, merge_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID, actor: str | None
    ) -> CustomerMerge:
        """Move the source's identities, contacts and cases to the target and record exactly
        which rows moved. Customers merged into the source earlier are re-pointed at the target
        (and recorded too), so `merged_into` always names a customer that was not merged away."""
        moved = await self.conn.fetchrow(
            """WITH identities AS (
                   UPDATE customer_identities SET customer_id = $3 WHERE customer_id = $2
                   RETURNING id),
               contacts AS (
                   UPDATE contacts SET customer_id = $3 WHERE customer_id = $2 RETURNING id),
               cases AS (
                   UPDATE cases SET customer_id = $3 WHERE customer_id = $2 RETURNING id),
               repointed AS (
                   UPDATE customers SET merged_into = $3, updated_at = now()
                   WHERE merged_into = $2 RETURNING id)
               INSERT INTO customer_merges (id, source_id, target_id, identity_ids, contact_ids,
                   case_ids, repointed_ids, merged_at, merged_by)
               SELECT $1, $2, $3,
                   ARRAY(SELECT id FROM identities ORDER BY id),
                   ARRAY(SELECT id FROM contacts ORDER BY id),
                   ARRAY(SELECT id FROM cases ORDER BY id),
                   ARRAY(SELECT id FROM repointed ORDER BY id),
                   now(), $4
               RETURNING *""",
            merge_id,
            source_id,
            target_id,
            actor,
        )
        await self.conn.execute(
            "UPDATE customers SET merged_into = $2, updated_at = now() WHERE id = $1",
            source_id,
            target_id,
        )
        assert moved is not None
        return merge_of(moved)

    async def get_merge(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        row = await self.conn.fetchrow("SELECT * FROM customer_merges WHERE id = $1", merge_id)
        return merge_of(row) if row else None

    async def lock_merge(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM customer_merges WHERE id = $1 FOR UPDATE", merge_id
        )
        return merge_of(row) if row else None

    async def active_merge_of(self, source_id: uuid.UUID) -> uuid.UUID | None:
        """The merge, not undone, that took `source_id` away."""
        merge_id: uuid.UUID | None = await self.conn.fetchval(
            """SELECT id FROM customer_merges WHERE source_id = $1 AND undone_at IS NULL
               ORDER BY merged_at DESC LIMIT 1""",
            source_id,
        )
        return merge_id

    async def undo_merge(self, merge: CustomerMerge, actor: str | None) -> CustomerMerge:
        """Move back exactly the rows the merge moved; anything the target gained since stays."""
        source_id, target_id = merge.source_id, merge.target_id
        for table, ids in (
            ("customer_identities", merge.identity_ids),
            ("contacts", merge.contact_ids),
            ("cases", merge.case_ids),
        ):
            await self.conn.execute(
                f"UPDATE {table} SET customer_id = $1 WHERE id = ANY($3::uuid[]) AND customer_id = $2",
                source_id,
                target_id,
                ids,
            )
        await self.conn.execute(
            """UPDATE customers SET merged_into = $1, updated_at = now()
               WHERE id = ANY($3::uuid[]) AND merged_into = $2""",
            source_id,
            target_id,
            merge.repointed_ids,
        )
        await self.conn.execute(
            "UPDATE customers SET merged_into = NULL, updated_at = now() WHERE id = $1", source_id
        )
        undone = await self.conn.fetchrow(
            "UPDATE customer_merges SET undone_at = now(), undone_by = $2 WHERE id = $1 RETURNING *",
            merge.id,
            actor,
        )
        assert undone is not None
        return merge_of(undone)

    async def erase(self, customer_id: uuid.UUID, actor: str | None) -> datetime:
        """Pseudonymise the customer and everything written by or about them; rows stay, so
        counts and history survive. Customers merged into this one are the same person: their
        records are erased too. Returns when it was erased."""
        people = [
            customer_id,
            *await self.conn.fetchval(
                "SELECT coalesce(array_agg(id), '{}') FROM customers WHERE merged_into = $1",
                customer_id,
            ),
        ]
        for person in people:
            await self.conn.execute(
                """UPDATE customers SET name = $2, primary_email = NULL, erased_at = now(),
                       updated_at = now(), erased_by = $3
                   WHERE id = $1""",
                person,
                pseudonym(person, "name"),
                actor,
            )
        identities = await self.conn.fetch(
            "SELECT id, customer_id FROM customer_identities WHERE customer_id = ANY($1::uuid[])",
            people,
        )
        await self.conn.executemany(
            "UPDATE customer_identities SET value = $2 WHERE id = $1",
            [(i["id"], identity_pseudonym(i["customer_id"], i["id"])) for i in identities],
        )
        await self.conn.execute(
            """UPDATE contacts SET
                   body = $2,
                   expectation = CASE WHEN expectation IS NULL THEN NULL ELSE $2 END,
                   attachments = (SELECT coalesce(jsonb_agg(a || jsonb_build_object('name', $2::text)), '[]')
                                  FROM jsonb_array_elements(attachments) AS a)
               WHERE customer_id = ANY($1::uuid[])""",
            people,
            ERASED_TEXT,
        )
        await self.conn.execute(
            """UPDATE cases SET
                   description = $2,
                   expectation = CASE WHEN expectation IS NULL THEN NULL ELSE $2 END,
                   reply_email = NULL
               WHERE customer_id = ANY($1::uuid[])""",
            people,
            ERASED_TEXT,
        )
        # promises and resolutions are agents' free text about the person
        await self.conn.execute(
            """UPDATE case_facts SET summary = $2, details = '{}'
               WHERE event_type IN ('commitment.made', 'case.resolved')
                 AND case_id IN (SELECT id FROM cases WHERE customer_id = ANY($1::uuid[]))""",
            people,
            ERASED_TEXT,
        )
        erased_at: datetime = await self.conn.fetchval(
            "SELECT erased_at FROM customers WHERE id = $1", customer_id
        )
        return erased_at

    async def personal_values(self, customer_id: uuid.UUID) -> list[str]:
        rows = await self.conn.fetch(
            """WITH people AS (
                   SELECT id FROM customers WHERE id = $1 OR merged_into = $1
               )
               SELECT name AS v FROM customers WHERE id IN (SELECT id FROM people)
               UNION SELECT primary_email FROM customers WHERE id IN (SELECT id FROM people)
               UNION SELECT value FROM customer_identities
                     WHERE customer_id IN (SELECT id FROM people)
               UNION SELECT reply_email FROM cases WHERE customer_id IN (SELECT id FROM people)""",
            customer_id,
        )
        return sorted(r["v"] for r in rows if r["v"])

    async def case_ids(self, customer_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            await self.conn.fetchval(
                "SELECT coalesce(array_agg(id ORDER BY opened_at, id), '{}') FROM cases"
                " WHERE customer_id = $1",
                customer_id,
            )
        )

    async def history(
        self, customer_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[HistoryEntry]:
        """The customer's contacts, cases and what other services said about its cases, newest
        first, in one list: the page after `after` (the (at, id) of the previous page's last
        item)."""
        rows = await self.conn.fetch(
            """SELECT * FROM (
                       SELECT 'contact' AS type, ct.received_at AS at, ct.id, ct.kind,
                              ct.channel, ct.direction, ct.motive, ct.touchpoint, ct.case_id,
                              cs.number AS case_number, NULL AS status, ct.body AS text,
                              ct.severity, ct.upset, NULL::jsonb AS details
                       FROM contacts ct LEFT JOIN cases cs ON cs.id = ct.case_id
                       WHERE ct.customer_id = $1
                       UNION ALL
                       SELECT 'case', opened_at, id, type, channel, NULL, motive, touchpoint,
                              id, number, status, description, severity, upset, NULL
                       FROM cases WHERE customer_id = $1
                       UNION ALL
                       SELECT 'event', f.at, f.event_id, f.event_type, NULL, NULL, NULL, NULL,
                              f.case_id, cs.number, NULL, f.summary, NULL, false, f.details
                       FROM case_facts f JOIN cases cs ON cs.id = f.case_id
                       WHERE cs.customer_id = $1
                   ) h
                   WHERE $2::timestamptz IS NULL OR (h.at, h.id) < ($2, $3)
                   ORDER BY h.at DESC, h.id DESC LIMIT $4""",
            customer_id,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [HistoryEntry(**dict(r)) for r in rows]

    async def contact_facts(self, customer_id: uuid.UUID) -> ContactFacts:
        """Repeat-customer facts: when the customer first contacted us, and how often since."""
        row = await self.conn.fetchrow(
            """SELECT min(received_at) AS first_contact_at, count(*) AS contact_count,
                      (SELECT count(*) FROM cases WHERE customer_id = $1) AS case_count
               FROM contacts WHERE customer_id = $1""",
            customer_id,
        )
        assert row is not None
        return ContactFacts(row["first_contact_at"], row["contact_count"], row["case_count"])

    async def phone_of(self, customer_id: uuid.UUID) -> str | None:
        """The customer's first phone identity (E.164), if any."""
        phone: str | None = await self.conn.fetchval(
            """SELECT value FROM customer_identities WHERE customer_id = $1 AND kind = 'phone'
               ORDER BY created_at, value LIMIT 1""",
            customer_id,
        )
        return phone
