"""Intake's event handlers: intake keeps a copy of each case's status, learnt from routing, so a
repeat contact only joins a case that is still open; and which case each email notifications sent
was about, so a customer's reply to it finds the case."""

from __future__ import annotations

from atiende_contracts import CaseResolved, NotificationChannel, NotificationSent
from atiende_runtime.inbox import Consumers, HandlerContext

from .repository.cases import CasesRepository
from .repository.emails import SentEmailsRepository

consumers = Consumers()


@consumers.on(CaseResolved, name="track-resolution")
async def track_resolution(ctx: HandlerContext, event: CaseResolved) -> None:
    await CasesRepository(ctx.conn).set_status(event.case_id, "resolved", event.resolved_at)


@consumers.on(NotificationSent, name="remember-sent-emails")
async def remember_sent_email(ctx: HandlerContext, event: NotificationSent) -> None:
    if event.channel is NotificationChannel.EMAIL and event.case_id is not None:
        await SentEmailsRepository(ctx.conn).remember(
            event.delivery_id, event.case_id, event.sent_at
        )
