"""What other services publish about a customer's cases, as facts of the customer's history:
who took the case, how its status moved, what was promised and whether it was kept, how it
ended, what the customer answered in the survey, which notifications went out. Pure: an event
in, one line of history out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from atiende_contracts import (
    Audience,
    CaseAssigned,
    CaseClosed,
    CaseReopened,
    CaseResolved,
    CaseStatusChanged,
    CommitmentKept,
    CommitmentMade,
    CommitmentMissed,
    EventData,
    NotificationSent,
    SurveyAnswered,
)

HISTORY_EVENTS: tuple[type[EventData], ...] = (
    CaseAssigned,
    CaseStatusChanged,
    CommitmentMade,
    CommitmentKept,
    CommitmentMissed,
    CaseResolved,
    CaseClosed,
    CaseReopened,
    SurveyAnswered,
    NotificationSent,
)
"""The events kept in customers' histories (intake consumes each of them)."""


@dataclass(frozen=True)
class CaseFact:
    event_id: uuid.UUID
    case_id: uuid.UUID
    event_type: str
    summary: str
    at: datetime
    details: dict[str, object] = field(default_factory=dict)


Said = tuple[str, datetime, Mapping[str, object]]


def _summary(event: EventData) -> Said | None:
    details: Mapping[str, object]
    match event:
        case CaseAssigned():
            who = f"agent {event.agent_id}" if event.agent_id else "its queue"
            details = {
                "team": event.team,
                "agent_id": event.agent_id,
                "reason": event.reason,
            }
            return f"Assigned to team {event.team}, {who}", event.assigned_at, details
        case CaseStatusChanged():
            details = {"from": event.from_status.value, "to": event.to_status.value,
                       "reason": event.reason}  # fmt: skip
            text = f"Status {event.from_status.value} → {event.to_status.value}"
            return text + (f" ({event.reason})" if event.reason else ""), event.changed_at, details
        case CommitmentMade():
            details = {
                "commitment_id": str(event.commitment_id),
                "due_at": event.due_at.isoformat(),
            }
            return f"Promised: {event.description}", event.made_at, details
        case CommitmentKept():
            return "Promise kept", event.kept_at, {"commitment_id": str(event.commitment_id)}
        case CommitmentMissed():
            return "Promise missed", event.missed_at, {"commitment_id": str(event.commitment_id)}
        case CaseResolved():
            return f"Resolved: {event.resolution}", event.resolved_at, {"team": event.team}
        case CaseClosed():
            return f"Closed ({event.reason})", event.closed_at, {"reason": event.reason}
        case CaseReopened():
            return f"Reopened ({event.reason})", event.reopened_at, {"reason": event.reason}
        case SurveyAnswered():
            details = {"satisfaction": event.satisfaction}
            return f"Survey answered: {event.satisfaction}/5", event.answered_at, details
        case NotificationSent() if not to_the_customer(event):
            return None
        case NotificationSent():
            details = {
                "template": event.template,
                "channel": event.channel.value,
            }
            return f"Sent {event.template} by {event.channel.value}", event.sent_at, details
    return None


def to_the_customer(event: NotificationSent) -> bool:
    """Only what the customer was told belongs to their history (not staff notices, not
    webhooks to other systems). Before `audience`, notifications wrote to customers only."""
    return event.audience in (None, Audience.CUSTOMER)


def case_fact(event_id: uuid.UUID, event: EventData) -> CaseFact | None:
    """The history line an event is, or None (not about a case, or not a history event)."""
    case_id = getattr(event, "case_id", None)
    said = _summary(event)
    if not isinstance(case_id, uuid.UUID) or said is None:
        return None
    summary, at, details = said
    return CaseFact(event_id, case_id, event.event_type, summary, at, dict(details))
