"""Routing rules (a head per rule, every version kept) and the decisions they took."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import asyncpg

from atiende_runtime.db import Connection

from ..domain.rules import Condition, Explanation, Outcome, RoutingRule


class RulesRepository(Protocol):
    async def lock(self) -> None:
        """Serialise changes to the rule set until the unit of work ends (each change is checked
        against all the others)."""
        ...

    async def current(self) -> list[RoutingRule]:
        """Every rule not deleted, in its current version, in position order."""
        ...

    async def get(self, rule_id: str) -> RoutingRule | None: ...

    async def version(self, rule_id: str, version: int) -> RoutingRule | None:
        """A rule as it was at `version` (deleted rules too: cases keep the version they had)."""
        ...

    async def add(self, rule: RoutingRule, actor: str | None, at: datetime) -> bool:
        """Store a new rule (version 1); False if the id was ever used."""
        ...

    async def save(self, rule: RoutingRule, actor: str | None, at: datetime) -> None:
        """Store `rule` as its new current version (rule.version is the new number)."""
        ...

    async def delete(self, rule_id: str, at: datetime) -> None: ...

    async def record_decision(
        self, case_id: uuid.UUID, explanation: Explanation, at: datetime
    ) -> None: ...

    async def decisions(self, case_id: uuid.UUID) -> list[tuple[datetime, Explanation]]:
        """Every routing decision taken for the case, oldest first."""
        ...


def _rule(row: asyncpg.Record) -> RoutingRule:
    return RoutingRule(
        id=row["id"],
        name=row["name"],
        conditions=tuple(Condition.from_json(c) for c in row["conditions"]),
        outcome=Outcome.from_json(row["outcome"]),
        position=row["position"],
        version=row["version"],
        active=row["active"],
    )


SELECT_RULE = """SELECT r.id, r.position, r.active, v.version, v.name, v.conditions, v.outcome
                 FROM routing_rules r
                 JOIN routing_rule_versions v ON v.rule_id = r.id"""


class PostgresRulesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock(self) -> None:
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('atiende.routing_rules'))")

    async def current(self) -> list[RoutingRule]:
        rows = await self.conn.fetch(
            f"""{SELECT_RULE} AND v.version = r.version
                WHERE r.deleted_at IS NULL ORDER BY r.position, r.id"""
        )
        return [_rule(r) for r in rows]

    async def get(self, rule_id: str) -> RoutingRule | None:
        row = await self.conn.fetchrow(
            f"{SELECT_RULE} AND v.version = r.version WHERE r.id = $1 AND r.deleted_at IS NULL",
            rule_id,
        )
        return _rule(row) if row else None

    async def version(self, rule_id: str, version: int) -> RoutingRule | None:
        row = await self.conn.fetchrow(
            f"{SELECT_RULE} AND v.version = $2 WHERE r.id = $1", rule_id, version
        )
        return _rule(row) if row else None

    async def add(self, rule: RoutingRule, actor: str | None, at: datetime) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO routing_rules (id, position, active, version) VALUES ($1, $2, $3, $4)
               ON CONFLICT (id) DO NOTHING RETURNING true""",
            rule.id,
            rule.position,
            rule.active,
            rule.version,
        )
        if inserted:
            await self._add_version(rule, actor, at)
        return bool(inserted)

    async def save(self, rule: RoutingRule, actor: str | None, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE routing_rules SET position = $2, active = $3, version = $4 WHERE id = $1",
            rule.id,
            rule.position,
            rule.active,
            rule.version,
        )
        await self._add_version(rule, actor, at)

    async def _add_version(self, rule: RoutingRule, actor: str | None, at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO routing_rule_versions (rule_id, version, name, conditions, outcome,
                                                  created_at, actor)
               VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7)
               ON CONFLICT (rule_id, version) DO NOTHING""",
            rule.id,
            rule.version,
            rule.name,
            [c.as_json() for c in rule.conditions],
            rule.outcome.as_json(),
            at,
            actor,
        )

    async def delete(self, rule_id: str, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE routing_rules SET deleted_at = $2, active = false WHERE id = $1", rule_id, at
        )

    async def record_decision(
        self, case_id: uuid.UUID, explanation: Explanation, at: datetime
    ) -> None:
        await self.conn.execute(
            """INSERT INTO routing_decisions (case_id, rule_id, rule_version, explanation,
                                              decided_at)
               VALUES ($1, $2, $3, $4::jsonb, $5)""",
            case_id,
            explanation.rule_id,
            explanation.version,
            explanation.as_json(),
            at,
        )

    async def decisions(self, case_id: uuid.UUID) -> list[tuple[datetime, Explanation]]:
        rows = await self.conn.fetch(
            "SELECT decided_at, explanation FROM routing_decisions WHERE case_id = $1 ORDER BY id",
            case_id,
        )
        return [(r["decided_at"], Explanation.from_json(r["explanation"])) for r in rows]
