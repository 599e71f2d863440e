"""What opening a case costs in statements, on a real connection: each one is a round trip to
PostgreSQL, and routing's case.opened handler was the largest share of its CPU. The counts are
exact on purpose: a change that adds a statement to the hot path must say so here."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from atiende_contracts import CaseOpened
from atiende_routing.domain.timers import Timer
from atiende_routing.repository import PostgresUnitOfWork
from atiende_routing.usecases import lifecycle
from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    await db.migrate(database_url, "routing", "atiende_routing")
    conn = await db.connect(database_url, "routing")
    yield conn
    await conn.close()


def opened(motive: str | None = "late_delivery") -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number="AT-2026-000001",
        customer_id=uuid.uuid4(),
        customer_name="Ana",
        customer_email="ana@example.com",
        type="complaint",
        channel="phone",
        description="late",
        opened_at=datetime.now(UTC),
        motive=motive,
    )


async def statements_of_open_case(conn: asyncpg.Connection, event: CaseOpened) -> list[str]:
    """The statements one open_case sends, on a connection that already opened a case (asyncpg
    looks up each type's codec once per connection: that is not the handler's cost)."""
    async with conn.transaction():
        warm = PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/routing"))
        await lifecycle.open_case(warm, opened(event.motive), datetime.now(UTC))
    seen: list[str] = []

    def log(query: asyncpg.connection.LoggedQuery) -> None:
        seen.append(" ".join(query.query.split()))

    async with conn.transaction():
        conn.add_query_logger(log)
        try:
            uow = PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/routing"))
            assert await lifecycle.open_case(uow, event, datetime.now(UTC)) is not None
        finally:
            conn.remove_query_logger(log)
    return seen


def count(seen: list[str], start: str) -> int:
    return sum(1 for s in seen if s.startswith(start))


async def test_opening_a_case_out_of_the_box_takes_fourteen_statements(conn):
    """Team "general" with nobody in it, the default rule and policy, no problem thresholds."""
    seen = await statements_of_open_case(conn, opened())
    assert len(seen) == 14, "\n".join(seen)
    # the six SLA timers, both clocks and both timeline notes each go in one statement
    assert count(seen, "INSERT INTO timers") == 1
    assert count(seen, "INSERT INTO sla_clocks") == 1
    assert count(seen, "INSERT INTO timeline") == 1
    # nothing is read back that the handler just wrote or already read
    assert count(seen, "SELECT DISTINCT ON (clock) * FROM sla_clocks") == 0
    assert count(seen, "DELETE FROM timers") == 0
    assert count(seen, "UPDATE assignments") == 0
    assert count(seen, "SELECT * FROM teams") == 1


async def test_with_agents_and_a_threshold_of_the_motive_three_more(conn):
    """An agent to choose (their load, the customer's previous agent, the round-robin mark) and
    a threshold to wait on (so the unresolved problems are read after its lock)."""
    await conn.execute(
        """INSERT INTO agents (id, name, email, rank, skills, capacity_total,
                               capacity_per_channel, availability, active, version)
           VALUES ('ana', 'Ana', 'ana@example.com', 'agent', '{}', 10, '{}', 'available', true, 1)"""
    )
    await conn.execute(
        "INSERT INTO agent_teams (agent_id, team_id, position) VALUES ('ana', 'general', 0)"
    )
    await conn.execute(
        """INSERT INTO problem_thresholds (id, name, motive, root_cause, trigger, cases,
                                           window_hours, active)
           VALUES ('late', 'Late', 'late_delivery', 'procedure_design_fault', 'count', 5, 24, true)"""
    )
    seen = await statements_of_open_case(conn, opened())
    assert len(seen) == 17, "\n".join(seen)
    assert count(seen, "UPDATE agents SET last_assigned_at") == 1
    assert count(seen, "SELECT * FROM problems WHERE motive") == 1


async def test_the_timers_scheduled_together_are_the_six_of_both_clocks(conn):
    event = opened(motive=None)
    await statements_of_open_case(conn, event)
    uow = PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/routing"))
    pending: list[Timer] = await uow.timers.pending(event.case_id)
    assert sorted(t.ref for t in pending) == [
        "first_response:1",
        "first_response:1:15m before",
        "first_response:1:75%",
        "resolution:1",
        "resolution:1:15m before",
        "resolution:1:75%",
    ]
