"""What every event means for the indicators. Pure: no I/O here.

Each event is turned into a `Projection`: the daily counters it increments and what it tells about
its case. Counters are summed per reporting day (the UTC date of when the event happened, not of
when it arrived), so a late event still lands on its own day.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from atiende_contracts import (
    CaseAssigned,
    CaseOpened,
    CaseResolved,
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
class Projection:
    """The effect of one event on the read models."""

    day: date
    increments: tuple[tuple[Metric, int], ...]
    """Sorted by metric, so concurrent transactions lock the daily rows in one order."""
    facts: CaseFacts | None = None

    @classmethod
    def of(
        cls, at: datetime, increments: Mapping[Metric, int], facts: CaseFacts | None = None
    ) -> Projection:
        return cls(reporting_day(at), tuple(sorted(increments.items())), facts)


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
        case _:
            return None
