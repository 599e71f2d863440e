"""Surveys' event handlers: thin, each runs its use case inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atiende_contracts import CaseOpened, CaseResolved
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..domain import CaseFacts
from ..repository import PostgresUnitOfWork
from ..settings import SurveysSettings

consumers: Consumers[SurveysSettings] = Consumers()


@consumers.on(CaseOpened, name="remember-case")
async def remember_case(ctx: HandlerContext[SurveysSettings], event: CaseOpened) -> None:
    await usecases.remember_case(
        PostgresUnitOfWork(ctx.uow),
        CaseFacts(
            case_id=event.case_id,
            case_number=event.case_number,
            customer_id=event.customer_id,
            language=event.language,
            opened_at=event.opened_at,
        ),
    )


@consumers.on(CaseResolved, name="invite-after-resolution")
async def invite_after_resolution(
    ctx: HandlerContext[SurveysSettings], event: CaseResolved
) -> None:
    await usecases.invite_after_resolution(
        PostgresUnitOfWork(ctx.uow),
        case_id=event.case_id,
        case_number=event.case_number,
        now=datetime.now(UTC),
        ttl=timedelta(days=ctx.settings.survey_ttl_days),
        base_url=ctx.settings.survey_base_url,
    )
