"""Problem thresholds, problems, their linked cases and their magnitude: the port the use cases
see and its SQL. The magnitude reads the compensation ledger and the SLA clocks of the linked
cases, so it is always current."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import asyncpg

from atiende_contracts import ProblemLinkReason, RootCauseCategory
from atiende_runtime.db import Connection

from ..domain.cases import RoutedCase
from ..domain.problems import Magnitude, Problem, ProblemStatus, Threshold, Trigger
from .cases import case_of


@dataclass(frozen=True)
class LinkedCase:
    case: RoutedCase
    reason: ProblemLinkReason
    linked_at: datetime
    actor: str | None = None


class ProblemsRepository(Protocol):
    # --- thresholds
    async def add_threshold(self, threshold: Threshold) -> bool:
        """False when the id exists."""
        ...

    async def save_threshold(self, threshold: Threshold) -> None: ...

    async def get_threshold(self, threshold_id: str) -> Threshold | None: ...

    async def thresholds(self) -> list[Threshold]: ...

    async def thresholds_for(self, motive: str, root_cause: str) -> list[Threshold]:
        """The active thresholds of this motive and root cause (touchpoint, product and region
        are for Threshold.matches to judge)."""
        ...

    async def lock_threshold(self, threshold_id: str) -> None:
        """Serialise detection per threshold until the unit of work ends: two resolutions racing
        never both open a problem for it."""
        ...

    async def matching_cases(self, threshold: Threshold, after: datetime) -> list[RoutedCase]:
        """Cases the threshold matches resolved after `after`, oldest first. No upper bound: a
        resolution that waited on the threshold's lock may hold an older `now` than a case
        resolved (and committed) meanwhile, and that case belongs to the window all the same."""
        ...

    async def count_matching(
        self, threshold: Threshold, after: datetime, until: datetime
    ) -> int: ...

    # --- problems
    async def next_number(self) -> str: ...

    async def add(self, problem: Problem) -> None: ...

    async def get(self, problem_id: uuid.UUID, *, for_update: bool = False) -> Problem | None: ...

    async def save(self, problem: Problem) -> None: ...

    async def unresolved_of(self, threshold_id: str) -> Problem | None:
        """The threshold's problem not yet resolved (there is at most one)."""
        ...

    async def unresolved_for_motive(self, motive: str) -> list[Problem]:
        """Problems of this motive not yet resolved (Problem.covers judges the rest)."""
        ...

    async def unresolved_after_detections(self, motive: str) -> list[Problem]:
        """Like unresolved_for_motive, but first waits for the detections under way: takes the
        lock of each active threshold of the motive (in id order, as resolutions take them), so
        a problem another transaction is opening for the motive is seen."""
        ...

    async def last_resolved_at(self, threshold_id: str) -> datetime | None:
        """When the threshold's latest resolved problem was resolved, if any."""
        ...

    async def search(self, status: ProblemStatus | None, limit: int) -> list[Problem]:
        """Newest first."""
        ...

    async def link(
        self,
        problem_id: uuid.UUID,
        case_id: uuid.UUID,
        reason: ProblemLinkReason,
        at: datetime,
        actor: str | None = None,
    ) -> bool:
        """False when the case was already linked to the problem."""
        ...

    async def unlink(self, problem_id: uuid.UUID, case_id: uuid.UUID) -> bool: ...

    async def linked(self, problem_id: uuid.UUID) -> list[LinkedCase]:
        """In the order they were linked."""
        ...

    async def of_case(self, case_id: uuid.UUID) -> list[Problem]: ...

    async def magnitude(self, problem_id: uuid.UUID) -> Magnitude: ...


def threshold_of(row: asyncpg.Record) -> Threshold:
    return Threshold(
        id=row["id"],
        name=row["name"],
        motive=row["motive"],
        root_cause=RootCauseCategory(row["root_cause"]),
        trigger=Trigger(row["trigger"]),
        cases=row["cases"],
        window=timedelta(hours=row["window_hours"]),
        factor=row["factor"],
        touchpoint=row["touchpoint"],
        product=row["product"],
        region=row["region"],
        owner=row["owner"],
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def problem_of(row: asyncpg.Record) -> Problem:
    return Problem(
        id=row["id"],
        number=row["number"],
        threshold_id=row["threshold_id"],
        title=row["title"],
        motive=row["motive"],
        root_cause=RootCauseCategory(row["root_cause"]),
        detected_at=row["detected_at"],
        status=ProblemStatus(row["status"]),
        touchpoint=row["touchpoint"],
        product=row["product"],
        region=row["region"],
        owner=row["owner"],
        workaround=row["workaround"],
        known_error_at=row["known_error_at"],
        resolution=row["resolution"],
        resolved_at=row["resolved_at"],
        version=row["version"],
    )


_THRESHOLD_COLUMNS = (
    "id, name, motive, root_cause, touchpoint, product, region, trigger, cases, window_hours,"
    " factor, owner, active, changed_at, actor"
)


def _threshold_values(t: Threshold) -> list[Any]:
    return [
        t.id,
        t.name,
        t.motive,
        t.root_cause.value,
        t.touchpoint,
        t.product,
        t.region,
        t.trigger.value,
        t.cases,
        t.window.total_seconds() / 3600,
        t.factor,
        t.owner,
        t.active,
        t.changed_at,
        t.actor,
    ]


_PROBLEM_COLUMNS = (
    "id",
    "number",
    "threshold_id",
    "title",
    "motive",
    "root_cause",
    "touchpoint",
    "product",
    "region",
    "status",
    "owner",
    "workaround",
    "known_error_at",
    "resolution",
    "resolved_at",
    "detected_at",
    "version",
)


def _problem_values(p: Problem) -> list[Any]:
    values = {**p.__dict__, "root_cause": p.root_cause.value, "status": p.status.value}
    return [values[c] for c in _PROBLEM_COLUMNS]


# the cases a threshold matches: its motive and root cause, and where it names them, touchpoint,
# product and region; $1-$5 are those, the caller adds the time range
_MATCHING = """motive = $1 AND root_cause = $2
    AND ($3::text IS NULL OR touchpoint = $3) AND ($4::text IS NULL OR product = $4)
    AND ($5::text IS NULL OR region = $5)"""


def _match_args(t: Threshold) -> list[Any]:
    return [t.motive, t.root_cause.value, t.touchpoint, t.product, t.region]


class PostgresProblemsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add_threshold(self, threshold: Threshold) -> bool:
        placeholders = ", ".join(f"${i + 1}" for i in range(15))
        inserted = await self.conn.fetchval(
            f"""INSERT INTO problem_thresholds ({_THRESHOLD_COLUMNS}) VALUES ({placeholders})
                ON CONFLICT (id) DO NOTHING RETURNING true""",
            *_threshold_values(threshold),
        )
        return bool(inserted)

    async def save_threshold(self, threshold: Threshold) -> None:
        names = [c.strip() for c in _THRESHOLD_COLUMNS.split(",")]
        sets = ", ".join(f"{n} = ${i + 1}" for i, n in enumerate(names) if n != "id")
        await self.conn.execute(
            f"UPDATE problem_thresholds SET {sets} WHERE id = $1", *_threshold_values(threshold)
        )

    async def get_threshold(self, threshold_id: str) -> Threshold | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM problem_thresholds WHERE id = $1", threshold_id
        )
        return threshold_of(row) if row else None

    async def thresholds(self) -> list[Threshold]:
        rows = await self.conn.fetch("SELECT * FROM problem_thresholds ORDER BY id")
        return [threshold_of(r) for r in rows]

    async def thresholds_for(self, motive: str, root_cause: str) -> list[Threshold]:
        rows = await self.conn.fetch(
            """SELECT * FROM problem_thresholds WHERE active AND motive = $1 AND root_cause = $2
               ORDER BY id""",
            motive,
            root_cause,
        )
        return [threshold_of(r) for r in rows]

    async def lock_threshold(self, threshold_id: str) -> None:
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('atiende.routing.problem_threshold'),"
            " hashtext($1))",
            threshold_id,
        )

    async def matching_cases(self, threshold: Threshold, after: datetime) -> list[RoutedCase]:
        rows = await self.conn.fetch(
            f"""SELECT * FROM cases WHERE {_MATCHING} AND resolved_at > $6
                ORDER BY resolved_at, id""",
            *_match_args(threshold),
            after,
        )
        return [case_of(r) for r in rows]

    async def count_matching(self, threshold: Threshold, after: datetime, until: datetime) -> int:
        count = await self.conn.fetchval(
            f"SELECT count(*) FROM cases WHERE {_MATCHING} AND resolved_at > $6 AND resolved_at <= $7",
            *_match_args(threshold),
            after,
            until,
        )
        return int(count or 0)

    async def next_number(self) -> str:
        value = await self.conn.fetchval("SELECT nextval('problem_numbers')")
        return f"PRB-{int(value):06d}"

    async def add(self, problem: Problem) -> None:
        placeholders = ", ".join(f"${i + 1}" for i in range(len(_PROBLEM_COLUMNS)))
        await self.conn.execute(
            f"INSERT INTO problems ({', '.join(_PROBLEM_COLUMNS)}) VALUES ({placeholders})",
            *_problem_values(problem),
        )

    async def get(self, problem_id: uuid.UUID, *, for_update: bool = False) -> Problem | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(f"SELECT * FROM problems WHERE id = $1{lock}", problem_id)
        return problem_of(row) if row else None

    async def save(self, problem: Problem) -> None:
        sets = ", ".join(
            f"{name} = ${i + 1}" for i, name in enumerate(_PROBLEM_COLUMNS) if name != "id"
        )
        await self.conn.execute(
            f"UPDATE problems SET {sets} WHERE id = $1", *_problem_values(problem)
        )

    async def unresolved_of(self, threshold_id: str) -> Problem | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM problems WHERE threshold_id = $1 AND status <> 'resolved'",
            threshold_id,
        )
        return problem_of(row) if row else None

    async def unresolved_for_motive(self, motive: str) -> list[Problem]:
        rows = await self.conn.fetch(
            """SELECT * FROM problems WHERE motive = $1 AND status <> 'resolved'
               ORDER BY detected_at, number""",
            motive,
        )
        return [problem_of(r) for r in rows]

    async def unresolved_after_detections(self, motive: str) -> list[Problem]:
        # one statement locks and reads; its snapshot predates any wait for a lock, though, so
        # when it took a lock (it may have waited) the problems are read again after it
        rows = await self.conn.fetch(
            """WITH locked AS (
                   SELECT count(pg_advisory_xact_lock(
                              hashtext('atiende.routing.problem_threshold'), hashtext(t.id))) AS n
                   FROM (SELECT id FROM problem_thresholds WHERE active AND motive = $1
                         ORDER BY id OFFSET 0) AS t
               )
               SELECT locked.n AS locked_thresholds, p.*
               FROM locked LEFT JOIN problems p ON p.motive = $1 AND p.status <> 'resolved'
               ORDER BY p.detected_at, p.number""",
            motive,
        )
        if rows and rows[0]["locked_thresholds"]:
            return await self.unresolved_for_motive(motive)
        return [problem_of(r) for r in rows if r["id"] is not None]

    async def last_resolved_at(self, threshold_id: str) -> datetime | None:
        at: datetime | None = await self.conn.fetchval(
            "SELECT max(resolved_at) FROM problems WHERE threshold_id = $1", threshold_id
        )
        return at

    async def search(self, status: ProblemStatus | None, limit: int) -> list[Problem]:
        rows = await self.conn.fetch(
            """SELECT * FROM problems WHERE $1::text IS NULL OR status = $1
               ORDER BY detected_at DESC, number DESC LIMIT $2""",
            status.value if status else None,
            limit,
        )
        return [problem_of(r) for r in rows]

    async def link(
        self,
        problem_id: uuid.UUID,
        case_id: uuid.UUID,
        reason: ProblemLinkReason,
        at: datetime,
        actor: str | None = None,
    ) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO problem_cases (problem_id, case_id, reason, linked_at, actor)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
            problem_id,
            case_id,
            reason.value,
            at,
            actor,
        )
        return bool(inserted)

    async def unlink(self, problem_id: uuid.UUID, case_id: uuid.UUID) -> bool:
        deleted = await self.conn.fetchval(
            "DELETE FROM problem_cases WHERE problem_id = $1 AND case_id = $2 RETURNING true",
            problem_id,
            case_id,
        )
        return bool(deleted)

    async def linked(self, problem_id: uuid.UUID) -> list[LinkedCase]:
        rows = await self.conn.fetch(
            """SELECT c.*, l.reason AS link_reason, l.linked_at, l.actor AS link_actor
               FROM problem_cases l JOIN cases c ON c.id = l.case_id
               WHERE l.problem_id = $1 ORDER BY l.linked_at, c.number""",
            problem_id,
        )
        return [
            LinkedCase(
                case_of(r), ProblemLinkReason(r["link_reason"]), r["linked_at"], r["link_actor"]
            )
            for r in rows
        ]

    async def of_case(self, case_id: uuid.UUID) -> list[Problem]:
        rows = await self.conn.fetch(
            """SELECT p.* FROM problems p JOIN problem_cases l ON l.problem_id = p.id
               WHERE l.case_id = $1 ORDER BY p.detected_at, p.number""",
            case_id,
        )
        return [problem_of(r) for r in rows]

    async def magnitude(self, problem_id: uuid.UUID) -> Magnitude:
        counts = await self.conn.fetchrow(
            """SELECT count(*) AS cases,
                      count(*) FILTER (WHERE c.status NOT IN ('resolved', 'closed')) AS open_cases,
                      count(DISTINCT c.customer_id) AS customers
               FROM problem_cases l JOIN cases c ON c.id = l.case_id WHERE l.problem_id = $1""",
            problem_id,
        )
        assert counts is not None  # an aggregate always returns its one row
        money = await self.conn.fetch(
            """SELECT g.currency, sum(g.amount) AS total
               FROM compensation_ledger g JOIN problem_cases l ON l.case_id = g.case_id
               WHERE l.problem_id = $1 GROUP BY g.currency ORDER BY g.currency""",
            problem_id,
        )
        breaches = await self.conn.fetchval(
            """SELECT count(*) FROM sla_clocks k JOIN problem_cases l ON l.case_id = k.case_id
               WHERE l.problem_id = $1 AND k.breached_at IS NOT NULL""",
            problem_id,
        )
        return Magnitude(
            cases=counts["cases"],
            open_cases=counts["open_cases"],
            customers=counts["customers"],
            compensation={r["currency"].strip(): Decimal(r["total"]) for r in money},
            sla_breaches=int(breaches or 0),
        )
