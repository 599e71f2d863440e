"""Intake's event handlers: intake keeps a copy of each case's status, learnt from routing, so a
repeat contact only joins a case that is still open; and which case each email notifications sent
was about, so a customer's reply to it finds the case."""

from __future__ import annotations

from atiende_contracts import CaseResolved, NotificationChannel, NotificationSent
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..repository.unit_of_work import PostgresUnitOfWork
from ..settings import IntakeSettings

consumers: Consumers[IntakeSettings] = Consumers()


@consumers.on(CaseResolved, name="track-resolution")
async def track_resolution(ctx: HandlerContext[IntakeSettings], event: CaseResolved) -> None:
    await usecases.case_resolved(PostgresUnitOfWork(ctx.uow), event.case_id, event.resolved_at)


@consumers.on(NotificationSent, name="remember-sent-emails")
async def remember_sent_email(ctx: HandlerContext[IntakeSettings], event: NotificationSent) -> None:
    if event.channel is NotificationChannel.EMAIL and event.case_id is not None:
        await usecases.email_sent(
            PostgresUnitOfWork(ctx.uow), event.delivery_id, event.case_id, event.sent_at
        )
