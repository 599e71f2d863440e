"""A unit of work holds what it emits and writes it in one statement before the commit: the
rows keep emission order and each event's own trace context, a failed savepoint takes its
events with it, and erasure scrubs events emitted earlier in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from atiende_contracts import CaseAssigned, CaseResolved
from atiende_runtime.uow import unit_of_work

SOURCE = "/atiende/svc"


def resolved(case_id: uuid.UUID) -> CaseResolved:
    return CaseResolved(
        case_id=case_id,
        case_number="AT-2026-000001",
        resolution="refund",
        resolved_at=datetime.now(UTC),
    )


def assigned(case_id: uuid.UUID, team: str) -> CaseAssigned:
    return CaseAssigned(
        case_id=case_id, case_number="AT-2026-000001", team=team, assigned_at=datetime.now(UTC)
    )


async def outbox_inserts(conn: asyncpg.Connection) -> int:
    return int(
        await conn.fetchval(
            "SELECT n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = 'outbox'"
            " AND schemaname = current_schema()"
        )
        or 0
    )


async def test_several_events_are_written_at_the_commit_in_emission_order(
    pool: asyncpg.Pool,
) -> None:
    case_id = uuid.uuid4()
    async with unit_of_work(pool, SOURCE) as uow:
        first = await uow.emit(assigned(case_id, "first"), subject=case_id)
        second = await uow.emit(assigned(case_id, "second"), subject=case_id)
        third = await uow.emit(resolved(case_id), subject=case_id)
        # held, not written yet: nothing in this transaction's outbox so far
        assert await uow.conn.fetchval("SELECT count(*) FROM outbox") == 0
    rows = await pool.fetch("SELECT event_id, type, data FROM outbox ORDER BY position")
    assert [r["event_id"] for r in rows] == [first.id, second.id, third.id]
    assert [r["data"].get("team") for r in rows] == ["first", "second", None]
    assert rows[2]["type"] == third.type


async def test_one_statement_writes_them_all(pool: asyncpg.Pool) -> None:
    case_id = uuid.uuid4()
    async with unit_of_work(pool, SOURCE) as uow:
        for team in ("a", "b", "c", "d"):
            await uow.emit(assigned(case_id, team), subject=case_id)
        await uow.flush()
        # pg_stat_xact counts this transaction's rows; the statement count is the point: a
        # trigger FOR EACH STATEMENT fires once per INSERT
        assert await outbox_inserts(uow.conn) == 4
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 4


async def test_each_event_keeps_the_trace_it_was_emitted_in(pool: asyncpg.Pool) -> None:
    tracer = TracerProvider().get_tracer("test")
    case_id = uuid.uuid4()
    ids: list[str] = []
    async with unit_of_work(pool, SOURCE) as uow:
        for team in ("a", "b"):
            with tracer.start_as_current_span(f"emit {team}") as span:
                ids.append(format(span.get_span_context().trace_id, "032x"))
                await uow.emit(assigned(case_id, team), subject=case_id)
        assert trace.get_current_span() is trace.INVALID_SPAN
    rows = await pool.fetch("SELECT trace_headers FROM outbox ORDER BY position")
    assert [r["trace_headers"]["traceparent"].split("-")[1] for r in rows] == ids
    assert ids[0] != ids[1]


async def test_a_failed_savepoint_takes_its_events_with_it(pool: asyncpg.Pool) -> None:
    case_id = uuid.uuid4()
    async with unit_of_work(pool, SOURCE) as uow:
        kept = await uow.emit(assigned(case_id, "kept"), subject=case_id)

        async def failing_block() -> None:
            async with uow.savepoint():
                await uow.emit(assigned(case_id, "undone"), subject=case_id)
                raise RuntimeError("the block fails")

        with pytest.raises(RuntimeError):
            await failing_block()
        async with uow.savepoint():
            after = await uow.emit(assigned(case_id, "after"), subject=case_id)
        assert [e.id for e in uow.emitted] == [kept.id, after.id]
    rows = await pool.fetch("SELECT event_id FROM outbox ORDER BY position")
    assert [r["event_id"] for r in rows] == [kept.id, after.id]


async def test_a_rolled_back_unit_of_work_writes_nothing(pool: asyncpg.Pool) -> None:
    case_id = uuid.uuid4()

    async def emit_then_fail() -> None:
        async with unit_of_work(pool, SOURCE) as uow:
            await uow.emit(assigned(case_id, "a"), subject=case_id)
            raise RuntimeError("failure after emitting")

    with pytest.raises(RuntimeError):
        await emit_then_fail()
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_erasure_scrubs_what_the_same_transaction_emitted_before(
    pool: asyncpg.Pool,
) -> None:
    case_id = uuid.uuid4()
    async with unit_of_work(pool, SOURCE) as uow:
        await uow.emit(assigned(case_id, "ana@example.com"), subject=case_id)
        await uow.scrub_copies(subjects=[case_id], values=["ana@example.com"])
    data = await pool.fetchval("SELECT data FROM outbox")
    assert "ana@example.com" not in str(data)
