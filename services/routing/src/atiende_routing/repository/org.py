"""Teams, agents and who holds which open case: the ports the use cases see and their SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from atiende_contracts import Availability, Rank
from atiende_runtime.db import Connection

from ..domain.assignment import AgentLoad, WorkItem
from ..domain.org import (
    Agent,
    Capacity,
    OutOfOffice,
    Skills,
    Strategy,
    Team,
    calendar_from_json,
    calendar_json,
)


class OrgRepository(Protocol):
    async def add_team(self, team: Team) -> bool:
        """Store a new team; False if the id is taken."""
        ...

    async def get_team(self, team_id: str, *, lock: bool = False) -> Team | None:
        """The team; with lock, locked until the unit of work ends (assignment decisions for
        one team are then taken one at a time)."""
        ...

    async def list_teams(self) -> list[Team]: ...

    async def save_team(self, team: Team) -> None: ...

    async def add_agent(self, agent: Agent) -> bool: ...

    async def get_agent(self, agent_id: str, *, lock: bool = False) -> Agent | None: ...

    async def list_agents(self, team_id: str | None = None) -> list[Agent]: ...

    async def save_agent(self, agent: Agent) -> None: ...

    async def loads(self, team_id: str) -> list[AgentLoad]:
        """The team's agents with the open cases each holds (in any team), locked."""
        ...

    async def mark_assigned(self, agent_id: str, at: datetime) -> None:
        """The agent was just given a case (round robin reads it)."""
        ...


class WorkRepository(Protocol):
    async def put(self, item: WorkItem) -> None:
        """Store the case's work item (replacing an older one: a re-route or a reopen)."""
        ...

    async def get(self, case_id: uuid.UUID) -> WorkItem | None: ...

    async def set_agent(self, case_id: uuid.UUID, agent_id: str | None, at: datetime) -> None: ...

    async def set_team(self, case_id: uuid.UUID, team: str, at: datetime) -> None:
        """Move the case to another team's queue (nobody holds it)."""
        ...

    async def set_due(self, case_id: uuid.UUID, due_at: datetime | None) -> None: ...

    async def close(self, case_id: uuid.UUID, at: datetime) -> WorkItem | None:
        """The case is no longer open; returns it as it was (None if unknown or closed)."""
        ...

    async def queue(self, team: str, limit: int) -> list[WorkItem]:
        """The team's waiting cases, soonest due first, locked (skipping ones another
        transaction holds)."""
        ...

    async def held_by(self, agent_id: str) -> list[WorkItem]:
        """The open cases the agent holds, locked."""
        ...

    async def previous_agent(self, customer_id: uuid.UUID, before: uuid.UUID) -> str | None:
        """The agent who held the customer's latest other case."""
        ...


# --- PostgreSQL --------------------------------------------------------------------------------


def _team(row: asyncpg.Record) -> Team:
    ladder = row["ladder"]
    return Team(
        id=row["id"],
        name=row["name"],
        strategy=Strategy(row["strategy"]),
        calendar=calendar_from_json(row["calendar"]),
        reopen_window_days=row["reopen_window_days"],
        ladder={Rank(rank): tuple(people) for rank, people in ladder.items()},
        active=row["active"],
        version=row["version"],
    )


def _agent(row: asyncpg.Record) -> Agent:
    ooo = None
    if row["ooo_starts"] is not None:
        ooo = OutOfOffice(row["ooo_starts"], row["ooo_ends"], row["substitute_id"])
    return Agent(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        teams=tuple(row["teams"]),
        rank=Rank(row["rank"]),
        skills=Skills.from_json(row["skills"]),
        capacity=Capacity(row["capacity_total"], row["capacity_per_channel"]),
        availability=Availability(row["availability"]),
        out_of_office=ooo,
        active=row["active"],
        version=row["version"],
    )


def _item(row: asyncpg.Record) -> WorkItem:
    return WorkItem(
        case_id=row["case_id"],
        case_number=row["case_number"],
        team=row["team"],
        queued_at=row["queued_at"],
        agent_id=row["agent_id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        language=row["language"],
        motive=row["motive"],
        priority=row["priority"],
        required=Skills.from_json(row["required"]),
        rule_id=row["rule_id"],
        rule_version=row["rule_version"],
        due_at=row["due_at"],
        assigned_at=row["assigned_at"],
        closed_at=row["closed_at"],
    )


AGENT_COLUMNS = """a.*, ARRAY(SELECT t.team_id FROM agent_teams t WHERE t.agent_id = a.id
                          ORDER BY t.position, t.team_id) AS teams"""


def _team_args(team: Team) -> tuple[Any, ...]:
    return (
        team.id,
        team.name,
        team.strategy.value,
        calendar_json(team.calendar),
        team.reopen_window_days,
        {rank.value: list(people) for rank, people in team.ladder.items()},
        team.active,
        team.version,
    )


def _agent_args(agent: Agent) -> tuple[Any, ...]:
    ooo = agent.out_of_office
    return (
        agent.id,
        agent.name,
        agent.email,
        agent.rank.value,
        agent.skills.as_json(),
        agent.capacity.total,
        dict(agent.capacity.per_channel),
        agent.availability.value,
        ooo.starts if ooo else None,
        ooo.ends if ooo else None,
        ooo.substitute_id if ooo else None,
        agent.active,
        agent.version,
    )


class PostgresOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add_team(self, team: Team) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO teams (id, name, strategy, calendar, reopen_window_days, ladder, active,
                                  version)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8)
               ON CONFLICT (id) DO NOTHING RETURNING true""",
            *_team_args(team),
        )
        return bool(inserted)

    async def get_team(self, team_id: str, *, lock: bool = False) -> Team | None:
        suffix = " FOR UPDATE" if lock else ""
        row = await self.conn.fetchrow(f"SELECT * FROM teams WHERE id = $1{suffix}", team_id)
        return _team(row) if row else None

    async def list_teams(self) -> list[Team]:
        return [_team(r) for r in await self.conn.fetch("SELECT * FROM teams ORDER BY id")]

    async def save_team(self, team: Team) -> None:
        await self.conn.execute(
            """UPDATE teams SET name = $2, strategy = $3, calendar = $4::jsonb,
                      reopen_window_days = $5, ladder = $6::jsonb, active = $7, version = $8,
                      updated_at = now()
               WHERE id = $1""",
            *_team_args(team),
        )

    async def add_agent(self, agent: Agent) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO agents (id, name, email, rank, skills, capacity_total,
                                   capacity_per_channel, availability, ooo_starts, ooo_ends,
                                   substitute_id, active, version)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (id) DO NOTHING RETURNING true""",
            *_agent_args(agent),
        )
        if inserted:
            await self._set_teams(agent)
        return bool(inserted)

    async def get_agent(self, agent_id: str, *, lock: bool = False) -> Agent | None:
        suffix = " FOR UPDATE OF a" if lock else ""
        row = await self.conn.fetchrow(
            f"SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = $1{suffix}", agent_id
        )
        return _agent(row) if row else None

    async def list_agents(self, team_id: str | None = None) -> list[Agent]:
        rows = await self.conn.fetch(
            f"""SELECT {AGENT_COLUMNS} FROM agents a
                WHERE $1::text IS NULL
                   OR EXISTS (SELECT 1 FROM agent_teams t WHERE t.agent_id = a.id AND t.team_id = $1)
                ORDER BY a.id""",
            team_id,
        )
        return [_agent(r) for r in rows]

    async def save_agent(self, agent: Agent) -> None:
        await self.conn.execute(
            """UPDATE agents SET name = $2, email = $3, rank = $4, skills = $5::jsonb,
                      capacity_total = $6, capacity_per_channel = $7::jsonb, availability = $8,
                      ooo_starts = $9, ooo_ends = $10, substitute_id = $11, active = $12,
                      version = $13, updated_at = now()
               WHERE id = $1""",
            *_agent_args(agent),
        )
        await self._set_teams(agent)

    async def _set_teams(self, agent: Agent) -> None:
        await self.conn.execute("DELETE FROM agent_teams WHERE agent_id = $1", agent.id)
        await self.conn.executemany(
            "INSERT INTO agent_teams (agent_id, team_id, position) VALUES ($1, $2, $3)",
            [(agent.id, team, position) for position, team in enumerate(agent.teams)],
        )

    async def loads(self, team_id: str) -> list[AgentLoad]:
        rows = await self.conn.fetch(
            f"""SELECT {AGENT_COLUMNS},
                   (SELECT count(*) FROM assignments w
                     WHERE w.agent_id = a.id AND w.closed_at IS NULL) AS open_cases,
                   (SELECT coalesce(jsonb_object_agg(c.channel, c.n), '{{}}'::jsonb)
                      FROM (SELECT w.channel, count(*) AS n FROM assignments w
                             WHERE w.agent_id = a.id AND w.closed_at IS NULL
                               AND w.channel IS NOT NULL
                             GROUP BY w.channel) c) AS by_channel
                FROM agents a
                WHERE EXISTS (SELECT 1 FROM agent_teams t WHERE t.agent_id = a.id AND t.team_id = $1)
                ORDER BY a.id
                FOR UPDATE OF a""",
            team_id,
        )
        return [
            AgentLoad(
                agent=_agent(r),
                open_cases=r["open_cases"],
                open_by_channel=r["by_channel"],
                last_assigned_at=r["last_assigned_at"],
            )
            for r in rows
        ]

    async def mark_assigned(self, agent_id: str, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE agents SET last_assigned_at = $2 WHERE id = $1", agent_id, at
        )


class PostgresWorkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def put(self, item: WorkItem) -> None:
        await self.conn.execute(
            """INSERT INTO assignments (case_id, case_number, team, agent_id, customer_id, channel,
                   language, motive, priority, required, rule_id, rule_version, due_at, queued_at,
                   assigned_at, closed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (case_id) DO UPDATE SET
                   case_number = EXCLUDED.case_number, team = EXCLUDED.team,
                   agent_id = EXCLUDED.agent_id, customer_id = EXCLUDED.customer_id,
                   channel = EXCLUDED.channel, language = EXCLUDED.language,
                   motive = EXCLUDED.motive, priority = EXCLUDED.priority,
                   required = EXCLUDED.required, rule_id = EXCLUDED.rule_id,
                   rule_version = EXCLUDED.rule_version, due_at = EXCLUDED.due_at,
                   queued_at = EXCLUDED.queued_at, assigned_at = EXCLUDED.assigned_at,
                   closed_at = EXCLUDED.closed_at""",
            item.case_id,
            item.case_number,
            item.team,
            item.agent_id,
            item.customer_id,
            item.channel,
            item.language,
            item.motive,
            item.priority,
            item.required.as_json(),
            item.rule_id,
            item.rule_version,
            item.due_at,
            item.queued_at,
            item.assigned_at,
            item.closed_at,
        )

    async def get(self, case_id: uuid.UUID) -> WorkItem | None:
        row = await self.conn.fetchrow("SELECT * FROM assignments WHERE case_id = $1", case_id)
        return _item(row) if row else None

    async def set_agent(self, case_id: uuid.UUID, agent_id: str | None, at: datetime) -> None:
        # back to the queue keeps the time it first queued, so it does not lose its place
        await self.conn.execute(
            """UPDATE assignments SET agent_id = $2,
                      assigned_at = CASE WHEN $2::text IS NULL THEN NULL ELSE $3::timestamptz END
               WHERE case_id = $1""",
            case_id,
            agent_id,
            at,
        )

    async def set_team(self, case_id: uuid.UUID, team: str, at: datetime) -> None:
        await self.conn.execute(
            """UPDATE assignments SET team = $2, agent_id = NULL, assigned_at = NULL
               WHERE case_id = $1""",
            case_id,
            team,
        )

    async def set_due(self, case_id: uuid.UUID, due_at: datetime | None) -> None:
        await self.conn.execute(
            "UPDATE assignments SET due_at = $2 WHERE case_id = $1", case_id, due_at
        )

    async def close(self, case_id: uuid.UUID, at: datetime) -> WorkItem | None:
        row = await self.conn.fetchrow(
            """UPDATE assignments SET closed_at = $2 WHERE case_id = $1 AND closed_at IS NULL
               RETURNING *""",
            case_id,
            at,
        )
        return _item(row) if row else None

    async def queue(self, team: str, limit: int) -> list[WorkItem]:
        rows = await self.conn.fetch(
            """SELECT * FROM assignments
               WHERE team = $1 AND agent_id IS NULL AND closed_at IS NULL
               ORDER BY due_at NULLS LAST, queued_at, case_id
               LIMIT $2 FOR UPDATE SKIP LOCKED""",
            team,
            limit,
        )
        return [_item(r) for r in rows]

    async def held_by(self, agent_id: str) -> list[WorkItem]:
        rows = await self.conn.fetch(
            """SELECT * FROM assignments WHERE agent_id = $1 AND closed_at IS NULL
               ORDER BY due_at NULLS LAST, queued_at, case_id FOR UPDATE""",
            agent_id,
        )
        return [_item(r) for r in rows]

    async def previous_agent(self, customer_id: uuid.UUID, before: uuid.UUID) -> str | None:
        agent: str | None = await self.conn.fetchval(
            """SELECT agent_id FROM assignments
               WHERE customer_id = $1 AND case_id <> $2 AND agent_id IS NOT NULL
               ORDER BY queued_at DESC LIMIT 1""",
            customer_id,
            before,
        )
        return agent


__all__: Sequence[str] = (
    "OrgRepository",
    "PostgresOrgRepository",
    "PostgresWorkRepository",
    "WorkRepository",
)
