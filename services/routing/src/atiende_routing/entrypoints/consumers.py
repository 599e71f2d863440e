"""Routing's event handlers: thin, each runs its use case inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from atiende_contracts import (
    CaseContactLinked,
    CaseMerged,
    CaseOpened,
    CaseReclassified,
    CustomerErased,
    CustomerProfileChanged,
    SurveyAnswered,
    SurveyDetractor,
)
from atiende_runtime.inbox import Consumers, HandlerContext

from ..repository import PostgresUnitOfWork
from ..settings import RoutingSettings
from ..usecases import feedback, lifecycle

consumers: Consumers[RoutingSettings] = Consumers()


@consumers.on(CaseOpened, name="assign-case")
async def assign_case(ctx: HandlerContext[RoutingSettings], event: CaseOpened) -> None:
    await lifecycle.open_case(
        PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC), lifecycle.Rules.of(ctx.settings)
    )


@consumers.on(CaseContactLinked, name="case-contact")
async def case_contact(ctx: HandlerContext[RoutingSettings], event: CaseContactLinked) -> None:
    await lifecycle.contact_linked(
        PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC), lifecycle.Rules.of(ctx.settings)
    )


@consumers.on(CaseReclassified, name="case-reclassified")
async def case_reclassified(ctx: HandlerContext[RoutingSettings], event: CaseReclassified) -> None:
    await lifecycle.reclassified(PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC))


@consumers.on(CaseMerged, name="case-merged")
async def case_merged(ctx: HandlerContext[RoutingSettings], event: CaseMerged) -> None:
    await lifecycle.merged(
        PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC), lifecycle.Rules.of(ctx.settings)
    )


@consumers.on(CustomerProfileChanged, name="customer-profile")
async def customer_profile(
    ctx: HandlerContext[RoutingSettings], event: CustomerProfileChanged
) -> None:
    await lifecycle.profile_changed(PostgresUnitOfWork(ctx.uow), event)


@consumers.on(CustomerErased, name="customer-erased")
async def customer_erased(ctx: HandlerContext[RoutingSettings], event: CustomerErased) -> None:
    await lifecycle.erased(PostgresUnitOfWork(ctx.uow), event)


@consumers.on(SurveyDetractor, name="survey-detractor")
async def survey_detractor(ctx: HandlerContext[RoutingSettings], event: SurveyDetractor) -> None:
    await feedback.open_recovery(PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC))


@consumers.on(SurveyAnswered, name="survey-answered")
async def survey_answered(ctx: HandlerContext[RoutingSettings], event: SurveyAnswered) -> None:
    await feedback.survey_answered(PostgresUnitOfWork(ctx.uow), event, datetime.now(UTC))
