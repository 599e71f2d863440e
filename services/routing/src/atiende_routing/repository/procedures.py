"""Procedures (every version), policies, the review threshold and the reviews requested: the
port the use cases see and its SQL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from atiende_runtime.db import Connection

from ..domain.cases import RoutedCase
from ..domain.procedures import Policy, Procedure, ProcedureText, ReviewThreshold
from .cases import case_of

SUBJECT_KINDS = ("procedure", "policy")


class ProceduresRepository(Protocol):
    # --- procedures (append-only versions)
    async def lock(self) -> None:
        """Serialise procedure changes until the unit of work ends (one active procedure per
        motive and channel is checked, then written)."""
        ...

    async def add_version(self, procedure: Procedure) -> None: ...

    async def latest(self, code: str) -> Procedure | None: ...

    async def version(self, code: str, version: int) -> Procedure | None: ...

    async def history(self, code: str) -> list[Procedure]:
        """Every version, oldest first."""
        ...

    async def current(self, motive: str | None = None) -> list[Procedure]:
        """The latest version of each procedure (of one motive, if given), by code."""
        ...

    # --- policies
    async def add_policy(self, policy: Policy) -> bool:
        """False when the code exists."""
        ...

    async def save_policy(self, policy: Policy) -> None: ...

    async def get_policy(self, code: str) -> Policy | None: ...

    async def policies(self) -> list[Policy]: ...

    # --- reviews
    async def review_threshold(self) -> ReviewThreshold: ...

    async def set_review_threshold(
        self, threshold: ReviewThreshold, at: datetime, actor: str | None
    ) -> None: ...

    async def lock_subject(self, kind: str, code: str) -> None:
        """Serialise review decisions about one procedure or policy until the unit of work ends."""
        ...

    async def blaming(self, kind: str, code: str, after: datetime) -> list[RoutedCase]:
        """Cases resolved after `after` whose root cause blames this procedure or policy (no
        upper bound: a case committed while this resolution waited on the subject's lock may
        carry a later time than this resolution's `now`)."""
        ...

    async def last_review(self, kind: str, code: str) -> datetime | None: ...

    async def add_review(
        self, kind: str, code: str, case_ids: list[uuid.UUID], at: datetime
    ) -> None: ...


def procedure_of(row: asyncpg.Record) -> Procedure:
    texts = row["texts"] if isinstance(row["texts"], dict) else json.loads(row["texts"])
    return Procedure(
        code=row["code"],
        version=row["version"],
        motive=row["motive"],
        channel=row["channel"],
        texts={
            lang: ProcedureText(title=t["title"], steps=tuple(t["steps"]))
            for lang, t in texts.items()
        },
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def policy_of(row: asyncpg.Record) -> Policy:
    return Policy(
        code=row["code"],
        title=row["title"],
        description=row["description"],
        active=row["active"],
        changed_at=row["changed_at"],
        actor=row["actor"],
    )


def _texts_json(procedure: Procedure) -> str:
    return json.dumps(
        {lang: {"title": t.title, "steps": list(t.steps)} for lang, t in procedure.texts.items()}
    )


# which category blames which kind, and the column naming what it blames
_BLAME = {
    "procedure": ("procedure_design_fault", "root_cause_procedure"),
    "policy": ("policy_hurts_customers", "root_cause_policy"),
}


class PostgresProceduresRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock(self) -> None:
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('atiende.routing.procedures'))"
        )

    async def add_version(self, procedure: Procedure) -> None:
        await self.conn.execute(
            """INSERT INTO procedures (code, version, motive, channel, texts, active, changed_at,
                                       actor)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)""",
            procedure.code,
            procedure.version,
            procedure.motive,
            procedure.channel,
            _texts_json(procedure),
            procedure.active,
            procedure.changed_at,
            procedure.actor,
        )

    async def latest(self, code: str) -> Procedure | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM procedures WHERE code = $1 ORDER BY version DESC LIMIT 1", code
        )
        return procedure_of(row) if row else None

    async def version(self, code: str, version: int) -> Procedure | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM procedures WHERE code = $1 AND version = $2", code, version
        )
        return procedure_of(row) if row else None

    async def history(self, code: str) -> list[Procedure]:
        rows = await self.conn.fetch(
            "SELECT * FROM procedures WHERE code = $1 ORDER BY version", code
        )
        return [procedure_of(r) for r in rows]

    async def current(self, motive: str | None = None) -> list[Procedure]:
        rows = await self.conn.fetch(
            """SELECT DISTINCT ON (code) * FROM procedures
               WHERE $1::text IS NULL OR code IN (SELECT code FROM procedures WHERE motive = $1)
               ORDER BY code, version DESC""",
            motive,
        )
        found = [procedure_of(r) for r in rows]
        # an older version may have had the motive; only the latest counts
        return [p for p in found if motive is None or p.motive == motive]

    async def add_policy(self, policy: Policy) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO policies (code, title, description, active, changed_at, actor)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING RETURNING true""",
            policy.code,
            policy.title,
            policy.description,
            policy.active,
            policy.changed_at,
            policy.actor,
        )
        return bool(inserted)

    async def save_policy(self, policy: Policy) -> None:
        await self.conn.execute(
            """UPDATE policies SET title = $2, description = $3, active = $4, changed_at = $5,
                                   actor = $6 WHERE code = $1""",
            policy.code,
            policy.title,
            policy.description,
            policy.active,
            policy.changed_at,
            policy.actor,
        )

    async def get_policy(self, code: str) -> Policy | None:
        row = await self.conn.fetchrow("SELECT * FROM policies WHERE code = $1", code)
        return policy_of(row) if row else None

    async def policies(self) -> list[Policy]:
        rows = await self.conn.fetch("SELECT * FROM policies ORDER BY code")
        return [policy_of(r) for r in rows]

    async def review_threshold(self) -> ReviewThreshold:
        row = await self.conn.fetchrow("SELECT * FROM procedure_review_threshold")
        if row is None:
            return ReviewThreshold()
        return ReviewThreshold(cases=row["cases"], window=timedelta(hours=row["window_hours"]))

    async def set_review_threshold(
        self, threshold: ReviewThreshold, at: datetime, actor: str | None
    ) -> None:
        await self.conn.execute(
            """INSERT INTO procedure_review_threshold (cases, window_hours, changed_at, actor)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (singleton) DO UPDATE SET cases = EXCLUDED.cases,
                   window_hours = EXCLUDED.window_hours, changed_at = EXCLUDED.changed_at,
                   actor = EXCLUDED.actor""",
            threshold.cases,
            threshold.window.total_seconds() / 3600,
            at,
            actor,
        )

    async def lock_subject(self, kind: str, code: str) -> None:
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('atiende.routing.review'), hashtext($1))",
            f"{kind}:{code}",
        )

    async def blaming(self, kind: str, code: str, after: datetime) -> list[RoutedCase]:
        category, column = _BLAME[kind]
        rows = await self.conn.fetch(
            f"""SELECT * FROM cases WHERE root_cause = $1 AND {column} = $2
                AND resolved_at > $3 ORDER BY resolved_at, id""",
            category,
            code,
            after,
        )
        return [case_of(r) for r in rows]

    async def last_review(self, kind: str, code: str) -> datetime | None:
        at: datetime | None = await self.conn.fetchval(
            """SELECT max(requested_at) FROM procedure_reviews
               WHERE subject_kind = $1 AND code = $2""",
            kind,
            code,
        )
        return at

    async def add_review(
        self, kind: str, code: str, case_ids: list[uuid.UUID], at: datetime
    ) -> None:
        await self.conn.execute(
            """INSERT INTO procedure_reviews (id, subject_kind, code, case_ids, requested_at)
               VALUES ($1, $2, $3, $4, $5)""",
            uuid.uuid4(),
            kind,
            code,
            case_ids,
            at,
        )
