"""Indicators' HTTP routes: read-only views over the read models, for supervisors and managers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from atiende_runtime.auth import Principal, require
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from .domain import DayRange, InvalidRange, Metric, daily_series, indicators
from .repository import IndicatorsRepository

router = APIRouter(tags=["indicators"])

VALIDATION_PROBLEM = "https://atiende.dev/problems/validation"

ReadIndicators = Annotated[Principal, Depends(require("supervisor", "manager"))]


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


def _invalid_query(exc: InvalidRange) -> Problem:
    # the same shape as the runtime's request validation problems, so clients handle one format
    field = f"query.{exc.field}"
    return Problem(
        422,
        "Request validation failed",
        f"Invalid field(s): {field}",
        type_=VALIDATION_PROBLEM,
        errors=[{"field": field, "rule": "day_range", "message": str(exc)}],
    )


def day_range(
    from_: Annotated[
        date | None, Query(alias="from", description="First reporting day (UTC), included")
    ] = None,
    to: Annotated[date | None, Query(description="Last reporting day (UTC), included")] = None,
) -> DayRange:
    try:
        return DayRange(from_, to)
    except InvalidRange as exc:
        raise _invalid_query(exc) from exc


Days = Annotated[DayRange, Depends(day_range)]


@router.get(
    "/indicators",
    response_model=IndicatorsOut,
    summary="Customer indicators over a range of days",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def get_indicators(request: Request, days: Days, _: ReadIndicators) -> IndicatorsOut:
    # one snapshot for both reads, so the counts and the median describe the same moment
    async with (
        runtime_of(request).pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        repo = IndicatorsRepository(conn)
        totals = await repo.totals(days)
        median = await repo.median_minutes_to_resolution(days)
    return IndicatorsOut(**asdict(indicators(totals, median)))


@router.get(
    "/indicators/daily",
    response_model=list[DailyValueOut],
    summary="One metric per day, 0 on days without events",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def get_daily(
    request: Request,
    metric: Annotated[Metric, Query(description="The daily counter to list")],
    days: Days,
    _: ReadIndicators,
) -> list[DailyValueOut]:
    try:
        days.check_series_span()
    except InvalidRange as exc:
        raise _invalid_query(exc) from exc
    async with runtime_of(request).pool.acquire() as conn:
        values = await IndicatorsRepository(conn).daily(metric, days)
    return [DailyValueOut(day=day, value=value) for day, value in daily_series(values, days)]
