"""SLA policies (every version kept), the managed pause reasons and the per-case clocks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg

from atiende_contracts import CaseStatus, SlaClock
from atiende_runtime.db import Connection

from ..domain.org import calendar_from_json, calendar_json
from ..domain.sla import Clock, Pause, Priority, SlaPolicy


@dataclass(frozen=True)
class PauseReason:
    code: str
    label: str


class SlaPoliciesRepository(Protocol):
    async def get(self, policy_id: str, version: int | None = None) -> SlaPolicy | None:
        """A policy's latest version (or the one named)."""
        ...

    async def current(self) -> list[SlaPolicy]:
        """The latest version of every policy, by id."""
        ...

    async def add(self, policy: SlaPolicy) -> bool:
        """Store a new version; False if that id and version already exist."""
        ...

    async def pause_reasons(self) -> list[PauseReason]: ...

    async def set_pause_reasons(self, reasons: Sequence[PauseReason]) -> None: ...


class ClocksRepository(Protocol):
    async def current(self, case_id: uuid.UUID) -> list[Clock]:
        """The latest cycle of each of the case's clocks."""
        ...

    async def get(
        self, case_id: uuid.UUID, name: SlaClock, *, for_update: bool = False
    ) -> Clock | None:
        """The latest cycle of one clock (locked until the unit of work ends if asked)."""
        ...

    async def history(self, case_id: uuid.UUID) -> list[Clock]:
        """Every cycle of every clock of the case."""
        ...

    async def save(self, *clocks: Clock) -> None:
        """Insert or update these cycles (in one statement; of two given for the same cycle, the
        later wins)."""
        ...


# --- mapping -----------------------------------------------------------------------------------


def policy_targets_json(policy: SlaPolicy) -> dict[str, dict[str, float]]:
    return {
        str(p): {str(c): t.total_seconds() for c, t in clocks.items()}
        for p, clocks in policy.targets.items()
    }


def policy_pauses_json(policy: SlaPolicy) -> dict[str, list[str]]:
    return {str(c): sorted(str(s) for s in statuses) for c, statuses in policy.pauses.items()}


def _policy(row: asyncpg.Record) -> SlaPolicy:
    targets = row["targets"]
    pauses = row["pauses"]
    return SlaPolicy(
        id=row["id"],
        version=row["version"],
        name=row["name"],
        business_hours=row["business_hours"],
        targets={
            Priority(p): {SlaClock(c): timedelta(seconds=s) for c, s in clocks.items()}
            for p, clocks in targets.items()
        },
        pauses={SlaClock(c): frozenset(CaseStatus(s) for s in ss) for c, ss in pauses.items()},
        warn_at_percent=tuple(row["warn_at_percent"]),
        warn_minutes_before=tuple(row["warn_minutes_before"]),
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def _pauses_json(pauses: Sequence[Pause]) -> list[dict[str, Any]]:
    return [
        {
            "started_at": p.started_at.isoformat(),
            "ended_at": p.ended_at.isoformat() if p.ended_at else None,
            "reason": p.reason,
            "note": p.note,
            "status": p.status,
        }
        for p in pauses
    ]


def _pause(data: dict[str, Any]) -> Pause:
    return Pause(
        started_at=datetime.fromisoformat(data["started_at"]),
        ended_at=datetime.fromisoformat(data["ended_at"]) if data.get("ended_at") else None,
        reason=data.get("reason"),
        note=data.get("note"),
        status=data["status"],
    )


def _clock(row: asyncpg.Record) -> Clock:
    return Clock(
        case_id=row["case_id"],
        name=SlaClock(row["clock"]),
        cycle=row["cycle"],
        case_number=row["case_number"],
        policy_id=row["policy_id"],
        policy_version=row["policy_version"],
        priority=Priority(row["priority"]),
        target=timedelta(seconds=row["target_seconds"]),
        calendar=calendar_from_json(row["calendar"]) if row["calendar"] else None,
        started_at=row["started_at"],
        pauses=tuple(_pause(p) for p in row["pauses"]),
        met_at=row["met_at"],
        breached_at=row["breached_at"],
        warned=tuple(row["warned"]),
    )


# --- PostgreSQL --------------------------------------------------------------------------------


class PostgresSlaPoliciesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, policy_id: str, version: int | None = None) -> SlaPolicy | None:
        row = await self.conn.fetchrow(
            """SELECT * FROM sla_policies WHERE id = $1 AND ($2::int IS NULL OR version = $2)
               ORDER BY version DESC LIMIT 1""",
            policy_id,
            version,
        )
        return _policy(row) if row else None

    async def current(self) -> list[SlaPolicy]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT ON (id) * FROM sla_policies ORDER BY id, version DESC"
        )
        return [_policy(row) for row in rows]

    async def add(self, policy: SlaPolicy) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO sla_policies (id, version, name, business_hours, targets, pauses,
                   warn_at_percent, warn_minutes_before, active, changed_at, actor)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11)
               ON CONFLICT (id, version) DO NOTHING RETURNING true""",
            policy.id,
            policy.version,
            policy.name,
            policy.business_hours,
            policy_targets_json(policy),
            policy_pauses_json(policy),
            list(policy.warn_at_percent),
            list(policy.warn_minutes_before),
            policy.active,
            policy.changed_at,
            policy.actor,
        )
        return bool(inserted)

    async def pause_reasons(self) -> list[PauseReason]:
        rows = await self.conn.fetch("SELECT code, label FROM sla_pause_reasons ORDER BY position")
        return [PauseReason(row["code"], row["label"]) for row in rows]

    async def set_pause_reasons(self, reasons: Sequence[PauseReason]) -> None:
        await self.conn.execute("DELETE FROM sla_pause_reasons")
        await self.conn.executemany(
            "INSERT INTO sla_pause_reasons (code, label, position) VALUES ($1, $2, $3)",
            [(r.code, r.label, i) for i, r in enumerate(reasons, start=1)],
        )


class PostgresClocksRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def current(self, case_id: uuid.UUID) -> list[Clock]:
        rows = await self.conn.fetch(
            """SELECT DISTINCT ON (clock) * FROM sla_clocks WHERE case_id = $1
               ORDER BY clock, cycle DESC""",
            case_id,
        )
        order = list(SlaClock)
        return sorted((_clock(row) for row in rows), key=lambda c: order.index(c.name))

    async def get(
        self, case_id: uuid.UUID, name: SlaClock, *, for_update: bool = False
    ) -> Clock | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(
            "SELECT * FROM sla_clocks WHERE case_id = $1 AND clock = $2"
            " ORDER BY cycle DESC LIMIT 1" + lock,
            case_id,
            name.value,
        )
        return _clock(row) if row else None

    async def history(self, case_id: uuid.UUID) -> list[Clock]:
        rows = await self.conn.fetch(
            "SELECT * FROM sla_clocks WHERE case_id = $1 ORDER BY started_at, clock, cycle",
            case_id,
        )
        return [_clock(row) for row in rows]

    async def save(self, *clocks: Clock) -> None:
        # one row per cycle, the last given winning (ON CONFLICT may not touch a row twice)
        rows = list({(c.case_id, c.name, c.cycle): c for c in clocks}.values())
        if not rows:
            return
        # pauses and warned are lists, which asyncpg would read as an array's dimension: each
        # row's pair travels as one jsonb object instead
        await self.conn.execute(
            """INSERT INTO sla_clocks (case_id, clock, cycle, case_number, policy_id,
                   policy_version, priority, target_seconds, calendar, started_at, pauses, met_at,
                   breached_at, warned, due_at)
               SELECT case_id, clock, cycle, case_number, policy_id, policy_version, priority,
                      target_seconds, calendar, started_at, lists -> 'pauses', met_at,
                      breached_at, ARRAY(SELECT jsonb_array_elements_text(lists -> 'warned')),
                      due_at
               FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[],
                           $7::text[], $8::float8[], $9::jsonb[], $10::timestamptz[],
                           $11::jsonb[], $12::timestamptz[], $13::timestamptz[],
                           $14::timestamptz[])
                    AS c(case_id, clock, cycle, case_number, policy_id, policy_version, priority,
                         target_seconds, calendar, started_at, lists, met_at, breached_at,
                         due_at)
               ON CONFLICT (case_id, clock, cycle) DO UPDATE SET
                   policy_id = EXCLUDED.policy_id, policy_version = EXCLUDED.policy_version,
                   priority = EXCLUDED.priority, target_seconds = EXCLUDED.target_seconds,
                   calendar = EXCLUDED.calendar, pauses = EXCLUDED.pauses,
                   met_at = EXCLUDED.met_at, breached_at = EXCLUDED.breached_at,
                   warned = EXCLUDED.warned, due_at = EXCLUDED.due_at""",
            [c.case_id for c in rows],
            [c.name.value for c in rows],
            [c.cycle for c in rows],
            [c.case_number for c in rows],
            [c.policy_id for c in rows],
            [c.policy_version for c in rows],
            [c.priority.value for c in rows],
            [c.target.total_seconds() for c in rows],
            [calendar_json(c.calendar) if c.calendar else None for c in rows],
            [c.started_at for c in rows],
            [{"pauses": _pauses_json(c.pauses), "warned": list(c.warned)} for c in rows],
            [c.met_at for c in rows],
            [c.breached_at for c in rows],
            [c.due_at for c in rows],
        )
