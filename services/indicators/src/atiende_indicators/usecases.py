"""What indicators does: project each event into the read models, and read the indicators back.
Each use case takes a unit of work and raises only domain errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from atiende_contracts import EventData

from .domain.days import DayRange, daily_series
from .domain.kpis import Indicators, indicators
from .domain.projection import CostPeriod, CostRow, Metric, Projection, project
from .repository import UnitOfWork


async def project_event(
    uow: UnitOfWork, event: EventData, occurred_at: datetime
) -> Projection | None:
    """Add what `event` tells to the read models; None for an event no indicator uses yet (the
    inbox still records it as handled). `occurred_at` is the envelope's time."""
    projection = project(event, occurred_at)
    if projection is not None:
        await uow.indicators.apply(projection)
    return projection


async def project_events(
    uow: UnitOfWork, events: Sequence[tuple[EventData, datetime]]
) -> list[Projection | None]:
    """`project_event` for a batch of events (each with its envelope's time), written as one
    aggregated upsert per read model."""
    projections = [project(event, occurred_at) for event, occurred_at in events]
    useful = [p for p in projections if p is not None]
    if useful:
        await uow.indicators.apply_many(useful)
    return projections


async def read_indicators(uow: UnitOfWork, days: DayRange) -> Indicators:
    """The indicators over `days`; run it in one snapshot so counts and median agree."""
    totals = await uow.indicators.totals(days)
    median = await uow.indicators.median_minutes_to_resolution(days)
    return indicators(totals, median)


async def read_daily(uow: UnitOfWork, metric: Metric, days: DayRange) -> list[tuple[date, int]]:
    """One point per day of `days`, 0 on days without events; InvalidRange if too long to list."""
    days.check_series_span()
    return daily_series(await uow.indicators.daily(metric, days), days)


async def read_compensation_costs(
    uow: UnitOfWork,
    days: DayRange,
    period: CostPeriod,
    *,
    team: str | None = None,
    kind: str | None = None,
    currency: str | None = None,
) -> list[CostRow]:
    """The cost of customer loyalty: compensations granted minus reversed, per period, team,
    kind and currency (amounts in different currencies are never added together)."""
    return await uow.indicators.compensation_costs(
        days, period, team=team, kind=kind, currency=currency
    )
