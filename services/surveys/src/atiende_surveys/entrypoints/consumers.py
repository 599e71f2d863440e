"""Surveys' event handlers: thin, each runs its use case inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from atiende_contracts import (
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CustomerErased,
    CustomerProfileChanged,
    SaleCompleted,
)
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..domain import CaseFacts, CustomerFacts
from ..repository import PostgresUnitOfWork
from ..settings import SurveysSettings
from .config import survey_config

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
            formality=event.formality,
            type=event.type.value,
            region=event.region,
            tier=event.tier.value if event.tier else None,
        ),
        consent_surveys=event.consent_surveys,
    )


@consumers.on(CustomerProfileChanged, name="note-customer-consent")
async def note_customer(
    ctx: HandlerContext[SurveysSettings], event: CustomerProfileChanged
) -> None:
    await usecases.note_customer(
        PostgresUnitOfWork(ctx.uow),
        CustomerFacts(
            customer_id=event.customer_id,
            consent_surveys=event.consent_surveys,
            language=event.language,
            formality=event.formality,
        ),
        event.changed_at,
    )


@consumers.on(CustomerErased, name="customer-erased")
async def customer_erased(ctx: HandlerContext[SurveysSettings], event: CustomerErased) -> None:
    await usecases.customer_erased(
        PostgresUnitOfWork(ctx.uow), event.customer_id, event.case_ids, event.erased_at
    )


@consumers.on(CaseResolved, name="invite-after-resolution")
async def invite_after_resolution(
    ctx: HandlerContext[SurveysSettings], event: CaseResolved
) -> None:
    await usecases.case_resolved(
        PostgresUnitOfWork(ctx.uow),
        case_id=event.case_id,
        case_number=event.case_number,
        now=datetime.now(UTC),
        config=survey_config(ctx.settings),
        agent_id=event.agent_id,
        team=event.team,
    )


@consumers.on(CaseClosed, name="note-case-closed")
async def case_closed(ctx: HandlerContext[SurveysSettings], event: CaseClosed) -> None:
    await usecases.case_closed(PostgresUnitOfWork(ctx.uow), event.case_id)


@consumers.on(CaseReopened, name="note-case-reopened")
async def case_reopened(ctx: HandlerContext[SurveysSettings], event: CaseReopened) -> None:
    await usecases.case_reopened(PostgresUnitOfWork(ctx.uow), event.case_id)


@consumers.on(SaleCompleted, name="follow-up-sale")
async def sale_completed(ctx: HandlerContext[SurveysSettings], event: SaleCompleted) -> None:
    await usecases.sale_completed(
        PostgresUnitOfWork(ctx.uow),
        sale_id=event.sale_id,
        customer_id=event.customer_id,
        case_id=event.case_id,
        case_number=event.case_number,
        now=datetime.now(UTC),
        config=survey_config(ctx.settings),
    )
