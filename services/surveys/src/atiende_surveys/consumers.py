"""Surveys' event handlers: thin, each runs inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atiende_contracts import CaseOpened, CaseResolved
from atiende_runtime.inbox import Consumers, HandlerContext

from .domain import Invitation, InvitationStatus, survey_url
from .repository import SurveysRepository

consumers = Consumers()


@consumers.on(CaseOpened, name="remember-case")
async def remember_case(ctx: HandlerContext, event: CaseOpened) -> None:
    await SurveysRepository(ctx.conn).remember_case(
        event.case_id, event.case_number, event.customer_id, event.language, event.opened_at
    )


@consumers.on(CaseResolved, name="invite-after-resolution")
async def invite_after_resolution(ctx: HandlerContext, event: CaseResolved) -> None:
    repo = SurveysRepository(ctx.conn)
    now = datetime.now(UTC)
    current = await repo.pending_for_case_for_update(event.case_id)
    if current is not None:
        if current.status_at(now) is InvitationStatus.PENDING:
            return  # the customer still has an open survey for this case: never ask twice
        await repo.save_status(current.expire(now))
    invitation, token = Invitation.issue(
        case_id=event.case_id,
        case_number=event.case_number,
        now=now,
        ttl=timedelta(days=ctx.settings.survey_ttl_days),
    )
    if not await repo.add(invitation):
        return  # a concurrent handler invited for this case first
    # the token leaves this handler only inside the link in the event; the table keeps its hash
    language = await repo.case_language(event.case_id)
    url = survey_url(ctx.settings.survey_base_url, token, language)
    await ctx.emit(invitation.invited_event(url), subject=event.case_id)
