"""The indicators, from the counter totals over a range of reporting days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .projection import Metric


@dataclass(frozen=True)
class Indicators:
    cases_opened: int
    cases_assigned: int
    cases_resolved: int
    surveys_invited: int
    surveys_answered: int
    average_satisfaction: float | None
    satisfied_share: float | None
    """Share of answers with a satisfaction of SATISFIED_FROM or more."""
    notifications_sent: int
    notifications_failed: int
    median_minutes_to_resolution: float | None


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by (no data is not zero)."""
    return part / whole if whole else None


def indicators(
    totals: Mapping[Metric, int], median_minutes_to_resolution: float | None
) -> Indicators:
    """The indicators from counter totals over a range (a metric absent from `totals` is 0)."""

    def total(metric: Metric) -> int:
        return totals.get(metric, 0)

    answered = total(Metric.SURVEYS_ANSWERED)
    return Indicators(
        cases_opened=total(Metric.CASES_OPENED),
        cases_assigned=total(Metric.CASES_ASSIGNED),
        cases_resolved=total(Metric.CASES_RESOLVED),
        surveys_invited=total(Metric.SURVEYS_INVITED),
        surveys_answered=answered,
        average_satisfaction=ratio(total(Metric.SATISFACTION_SUM), answered),
        satisfied_share=ratio(total(Metric.SURVEYS_SATISFIED), answered),
        notifications_sent=total(Metric.NOTIFICATIONS_SENT),
        notifications_failed=total(Metric.NOTIFICATIONS_FAILED),
        median_minutes_to_resolution=median_minutes_to_resolution,
    )
