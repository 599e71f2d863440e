"""Every Atiende event's data, as pydantic models. Names are past tense: something happened.

A field is added as optional (with a default) to stay compatible; removing, retyping or adding a
required field is a breaking change that needs a new `version` (see
libs/contract-tools/tests/test_schema_snapshots.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
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


class ContactKind(StrEnum):
    """What the customer came for. Complaints, claims and requests open or join a case;
    suggestions and compliments are recorded and counted."""

    COMPLAINT = "complaint"
    CLAIM = "claim"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    COMPLIMENT = "compliment"


class MomentOfTruth(StrEnum):
    """The nine moments of truth of the service literature: the situation the contact was."""

    ARRIVES_OR_ASKS = "arrives_or_asks"
    UPSET_OR_DEFENSIVE = "upset_or_defensive"
    SPECIAL_REQUEST = "special_request"
    UNDECIDED = "undecided"
    OBJECTIONS = "objections"
    BUYING_SIGNALS = "buying_signals"
    PURCHASE = "purchase"
    REFUSES_TO_BUY = "refuses_to_buy"
    COMPLAINT = "complaint"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Tier(StrEnum):
    STANDARD = "standard"
    VIP = "vip"


class Formality(StrEnum):
    """How to address the customer: formal (usted) or informal (tú)."""

    FORMAL = "formal"
    INFORMAL = "informal"


class CatalogueKind(StrEnum):
    MOTIVE = "motive"
    CAUSE = "cause"
    TOUCHPOINT = "touchpoint"
    PRODUCT = "product"


class LinkReason(StrEnum):
    CASE_NUMBER = "case_number"
    """The contact named the case (a number in the form, an email reply's subject)."""
    SAME_PROBLEM = "same_problem"
    """Same customer, same motive, an open case within the joining window."""


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
    customer_email: str | None = Field(
        description="Where to write to the customer; null when only a phone or a handle is known"
    )
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime
    language: str = Field(default="es", description="Customer's preferred language (BCP 47)")
    motive: str | None = Field(default=None, description="Catalogue code of the case's motive")
    cause: str | None = Field(default=None, description="Catalogue code of the cause, if known")
    touchpoint: str | None = Field(default=None, description="Catalogue code of the touchpoint")
    contact_id: uuid.UUID | None = Field(default=None, description="The contact that opened it")
    formality: Formality | None = Field(default=None, description="Formal (usted) or informal (tú)")
    tier: Tier | None = None
    severity: Severity | None = None
    upset: bool | None = None
    expectation: str | None = Field(
        default=None, description="What would solve it for the customer"
    )
    consent_surveys: bool | None = Field(default=None, description="May the customer be surveyed")


class ContactReceived(EventData):
    """Any interaction with a customer, whether or not it opened or joined a case."""

    event_type = "contact.received"
    version = 1

    contact_id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: ContactKind
    channel: Channel
    direction: Direction
    touchpoint: str | None
    moment_of_truth: MomentOfTruth | None
    motive: str | None
    severity: Severity | None
    upset: bool
    returning_customer: bool = Field(description="The customer had contacted us before")
    received_at: datetime


class CaseContactLinked(EventData):
    """A repeat contact about a problem joined its existing case instead of opening another."""

    event_type = "case.contact_linked"
    version = 1

    case_id: uuid.UUID
    case_number: str
    contact_id: uuid.UUID
    customer_id: uuid.UUID
    channel: Channel
    reason: LinkReason
    linked_at: datetime


class CustomerProfileChanged(EventData):
    """A customer's tier, language, formality or consent changed (or the customer was created)."""

    event_type = "customer.profile_changed"
    version = 1

    customer_id: uuid.UUID
    tier: Tier
    language: str
    formality: Formality
    consent_surveys: bool
    consent_marketing: bool
    changed_at: datetime


class CustomerMerged(EventData):
    """Two records were the same person: the source's identities, contacts and cases moved to
    the target. Copies keyed by the source customer should follow."""

    event_type = "customer.merged"
    version = 1

    merge_id: uuid.UUID
    source_customer_id: uuid.UUID
    target_customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    merged_at: datetime


class CustomerMergeUndone(EventData):
    event_type = "customer.merge_undone"
    version = 1

    merge_id: uuid.UUID
    source_customer_id: uuid.UUID
    target_customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    undone_at: datetime


class CustomerErased(EventData):
    """The customer's personal data was pseudonymised; every service must scrub its copies.
    Counts and history without personal data survive for the indicators."""

    event_type = "customer.erased"
    version = 1

    customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    erased_at: datetime


class CatalogueEntryChanged(EventData):
    """A catalogue entry (motive, cause, touchpoint, product) was created or changed."""

    event_type = "catalogue.entry_changed"
    version = 1

    kind: CatalogueKind
    code: str
    parent_code: str | None
    name_es: str
    name_en: str
    active: bool
    valid_from: date | None
    valid_to: date | None
    changed_at: datetime


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
    ContactReceived,
    CaseContactLinked,
    CustomerProfileChanged,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerErased,
    CatalogueEntryChanged,
    CaseAssigned,
    CaseResolved,
    SurveyInvited,
    SurveyAnswered,
    NotificationSent,
    NotificationFailed,
)
