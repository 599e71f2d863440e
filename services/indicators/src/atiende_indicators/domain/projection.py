"""What every event means for the indicators. Pure: no I/O here.

Each event is turned into a `Projection`: the daily counters it increments and what it tells about
its case. Counters are summed per reporting day (the UTC date of when the event happened, not of
when it arrived), so a late event still lands on its own day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from atiende_contracts import (
    CaseAssigned,
    CaseOpened,
    CaseResolved,
    CompensationGranted,
    CompensationReversed,
    EventData,
    NotificationFailed,
    NotificationSent,
    SurveyAnswered,
    SurveyInvited,
)

SATISFIED_FROM = 4
"""An answer with this satisfaction (1..5) or more counts as a satisfied customer."""


class Metric(StrEnum):
    """The daily counters kept per reporting day."""

    CASES_OPENED = "cases_opened"
    CASES_ASSIGNED = "cases_assigned"
    CASES_RESOLVED = "cases_resolved"
    SURVEYS_INVITED = "surveys_invited"
    SURVEYS_ANSWERED = "surveys_answered"
    SURVEYS_SATISFIED = "surveys_satisfied"
    SATISFACTION_SUM = "satisfaction_sum"
    NOTIFICATIONS_SENT = "notifications_sent"
    NOTIFICATIONS_FAILED = "notifications_failed"
    COMPENSATIONS_GRANTED = "compensations_granted"
    COMPENSATIONS_REVERSED = "compensations_reversed"


@dataclass(frozen=True)
class CaseFacts:
    """What one event tells about a case; None where this event tells nothing."""

    case_id: uuid.UUID
    case_number: str | None = None
    type: str | None = None
    channel: str | None = None
    opened_at: datetime | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    satisfaction: int | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class CostKey:
    """One row of the compensation cost: a reporting day, team ('' = none), kind, currency."""

    day: date
    team: str
    kind: str
    currency: str


@dataclass(frozen=True)
class Cost:
    """What compensations add to one cost row: granted and reversed money, and how many."""

    granted: Decimal = Decimal(0)
    reversed: Decimal = Decimal(0)
    grants: int = 0
    reversals: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.granted + other.granted,
            self.reversed + other.reversed,
            self.grants + other.grants,
            self.reversals + other.reversals,
        )

    @property
    def net(self) -> Decimal:
        return self.granted - self.reversed


class CostPeriod(StrEnum):
    """How the cost of compensations is summed: per day, ISO week (from Monday) or month."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, period: CostPeriod) -> date:
    """The first day of the period `day` falls in (as PostgreSQL's date_trunc)."""
    if period is CostPeriod.MONTH:
        return day.replace(day=1)
    if period is CostPeriod.WEEK:
        return date.fromordinal(day.toordinal() - day.weekday())
    return day


@dataclass(frozen=True)
class CostRow:
    """The cost of compensations in one period (its first day), team, kind and currency."""

    period: date
    team: str
    kind: str
    currency: str
    cost: Cost


@dataclass(frozen=True)
class Projection:
    """The effect of one event on the read models."""

    day: date
    increments: tuple[tuple[Metric, int], ...]
    """Sorted by metric, so concurrent transactions lock the daily rows in one order."""
    facts: CaseFacts | None = None
    cost: tuple[CostKey, Cost] | None = None
    """A compensation granted or reversed: its cost row and what it adds."""

    @classmethod
    def of(
        cls,
        at: datetime,
        increments: Mapping[Metric, int],
        facts: CaseFacts | None = None,
        cost: tuple[CostKey, Cost] | None = None,
    ) -> Projection:
        return cls(reporting_day(at), tuple(sorted(increments.items())), facts, cost)


def _cost(
    at: datetime, event: CompensationGranted | CompensationReversed, cost: Cost
) -> tuple[CostKey, Cost]:
    return CostKey(reporting_day(at), event.team or "", event.kind.value, event.currency), cost


def reporting_day(at: datetime) -> date:
    """The UTC date an event counts on; a timestamp without an offset is taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def project(event: EventData, occurred_at: datetime) -> Projection | None:
    """The projection of `event`; None for an event no indicator uses (yet).

    An event counts on the day its data says it happened (a case opened late in the evening and
    relayed after midnight still counts on its day); `occurred_at`, the envelope's time, serves
    the events whose data carries no time of their own.
    """
    match event:
        case CaseOpened():
            return Projection.of(
                event.opened_at,
                {Metric.CASES_OPENED: 1},
                CaseFacts(
                    event.case_id,
                    case_number=event.case_number,
                    type=event.type.value,
                    channel=event.channel.value,
                    opened_at=event.opened_at,
                ),
            )
        case CaseAssigned():
            return Projection.of(
                event.assigned_at,
                {Metric.CASES_ASSIGNED: 1},
                CaseFacts(
                    event.case_id, case_number=event.case_number, assigned_at=event.assigned_at
                ),
            )
        case CaseResolved():
            return Projection.of(
                event.resolved_at,
                {Metric.CASES_RESOLVED: 1},
                CaseFacts(
                    event.case_id, case_number=event.case_number, resolved_at=event.resolved_at
                ),
            )
        case SurveyInvited():
            return Projection.of(
                occurred_at,
                {Metric.SURVEYS_INVITED: 1},
                CaseFacts(event.case_id, case_number=event.case_number),
            )
        case SurveyAnswered():
            return Projection.of(
                event.answered_at,
                {
                    Metric.SURVEYS_ANSWERED: 1,
                    Metric.SATISFACTION_SUM: event.satisfaction,
                    Metric.SURVEYS_SATISFIED: int(event.satisfaction >= SATISFIED_FROM),
                },
                CaseFacts(
                    event.case_id, satisfaction=event.satisfaction, answered_at=event.answered_at
                ),
            )
        case NotificationSent():
            return Projection.of(event.sent_at, {Metric.NOTIFICATIONS_SENT: 1})
        case NotificationFailed():
            return Projection.of(event.failed_at, {Metric.NOTIFICATIONS_FAILED: 1})
        case CompensationGranted():
            return Projection.of(
                event.granted_at,
                {Metric.COMPENSATIONS_GRANTED: 1},
                cost=_cost(event.granted_at, event, Cost(granted=event.amount, grants=1)),
            )
        case CompensationReversed():
            return Projection.of(
                event.reversed_at,
                {Metric.COMPENSATIONS_REVERSED: 1},
                cost=_cost(event.reversed_at, event, Cost(reversed=event.amount, reversals=1)),
            )
        case _:
            return None


def _least(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b  # like SQL LEAST: NULLs are skipped


def _greatest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


def merge_facts(old: CaseFacts, new: CaseFacts) -> CaseFacts:
    """What the read model holds after `new` is merged into `old` (the rules of the SQL upsert):
    a None never overwrites, the earliest opening and assignment, the latest resolution, and
    the latest answer together with its satisfaction."""
    newer_answer = old.answered_at is None or (
        new.answered_at is not None and new.answered_at >= old.answered_at
    )
    return CaseFacts(
        old.case_id,
        case_number=new.case_number if new.case_number is not None else old.case_number,
        type=new.type if new.type is not None else old.type,
        channel=new.channel if new.channel is not None else old.channel,
        opened_at=_least(old.opened_at, new.opened_at),
        assigned_at=_least(old.assigned_at, new.assigned_at),
        resolved_at=_greatest(old.resolved_at, new.resolved_at),
        satisfaction=(
            (new.satisfaction if new.satisfaction is not None else old.satisfaction)
            if newer_answer
            else old.satisfaction
        ),
        answered_at=_greatest(old.answered_at, new.answered_at),
    )


@dataclass(frozen=True)
class Aggregate:
    """The effect of a batch of events: each (day, metric) counter's total increment and each
    case's merged facts, in lock order (sorted), so one upsert of each writes the batch."""

    increments: tuple[tuple[date, Metric, int], ...]
    facts: tuple[CaseFacts, ...]
    costs: tuple[tuple[CostKey, Cost], ...] = ()
    """Summed per cost row, sorted (the lock order)."""


def aggregate(projections: Iterable[Projection]) -> Aggregate:
    """The projections of a batch, in delivery order, as one aggregate."""
    counts: dict[tuple[date, Metric], int] = {}
    facts: dict[uuid.UUID, CaseFacts] = {}
    costs: dict[CostKey, Cost] = {}
    for projection in projections:
        if projection.cost is not None:
            key, cost = projection.cost
            costs[key] = costs.get(key, Cost()) + cost
        for metric, value in projection.increments:
            counts[projection.day, metric] = counts.get((projection.day, metric), 0) + value
        if projection.facts is not None:
            known = facts.get(projection.facts.case_id)
            facts[projection.facts.case_id] = (
                projection.facts if known is None else merge_facts(known, projection.facts)
            )
    return Aggregate(
        tuple((day, metric, value) for (day, metric), value in sorted(counts.items())),
        tuple(facts[case_id] for case_id in sorted(facts)),
        tuple(sorted(costs.items(), key=lambda item: _cost_order(item[0]))),
    )


def _cost_order(key: CostKey) -> tuple[date, str, str, str]:
    return (key.day, key.team, key.kind, key.currency)
