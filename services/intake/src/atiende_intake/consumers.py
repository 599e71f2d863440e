"""Intake's event handlers: intake keeps a copy of each case's status, learnt from routing, so a
repeat contact only joins a case that is still open."""

from __future__ import annotations

from atiende_contracts import CaseResolved
from atiende_runtime.inbox import Consumers, HandlerContext

from .repository.cases import CasesRepository

consumers = Consumers()


@consumers.on(CaseResolved, name="track-resolution")
async def track_resolution(ctx: HandlerContext, event: CaseResolved) -> None:
    await CasesRepository(ctx.conn).set_status(event.case_id, "resolved", event.resolved_at)
