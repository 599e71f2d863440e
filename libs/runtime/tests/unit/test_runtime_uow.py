"""A service's unit of work refuses events its ServiceDefinition does not list, so the
published-events list (and the AsyncAPI document built from it) cannot drift from the code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from atiende_contracts import CaseAssigned, CaseResolved
from atiende_runtime.uow import UndeclaredEvent, UnitOfWork


class RecordingConnection:
    def __init__(self) -> None:
        self.statements: list[str] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.statements.append(sql)
        return "INSERT 0 1"


def resolved() -> CaseResolved:
    return CaseResolved(
        case_id=uuid.uuid4(), case_number="AT-1", resolution="done", resolved_at=datetime.now(UTC)
    )


async def test_an_undeclared_event_is_refused_before_anything_is_written() -> None:
    conn = RecordingConnection()
    uow = UnitOfWork(conn, "/atiende/x", publishes=frozenset({CaseAssigned.event_type}))  # type: ignore[arg-type]
    with pytest.raises(UndeclaredEvent, match=r"case\.resolved"):
        await uow.emit(resolved())
    assert conn.statements == []
    assert uow.emitted == []


async def test_a_declared_event_goes_to_the_outbox() -> None:
    conn = RecordingConnection()
    uow = UnitOfWork(conn, "/atiende/x", publishes=frozenset({CaseResolved.event_type}))  # type: ignore[arg-type]
    await uow.emit(resolved())
    assert len(conn.statements) == 1
    assert "INSERT INTO outbox" in conn.statements[0]
    assert [e.type for e in uow.emitted] == [CaseResolved.cloudevents_type()]
