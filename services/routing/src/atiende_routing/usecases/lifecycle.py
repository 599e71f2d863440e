"""The case's lifecycle: opened, routed, worked, resolved, closed, reopened."""

from __future__ import annotations

import uuid
from datetime import datetime

from atiende_contracts import CaseOpened

from ..domain.cases import RoutedCase
from ..domain.errors import CaseNotFound
from ..domain.rules import choose_team
from ..repository import UnitOfWork


async def open_and_assign(
    uow: UnitOfWork, event: CaseOpened, default_team: str, now: datetime
) -> RoutedCase | None:
    """Take in a case intake opened and assign it; None when it was already known (the same case
    under another event id), so it is never assigned twice."""
    case = RoutedCase.opened(event)
    if not await uow.cases.add(case):
        return None
    assigned, assigned_event = case.assign(choose_team(case.type, default_team), now)
    await uow.cases.save_assignment(assigned)
    await uow.emit(assigned_event, subject=case.id)
    return assigned


async def resolve_case(
    uow: UnitOfWork, case_id: uuid.UUID, resolution: str, now: datetime
) -> RoutedCase:
    case = await uow.cases.get_for_update(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    resolved, event = case.resolve(resolution, now)
    await uow.cases.save_resolution(resolved)
    await uow.emit(event, subject=case.id)
    return resolved


async def get_case(uow: UnitOfWork, case_id: uuid.UUID) -> RoutedCase:
    case = await uow.cases.get(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case
