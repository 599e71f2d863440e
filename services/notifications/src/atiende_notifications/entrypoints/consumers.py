"""Notifications' event handlers: thin, each runs inside the inbox transaction and only records
a pending delivery. No SMTP here: the dispatcher sends once the transaction has committed.
"""

from __future__ import annotations

from atiende_contracts import CaseOpened, SurveyInvited
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..adapters.mail import render
from ..repository import PostgresUnitOfWork
from ..settings import NotificationsSettings

consumers: Consumers[NotificationsSettings] = Consumers()


@consumers.on(CaseOpened, name="acknowledge-case")
async def acknowledge_case(ctx: HandlerContext[NotificationsSettings], event: CaseOpened) -> None:
    await usecases.acknowledge_case(PostgresUnitOfWork(ctx.uow), event, render=render)


@consumers.on(SurveyInvited, name="send-survey-invitation")
async def send_survey_invitation(
    ctx: HandlerContext[NotificationsSettings], event: SurveyInvited
) -> None:
    await usecases.invite_to_survey(PostgresUnitOfWork(ctx.uow), event, render=render)
