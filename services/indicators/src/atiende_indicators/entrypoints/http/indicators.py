"""/indicators: read-only views over the read models, for supervisors and managers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from atiende_contracts import CompensationKind
from atiende_runtime.errors import FieldError, Invalid
from atiende_runtime.params import IsoDate
from atiende_runtime.problems import Problem, validation_problem

from ... import usecases
from ...domain.days import DayRange
from ...domain.errors import InvalidRange
from ...domain.projection import CostPeriod, Metric
from .deps import ReadIndicators, Runtime, snapshot

router = APIRouter(tags=["indicators"])


class IndicatorsOut(BaseModel):
    cases_opened: int
    cases_assigned: int
    cases_resolved: int
    surveys_invited: int
    surveys_answered: int
    average_satisfaction: float | None
    satisfied_share: float | None
    notifications_sent: int
    notifications_failed: int
    median_minutes_to_resolution: float | None


class DailyValueOut(BaseModel):
    day: date
    value: int


def _query_problem(error: Invalid) -> Problem:
    # the domain names the bound ("from"); clients see the query parameter, as in any 422
    return validation_problem(
        [FieldError(f"query.{e.field}", e.rule, e.message) for e in error.errors]
    )


def day_range(
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="First reporting day (UTC), included")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="Last reporting day (UTC), included")] = None,
) -> DayRange:
    try:
        return DayRange(from_, to)
    except InvalidRange as exc:
        raise _query_problem(exc) from exc


Days = Annotated[DayRange, Depends(day_range)]


@dataclass(frozen=True)
class SeriesQuery:
    metric: Metric
    days: DayRange


def series_query(
    metric: Annotated[Metric, Query(description="The daily counter to list")], days: Days
) -> SeriesQuery:
    # checked here, while the query is parsed, so the problem names query.to; a bad metric is
    # reported first, as FastAPI does not call a dependency whose own parameters are invalid
    try:
        days.check_series_span()
    except InvalidRange as exc:
        raise _query_problem(exc) from exc
    return SeriesQuery(metric, days)


@router.get(
    "/indicators",
    response_model=IndicatorsOut,
    summary="Customer indicators over a range of days",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def get_indicators(runtime: Runtime, days: Days, _: ReadIndicators) -> IndicatorsOut:
    async with snapshot(runtime) as uow:
        result = await usecases.read_indicators(uow, days)
    return IndicatorsOut(**asdict(result))


@router.get(
    "/indicators/daily",
    response_model=list[DailyValueOut],
    summary="One metric per day, 0 on days without events",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def get_daily(
    runtime: Runtime,
    query: Annotated[SeriesQuery, Depends(series_query)],
    _: ReadIndicators,
) -> list[DailyValueOut]:
    async with snapshot(runtime) as uow:
        series = await usecases.read_daily(uow, query.metric, query.days)
    return [DailyValueOut(day=day, value=value) for day, value in series]


class CompensationCostOut(BaseModel):
    period: date = Field(description="The period's first day (UTC)")
    team: str | None = Field(description="null: compensations on cases without a team")
    kind: CompensationKind
    currency: str
    granted: Decimal
    reversed: Decimal
    net: Decimal = Field(description="granted - reversed: the cost of loyalty")
    grants: int
    reversals: int


@router.get(
    "/indicators/compensation-costs",
    response_model=list[CompensationCostOut],
    summary="The cost of compensations (customer loyalty) per period, team, kind and currency",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def get_compensation_costs(
    runtime: Runtime,
    days: Days,
    _: ReadIndicators,
    period: Annotated[CostPeriod, Query(description="Sum per day, week or month")] = (
        CostPeriod.MONTH
    ),
    team: Annotated[str | None, Query(max_length=64)] = None,
    kind: CompensationKind | None = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> list[CompensationCostOut]:
    async with snapshot(runtime) as uow:
        rows = await usecases.read_compensation_costs(
            uow, days, period, team=team, kind=kind.value if kind else None, currency=currency
        )
    return [
        CompensationCostOut(
            period=r.period,
            team=r.team or None,
            kind=CompensationKind(r.kind),
            currency=r.currency,
            granted=r.cost.granted,
            reversed=r.cost.reversed,
            net=r.cost.net,
            grants=r.cost.grants,
            reversals=r.cost.reversals,
        )
        for r in rows
    ]
