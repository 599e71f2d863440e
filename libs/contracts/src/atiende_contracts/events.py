"""Every Atiende event's data, as pydantic models. Names are past tense: something happened.

A field is added as optional (with a default) to stay compatible; removing, retyping or adding a
required field is a breaking change that needs a new `version` (see tests/test_schema_snapshots).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .envelope import EventData


class CaseType(StrEnum):
    COMPLAINT = "complaint"
    CLAIM = "claim"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    COMPLIMENT = "compliment"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB_FORM = "web_form"
    CHAT = "chat"
    IN_PERSON = "in_person"
    LETTER = "letter"
    SOCIAL = "social"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


# --- intake ---------------------------------------------------------------------------------


class CaseOpened(EventData):
    event_type = "case.opened"
    version = 1

    case_id: uuid.UUID
    case_number: str = Field(description="Human case number, e.g. AT-2026-000123")
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime
    language: str = Field(default="es", description="Customer's preferred language (BCP 47)")


# --- routing --------------------------------------------------------------------------------


class CaseAssigned(EventData):
    event_type = "case.assigned"
    version = 1

    case_id: uuid.UUID
    case_number: str
    team: str
    agent_id: str | None = None
    assigned_at: datetime


class CaseResolved(EventData):
    event_type = "case.resolved"
    version = 1

    case_id: uuid.UUID
    case_number: str
    resolution: str
    resolved_at: datetime


# --- surveys --------------------------------------------------------------------------------


class SurveyInvited(EventData):
    event_type = "survey.invited"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    survey_url: str
    expires_at: datetime


class SurveyAnswered(EventData):
    event_type = "survey.answered"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    satisfaction: int = Field(ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    comment: str | None = None
    answered_at: datetime


# --- notifications --------------------------------------------------------------------------


class NotificationSent(EventData):
    event_type = "notification.sent"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel
    recipient: str
    sent_at: datetime


class NotificationFailed(EventData):
    event_type = "notification.failed"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel
    attempts: int
    error: str
    failed_at: datetime


ALL_EVENTS: tuple[type[EventData], ...] = (
    CaseOpened,
    CaseAssigned,
    CaseResolved,
    SurveyInvited,
    SurveyAnswered,
    NotificationSent,
    NotificationFailed,
)
