"""In memory: indicators' unit of work and repository, for unit tests without infrastructure.
tests/integration/test_indicators_repository_contract.py holds them to the PostgreSQL behaviour
(the merge rules of case facts, the day ranges, the median)."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from atiende_indicators.domain.days import DayRange
from atiende_indicators.domain.projection import (
    CaseFacts,
    Cost,
    CostKey,
    CostPeriod,
    CostRow,
    Metric,
    Projection,
    period_start,
)

T = TypeVar("T")


def _coalesce(new: T | None, old: T | None) -> T | None:
    return new if new is not None else old


def _least(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b  # like SQL LEAST: NULLs are skipped


def _greatest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


def _in(day: date, days: DayRange) -> bool:
    return (days.start is None or day >= days.start) and (days.end is None or day <= days.end)


class FakeIndicatorsRepository:
    def __init__(self) -> None:
        self.counts: dict[tuple[date, str], int] = {}
        self.facts: dict[uuid.UUID, CaseFacts] = {}
        self.costs: dict[CostKey, Cost] = {}

    async def apply(self, projection: Projection) -> None:
        if projection.cost is not None:
            key, cost = projection.cost
            self.costs[key] = self.costs.get(key, Cost()) + cost
        for metric, value in projection.increments:
            key = (projection.day, metric.value)
            self.counts[key] = self.counts.get(key, 0) + value
        if projection.facts is not None:
            self._merge(projection.facts)

    async def apply_many(self, projections: Sequence[Projection]) -> None:
        for projection in projections:  # the reference: one by one
            await self.apply(projection)

    def _merge(self, new: CaseFacts) -> None:
        old = self.facts.get(new.case_id)
        if old is None:
            self.facts[new.case_id] = new
            return
        newer_answer = old.answered_at is None or (
            new.answered_at is not None and new.answered_at >= old.answered_at
        )
        self.facts[new.case_id] = replace(
            old,
            case_number=_coalesce(new.case_number, old.case_number),
            type=_coalesce(new.type, old.type),
            channel=_coalesce(new.channel, old.channel),
            opened_at=_least(old.opened_at, new.opened_at),
            assigned_at=_least(old.assigned_at, new.assigned_at),
            resolved_at=_greatest(old.resolved_at, new.resolved_at),
            satisfaction=(
                _coalesce(new.satisfaction, old.satisfaction) if newer_answer else old.satisfaction
            ),
            answered_at=_greatest(old.answered_at, new.answered_at),
        )

    async def case_facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        return self.facts.get(case_id)

    async def totals(self, days: DayRange) -> dict[Metric, int]:
        known = {m.value: m for m in Metric}  # a newer replica may store metrics unknown here
        out: dict[Metric, int] = {}
        for (day, name), value in self.counts.items():
            if name in known and _in(day, days):
                out[known[name]] = out.get(known[name], 0) + value
        return out

    async def daily(self, metric: Metric, days: DayRange) -> dict[date, int]:
        return {
            day: value
            for (day, name), value in self.counts.items()
            if name == metric.value and _in(day, days)
        }

    async def median_minutes_to_resolution(self, days: DayRange) -> float | None:
        start = datetime.combine(days.start, time(), UTC) if days.start else None
        end = datetime.combine(days.end + timedelta(days=1), time(), UTC) if days.end else None
        minutes = [
            (f.resolved_at - f.opened_at).total_seconds() / 60
            for f in self.facts.values()
            if f.opened_at is not None
            and f.resolved_at is not None
            and (start is None or f.resolved_at >= start)
            and (end is None or f.resolved_at < end)
        ]
        return statistics.median(minutes) if minutes else None

    async def compensation_costs(
        self,
        days: DayRange,
        period: CostPeriod,
        *,
        team: str | None = None,
        kind: str | None = None,
        currency: str | None = None,
    ) -> list[CostRow]:
        rows: dict[tuple[date, str, str, str], Cost] = {}
        for key, cost in self.costs.items():
            if not _in(key.day, days) or (team is not None and key.team != team):
                continue
            if (kind is not None and key.kind != kind) or (
                currency is not None and key.currency != currency
            ):
                continue
            at = (period_start(key.day, period), key.team, key.kind, key.currency)
            rows[at] = rows.get(at, Cost()) + cost
        return [CostRow(*at, cost) for at, cost in sorted(rows.items())]


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.indicators = FakeIndicatorsRepository()
