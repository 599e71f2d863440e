"""What every command on a case shares: loading it locked (with the If-Match check), writing
its timeline, keeping its earliest deadline for the queues, emitting its events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from atiende_contracts import EventData

from ..domain.cases import RoutedCase
from ..domain.errors import CaseNotFound, StaleCase
from ..repository import UnitOfWork
from ..repository.cases import TimelineEntry
from . import assignment, sla

ERASED = "[erased]"

ERASABLE_FIELDS = frozenset(
    {
        "note",
        "resolution",
        "description",
        "text",
        "options",
        "chosen",
        "expectation",
        "waiting_note",
        "root_cause_note",
        "summary",
        "to_whom",
        "waiver",
    }
)
"""Keys of routing's events and stored responses holding free text about a case's customer:
scrubbed in the outbox and Idempotency-Key rows of an erased customer's cases. (`reason` is
not among them: in routing's events it is a code others count by.)"""
"""What a pseudonymised free text reads as."""


async def load(
    uow: UnitOfWork, case_id: uuid.UUID, expected_version: int | None = None
) -> RoutedCase:
    """The case, locked until the unit of work ends; StaleCase when the caller's version (its
    If-Match) is not the current one."""
    case = await uow.cases.get_for_update(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if expected_version is not None and expected_version != case.version:
        raise StaleCase(case.number, expected_version, case.version)
    return case


async def note(
    uow: UnitOfWork, case: RoutedCase, at: datetime, kind: str, summary: str, actor: str | None
) -> None:
    await uow.cases.add_timeline(TimelineEntry(case.id, at, kind, summary, actor))


async def emit_all(uow: UnitOfWork, case: RoutedCase, events: Iterable[EventData]) -> None:
    for event in events:
        await uow.emit(event, subject=case.id)


async def with_due(uow: UnitOfWork, case: RoutedCase, now: datetime) -> RoutedCase:
    """The case with the earliest deadline among its running clocks (queues sort by it); also
    tells organisation's queue."""
    due = sla.earliest_due(await uow.clocks.current(case.id), now)
    if due != case.sla_due_at:
        await assignment.set_due(uow, case.id, due)
        return replace(case, sla_due_at=due)
    return case


async def get(uow: UnitOfWork, case_id: uuid.UUID) -> RoutedCase:
    case = await uow.cases.get(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case
