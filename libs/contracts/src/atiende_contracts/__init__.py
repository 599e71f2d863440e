"""Atiende event contracts. Imports pydantic only: no framework, no I/O."""

from .envelope import Envelope, EventData, routing_key_for_type
from .events import (
    ALL_EVENTS,
    CaseAssigned,
    CaseOpened,
    CaseResolved,
    CaseType,
    Channel,
    NotificationChannel,
    NotificationFailed,
    NotificationSent,
    SurveyAnswered,
    SurveyInvited,
)
from .registry import BY_ROUTING_KEY, BY_TYPE, UnknownEventType, json_schema, model_for, parse_data
from .topology import Names

__all__ = [
    "ALL_EVENTS",
    "BY_ROUTING_KEY",
    "BY_TYPE",
    "CaseAssigned",
    "CaseOpened",
    "CaseResolved",
    "CaseType",
    "Channel",
    "Envelope",
    "EventData",
    "Names",
    "NotificationChannel",
    "NotificationFailed",
    "NotificationSent",
    "SurveyAnswered",
    "SurveyInvited",
    "UnknownEventType",
    "json_schema",
    "model_for",
    "parse_data",
    "routing_key_for_type",
]
