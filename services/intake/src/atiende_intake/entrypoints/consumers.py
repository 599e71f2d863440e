"""Intake's event handlers: intake keeps a copy of each case's status, learnt from routing, so a
repeat contact only joins a case that is still open and a contact about a resolved or closed case
tells routing so; which case each email notifications sent was about, so a customer's reply to it
finds the case; and what other services say about a customer's cases, for the customer's
history."""

from __future__ import annotations

from atiende_contracts import (
    CaseClosed,
    CaseReopened,
    CaseResolved,
    EventData,
    NotificationChannel,
    NotificationSent,
)
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..domain.history import HISTORY_EVENTS, to_the_customer
from ..repository.unit_of_work import PostgresUnitOfWork
from ..settings import IntakeSettings

consumers: Consumers[IntakeSettings] = Consumers()


@consumers.on(CaseResolved, name="track-resolution")
async def track_resolution(ctx: HandlerContext[IntakeSettings], event: CaseResolved) -> None:
    await usecases.case_resolved(PostgresUnitOfWork(ctx.uow), event.case_id, event.resolved_at)


@consumers.on(CaseClosed, name="track-closing")
async def track_closing(ctx: HandlerContext[IntakeSettings], event: CaseClosed) -> None:
    await usecases.case_closed(PostgresUnitOfWork(ctx.uow), event.case_id, event.closed_at)


@consumers.on(CaseReopened, name="track-reopening")
async def track_reopening(ctx: HandlerContext[IntakeSettings], event: CaseReopened) -> None:
    await usecases.case_reopened(PostgresUnitOfWork(ctx.uow), event.case_id, event.reopened_at)


@consumers.on(NotificationSent, name="remember-sent-emails")
async def remember_sent_email(ctx: HandlerContext[IntakeSettings], event: NotificationSent) -> None:
    # only the customer's emails: a reply to one threads into the case (not a staff notice)
    if (
        event.channel is NotificationChannel.EMAIL
        and event.case_id is not None
        and to_the_customer(event)
    ):
        await usecases.email_sent(
            PostgresUnitOfWork(ctx.uow), event.delivery_id, event.case_id, event.sent_at
        )


@consumers.on_any([model.routing_key() for model in HISTORY_EVENTS], name="customer-history")
async def keep_history(ctx: HandlerContext[IntakeSettings], event: EventData) -> None:
    await usecases.keep_case_fact(PostgresUnitOfWork(ctx.uow), ctx.envelope, event)
