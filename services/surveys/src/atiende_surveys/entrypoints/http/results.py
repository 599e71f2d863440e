"""Results for indicators and the console: answered surveys filtered by questionnaire, case,
customer, agent, team and period, with their scores; and what was not asked, and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from atiende_runtime.auth import Principal, require
from atiende_runtime.params import IsoDateTime
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...repository import PostgresUnitOfWork, ResultFilter
from ...settings import SurveysSettings
from .deps import runtime
from .invitations import InvitationOut, invitation_out

router = APIRouter(tags=["results"])
Runtime = Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)]
Staff = Annotated[Principal, Depends(require("supervisor", "agent"))]


class ScoresOut(BaseModel):
    """See docs/surveys.md for the definitions."""

    responses: int
    csat_answers: int
    csat_percent: float | None
    nps_answers: int
    nps: float | None
    promoters: int
    passives: int
    detractors: int
    ces_answers: int
    ces_mean: float | None
    servqual_answers: int
    servqual_gaps: dict[str, float]


class ResultsOut(BaseModel):
    scores: ScoresOut
    items: list[InvitationOut]


class SuppressionOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID | None
    case_id: uuid.UUID | None
    questionnaire_id: str | None
    trigger: str
    reason: str
    detail: str | None
    suppressed_at: datetime


class SuppressionList(BaseModel):
    items: list[SuppressionOut]


@router.get(
    "/results",
    response_model=ResultsOut,
    summary="Answered surveys and their scores (CSAT %, NPS, CES mean, SERVQUAL gaps)",
)
async def get_results(
    rt: Runtime,
    _: Staff,
    questionnaire: Annotated[str | None, Query(description="Questionnaire id")] = None,
    case_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    agent_id: str | None = None,
    team: str | None = None,
    since: Annotated[IsoDateTime | None, Query(alias="from", description="Answered from")] = None,
    until: Annotated[IsoDateTime | None, Query(alias="to", description="Answered before")] = None,
    include_items: bool = True,
) -> ResultsOut:
    where = ResultFilter(questionnaire, case_id, customer_id, agent_id, team, since, until)
    async with rt.unit_of_work() as tx:
        answered, summary = await usecases.results(PostgresUnitOfWork(tx), where)
    now = datetime.now(UTC)
    return ResultsOut(
        scores=ScoresOut(**summary.__dict__),
        items=[invitation_out(i, now) for i in answered] if include_items else [],
    )


@router.get(
    "/suppressions",
    response_model=SuppressionList,
    summary="Invitations not sent, with the reason (consent, opt-out, budget, once per case...)",
)
async def get_suppressions(
    rt: Runtime,
    _: Staff,
    customer_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
) -> SuppressionList:
    async with rt.unit_of_work() as tx:
        rows = await usecases.suppressions(
            PostgresUnitOfWork(tx), customer_id=customer_id, case_id=case_id
        )
    return SuppressionList(items=[SuppressionOut(**row.__dict__) for row in rows])
