"""Routing's event handlers: thin, each runs inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from atiende_contracts import CaseOpened
from atiende_runtime.inbox import Consumers, HandlerContext

from .domain import CaseStatus, RoutedCase, choose_team
from .repository import RoutingRepository

consumers = Consumers()


@consumers.on(CaseOpened, name="assign-case")
async def assign_case(ctx: HandlerContext, event: CaseOpened) -> None:
    repo = RoutingRepository(ctx.conn)
    case = RoutedCase(
        id=event.case_id,
        number=event.case_number,
        type=event.type.value,
        status=CaseStatus.NEW,
        opened_at=event.opened_at,
    )
    if not await repo.add(case):
        return  # already known (a different event id for the same case): nothing to do
    assigned, assigned_event = case.assign(
        choose_team(case.type, ctx.settings.default_team), datetime.now(UTC)
    )
    await repo.save_assignment(assigned)
    await ctx.emit(assigned_event, subject=case.id)
