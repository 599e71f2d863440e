"""Compensations: the versioned catalogue, approval limits, customer caps, approval requests and
the append-only ledger (006's compensation_ledger): the port the use cases see and its SQL."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import asyncpg

from atiende_contracts import CompensationKind, Rank
from atiende_runtime.db import Connection

from ..domain.compensations import (
    ApprovalLimit,
    ApprovalRequest,
    CatalogueEntry,
    CustomerCap,
    EntryKind,
    GrantUsage,
    LedgerEntry,
    PeriodUnit,
    Proposal,
    RequestStatus,
    ValueRule,
)


@dataclass(frozen=True)
class LedgerFilter:
    case_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    team: str | None = None
    kind: CompensationKind | None = None
    since: datetime | None = None
    """Recorded at or after."""
    until: datetime | None = None
    """Recorded before."""


@dataclass(frozen=True)
class LedgerPosition:
    """Where a page of the ledger ended (newest first): the next page starts after it."""

    recorded_at: datetime
    entry_id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.recorded_at.isoformat(), str(self.entry_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> LedgerPosition:
        """ValueError when it is not a cursor this API gave out."""
        try:
            at, entry_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            return cls(datetime.fromisoformat(at), uuid.UUID(entry_id))
        except (binascii.Error, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(cursor) from exc


@dataclass(frozen=True)
class CurrencyTotal:
    """The ledger's totals in one currency over a filter: granted, reversed (positive), net."""

    currency: str
    granted: Decimal
    reversed: Decimal
    grants: int
    reversals: int

    @property
    def net(self) -> Decimal:
        return self.granted - self.reversed


class CompensationsRepository(Protocol):
    # --- catalogue (every version kept)
    async def add_entry(self, entry: CatalogueEntry) -> bool:
        """Store a version; False if that code and version exist already."""
        ...

    async def entry(self, code: str, version: int | None = None) -> CatalogueEntry | None:
        """The latest version of a code (or the one named)."""
        ...

    async def entries(self) -> list[CatalogueEntry]:
        """The latest version of every code, by code."""
        ...

    async def history(self, code: str) -> list[CatalogueEntry]:
        """Every version of a code, oldest first."""
        ...

    # --- approval limits and caps
    async def limits(self) -> list[ApprovalLimit]:
        """By rank (lowest first), then currency."""
        ...

    async def put_limit(self, limit: ApprovalLimit) -> None: ...

    async def delete_limit(self, rank: Rank, currency: str) -> bool: ...

    async def caps(self) -> list[CustomerCap]:
        """By id."""
        ...

    async def put_cap(self, cap: CustomerCap) -> None: ...

    async def delete_cap(self, cap_id: str) -> bool: ...

    # --- approval requests
    async def add_request(self, request: ApprovalRequest) -> None: ...

    async def request(
        self, request_id: uuid.UUID, *, for_update: bool = False
    ) -> ApprovalRequest | None: ...

    async def save_request(self, request: ApprovalRequest) -> None:
        """Store its decision (status, decider, reason, time, grant)."""
        ...

    async def requests(
        self,
        *,
        status: RequestStatus | None,
        ranks: Sequence[Rank] | None,
        case_id: uuid.UUID | None,
        limit: int,
    ) -> list[ApprovalRequest]:
        """Oldest first; `ranks`: only those asking one of these ranks."""
        ...

    # --- the ledger (append-only)
    async def lock_customer(self, customer_id: uuid.UUID) -> None:
        """Until the unit of work ends, no other grant to this customer is decided (the caps
        are checked and the grant written while it is held)."""
        ...

    async def usage(self, customer_id: uuid.UUID, since: datetime) -> list[GrantUsage]:
        """The customer's grants recorded since `since`, each net of its reversals."""
        ...

    async def record(self, entry: LedgerEntry) -> None: ...

    async def grant_entry(
        self, grant_id: uuid.UUID, *, for_update: bool = False
    ) -> LedgerEntry | None:
        """A grant (not a reversal); with for_update, its reversals are decided one at a time."""
        ...

    async def reversals_of(self, grant_id: uuid.UUID) -> list[LedgerEntry]:
        """Oldest first."""
        ...

    async def ledger(
        self, where: LedgerFilter, after: LedgerPosition | None, limit: int
    ) -> list[LedgerEntry]:
        """Entries matching the filter, newest first, after `after`."""
        ...

    async def totals(self, where: LedgerFilter) -> list[CurrencyTotal]:
        """Per currency (by code), over every entry matching the filter."""
        ...


def _money(value: Any) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _entry(row: asyncpg.Record) -> CatalogueEntry:
    descriptions = row["descriptions"]
    return CatalogueEntry(
        code=row["code"],
        version=row["version"],
        kind=CompensationKind(row["kind"]),
        descriptions=json.loads(descriptions) if isinstance(descriptions, str) else descriptions,
        value_rule=ValueRule(row["value_rule"]),
        amount=_money(row["amount"]),
        percent=_money(row["percent"]),
        maximum=_money(row["maximum"]),
        currency=row["currency"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        case_types=frozenset(row["case_types"]),
        motives=frozenset(row["motives"]),
        cost_centre=row["cost_centre"],
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def _cap(row: asyncpg.Record) -> CustomerCap:
    return CustomerCap(
        id=row["id"],
        currency=row["currency"],
        max_count=row["max_count"],
        max_amount=_money(row["max_amount"]),
        period_unit=PeriodUnit(row["period_unit"]),
        period_length=row["period_length"],
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def _request(row: asyncpg.Record) -> ApprovalRequest:
    return ApprovalRequest(
        id=row["id"],
        proposal=Proposal(
            case_id=row["case_id"],
            case_number=row["case_number"],
            customer_id=row["customer_id"],
            team=row["team"],
            agent_id=row["agent_id"],
            catalogue_code=row["catalogue_code"],
            catalogue_version=row["catalogue_version"],
            kind=CompensationKind(row["kind"]),
            amount=Decimal(row["amount"]),
            currency=row["currency"],
            cost_centre=row["cost_centre"],
            reason=row["reason"],
        ),
        requested_by=row["requested_by"],
        requested_rank=Rank(row["requested_rank"]),
        approver_rank=Rank(row["approver_rank"]),
        requested_at=row["requested_at"],
        status=RequestStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_rank=Rank(row["decided_rank"]) if row["decided_rank"] else None,
        decision_reason=row["decision_reason"],
        decided_at=row["decided_at"],
        grant_id=row["grant_id"],
    )


def _ledger(row: asyncpg.Record) -> LedgerEntry:
    return LedgerEntry(
        entry_id=row["entry_id"],
        entry_kind=EntryKind(row["entry_kind"]),
        grant_id=row["grant_id"],
        case_id=row["case_id"],
        customer_id=row["customer_id"],
        catalogue_code=row["catalogue_code"],
        catalogue_version=row["catalogue_version"],
        kind=CompensationKind(row["kind"]),
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        recorded_at=row["recorded_at"],
        cost_centre=row["cost_centre"],
        team=row["team"],
        agent_id=row["agent_id"],
        actor=row["actor"],
        approved_by=row["approved_by"],
        request_id=row["request_id"],
        reason=row["reason"],
        case_number=row["case_number"],
    )


_LEDGER = """SELECT l.*, c.number AS case_number FROM compensation_ledger l
             LEFT JOIN cases c ON c.id = l.case_id"""

_WHERE = """($1::uuid IS NULL OR l.case_id = $1) AND ($2::uuid IS NULL OR l.customer_id = $2)
            AND ($3::text IS NULL OR l.team = $3) AND ($4::text IS NULL OR l.kind = $4)
            AND ($5::timestamptz IS NULL OR l.recorded_at >= $5)
            AND ($6::timestamptz IS NULL OR l.recorded_at < $6)"""


def _filter_args(where: LedgerFilter) -> tuple[Any, ...]:
    return (
        where.case_id,
        where.customer_id,
        where.team,
        where.kind.value if where.kind else None,
        where.since,
        where.until,
    )


class PostgresCompensationsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add_entry(self, entry: CatalogueEntry) -> bool:
        e = entry
        stored = await self.conn.fetchval(
            """INSERT INTO compensation_catalogue (code, version, kind, descriptions, value_rule,
                   amount, percent, maximum, currency, valid_from, valid_until, case_types,
                   motives, cost_centre, active, changed_at, actor)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                       COALESCE($16, now()), $17)
               ON CONFLICT (code, version) DO NOTHING RETURNING true""",
            e.code,
            e.version,
            e.kind.value,
            dict(e.descriptions),
            e.value_rule.value,
            e.amount,
            e.percent,
            e.maximum,
            e.currency,
            e.valid_from,
            e.valid_until,
            sorted(e.case_types),
            sorted(e.motives),
            e.cost_centre,
            e.active,
            e.changed_at,
            e.actor,
        )
        return bool(stored)

    async def entry(self, code: str, version: int | None = None) -> CatalogueEntry | None:
        row = await self.conn.fetchrow(
            """SELECT * FROM compensation_catalogue
               WHERE code = $1 AND ($2::int IS NULL OR version = $2)
               ORDER BY version DESC LIMIT 1""",
            code,
            version,
        )
        return _entry(row) if row else None

    async def entries(self) -> list[CatalogueEntry]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT ON (code) * FROM compensation_catalogue ORDER BY code, version DESC"
        )
        return [_entry(r) for r in rows]

    async def history(self, code: str) -> list[CatalogueEntry]:
        rows = await self.conn.fetch(
            "SELECT * FROM compensation_catalogue WHERE code = $1 ORDER BY version", code
        )
        return [_entry(r) for r in rows]

    async def limits(self) -> list[ApprovalLimit]:
        rows = await self.conn.fetch(
            """SELECT * FROM compensation_limits
               ORDER BY array_position(ARRAY['agent', 'senior', 'supervisor', 'manager'], rank),
                        currency"""
        )
        return [
            ApprovalLimit(
                rank=Rank(r["rank"]),
                currency=r["currency"],
                max_amount=Decimal(r["max_amount"]),
                changed_at=r["changed_at"],
                actor=r["actor"],
            )
            for r in rows
        ]

    async def put_limit(self, limit: ApprovalLimit) -> None:
        await self.conn.execute(
            """INSERT INTO compensation_limits (rank, currency, max_amount, changed_at, actor)
               VALUES ($1, $2, $3, COALESCE($4, now()), $5)
               ON CONFLICT (rank, currency) DO UPDATE SET max_amount = EXCLUDED.max_amount,
                   changed_at = EXCLUDED.changed_at, actor = EXCLUDED.actor""",
            limit.rank.value,
            limit.currency,
            limit.max_amount,
            limit.changed_at,
            limit.actor,
        )

    async def delete_limit(self, rank: Rank, currency: str) -> bool:
        result = await self.conn.execute(
            "DELETE FROM compensation_limits WHERE rank = $1 AND currency = $2",
            rank.value,
            currency,
        )
        return result != "DELETE 0"

    async def caps(self) -> list[CustomerCap]:
        rows = await self.conn.fetch("SELECT * FROM compensation_caps ORDER BY id")
        return [_cap(r) for r in rows]

    async def put_cap(self, cap: CustomerCap) -> None:
        await self.conn.execute(
            """INSERT INTO compensation_caps (id, currency, max_count, max_amount, period_unit,
                   period_length, active, changed_at, actor)
               VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, now()), $9)
               ON CONFLICT (id) DO UPDATE SET currency = EXCLUDED.currency,
                   max_count = EXCLUDED.max_count, max_amount = EXCLUDED.max_amount,
                   period_unit = EXCLUDED.period_unit, period_length = EXCLUDED.period_length,
                   active = EXCLUDED.active, changed_at = EXCLUDED.changed_at,
                   actor = EXCLUDED.actor""",
            cap.id,
            cap.currency,
            cap.max_count,
            cap.max_amount,
            cap.period_unit.value,
            cap.period_length,
            cap.active,
            cap.changed_at,
            cap.actor,
        )

    async def delete_cap(self, cap_id: str) -> bool:
        result = await self.conn.execute("DELETE FROM compensation_caps WHERE id = $1", cap_id)
        return result != "DELETE 0"

    async def add_request(self, request: ApprovalRequest) -> None:
        r, p = request, request.proposal
        await self.conn.execute(
            """INSERT INTO compensation_requests (id, case_id, case_number, customer_id, team,
                   agent_id, catalogue_code, catalogue_version, kind, amount, currency,
                   cost_centre, reason, requested_by, requested_rank, approver_rank,
                   requested_at, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                       $17, $18)""",
            r.id,
            p.case_id,
            p.case_number,
            p.customer_id,
            p.team,
            p.agent_id,
            p.catalogue_code,
            p.catalogue_version,
            p.kind.value,
            p.amount,
            p.currency,
            p.cost_centre,
            p.reason,
            r.requested_by,
            r.requested_rank.value,
            r.approver_rank.value,
            r.requested_at,
            r.status.value,
        )

    async def request(
        self, request_id: uuid.UUID, *, for_update: bool = False
    ) -> ApprovalRequest | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(
            f"SELECT * FROM compensation_requests WHERE id = $1{lock}", request_id
        )
        return _request(row) if row else None

    async def save_request(self, request: ApprovalRequest) -> None:
        await self.conn.execute(
            """UPDATE compensation_requests SET status = $2, decided_by = $3, decided_rank = $4,
                      decision_reason = $5, decided_at = $6, grant_id = $7
               WHERE id = $1""",
            request.id,
            request.status.value,
            request.decided_by,
            request.decided_rank.value if request.decided_rank else None,
            request.decision_reason,
            request.decided_at,
            request.grant_id,
        )

    async def requests(
        self,
        *,
        status: RequestStatus | None,
        ranks: Sequence[Rank] | None,
        case_id: uuid.UUID | None,
        limit: int,
    ) -> list[ApprovalRequest]:
        rows = await self.conn.fetch(
            """SELECT * FROM compensation_requests
               WHERE ($1::text IS NULL OR status = $1)
                 AND ($2::text[] IS NULL OR approver_rank = ANY($2))
                 AND ($3::uuid IS NULL OR case_id = $3)
               ORDER BY requested_at, id LIMIT $4""",
            status.value if status else None,
            [r.value for r in ranks] if ranks is not None else None,
            case_id,
            limit,
        )
        return [_request(r) for r in rows]

    async def lock_customer(self, customer_id: uuid.UUID) -> None:
        # a transaction-scoped advisory lock: released at commit or rollback, no row needed
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('atiende.compensation.customer'),"
            " hashtext($1::text))",
            str(customer_id),
        )

    async def usage(self, customer_id: uuid.UUID, since: datetime) -> list[GrantUsage]:
        rows = await self.conn.fetch(
            """SELECT g.entry_id, g.currency, g.recorded_at,
                      g.amount + COALESCE((SELECT sum(r.amount) FROM compensation_ledger r
                                           WHERE r.grant_id = g.entry_id
                                             AND r.entry_kind = 'reversal'), 0) AS net
               FROM compensation_ledger g
               WHERE g.customer_id = $1 AND g.entry_kind = 'grant' AND g.recorded_at >= $2
               ORDER BY g.recorded_at, g.entry_id""",
            customer_id,
            since,
        )
        return [
            GrantUsage(r["entry_id"], r["currency"], r["recorded_at"], Decimal(r["net"]))
            for r in rows
        ]

    async def record(self, entry: LedgerEntry) -> None:
        e = entry
        await self.conn.execute(
            """INSERT INTO compensation_ledger (entry_id, entry_kind, grant_id, case_id,
                   customer_id, catalogue_code, catalogue_version, kind, amount, currency,
                   cost_centre, team, agent_id, actor, approved_by, request_id, reason,
                   recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                       $17, $18)""",
            e.entry_id,
            e.entry_kind.value,
            e.grant_id,
            e.case_id,
            e.customer_id,
            e.catalogue_code,
            e.catalogue_version,
            e.kind.value,
            e.amount,
            e.currency,
            e.cost_centre,
            e.team,
            e.agent_id,
            e.actor,
            e.approved_by,
            e.request_id,
            e.reason,
            e.recorded_at,
        )

    async def grant_entry(
        self, grant_id: uuid.UUID, *, for_update: bool = False
    ) -> LedgerEntry | None:
        lock = " FOR UPDATE OF l" if for_update else ""
        row = await self.conn.fetchrow(
            f"{_LEDGER} WHERE l.entry_id = $1 AND l.entry_kind = 'grant'{lock}", grant_id
        )
        return _ledger(row) if row else None

    async def reversals_of(self, grant_id: uuid.UUID) -> list[LedgerEntry]:
        rows = await self.conn.fetch(
            f"""{_LEDGER} WHERE l.grant_id = $1 AND l.entry_kind = 'reversal'
                ORDER BY l.recorded_at, l.entry_id""",
            grant_id,
        )
        return [_ledger(r) for r in rows]

    async def ledger(
        self, where: LedgerFilter, after: LedgerPosition | None, limit: int
    ) -> list[LedgerEntry]:
        rows = await self.conn.fetch(
            f"""{_LEDGER} WHERE {_WHERE}
                  AND ($7::timestamptz IS NULL OR (l.recorded_at, l.entry_id) < ($7, $8::uuid))
                ORDER BY l.recorded_at DESC, l.entry_id DESC LIMIT $9""",
            *_filter_args(where),
            after.recorded_at if after else None,
            after.entry_id if after else None,
            limit,
        )
        return [_ledger(r) for r in rows]

    async def totals(self, where: LedgerFilter) -> list[CurrencyTotal]:
        rows = await self.conn.fetch(
            f"""SELECT l.currency,
                       COALESCE(sum(l.amount) FILTER (WHERE l.entry_kind = 'grant'), 0) AS granted,
                       COALESCE(-sum(l.amount) FILTER (WHERE l.entry_kind = 'reversal'), 0)
                           AS reversed,
                       count(*) FILTER (WHERE l.entry_kind = 'grant') AS grants,
                       count(*) FILTER (WHERE l.entry_kind = 'reversal') AS reversals
                FROM compensation_ledger l WHERE {_WHERE}
                GROUP BY l.currency ORDER BY l.currency""",
            *_filter_args(where),
        )
        return [
            CurrencyTotal(
                r["currency"],
                Decimal(r["granted"]),
                Decimal(r["reversed"]),
                r["grants"],
                r["reversals"],
            )
            for r in rows
        ]
