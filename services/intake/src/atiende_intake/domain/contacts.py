"""Contacts — every interaction with a customer — and the rule "one case per problem": a customer
never has to tell the same complaint twice. Pure: the decision, not the lookups."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atiende_contracts import (
    CaseContactLinked,
    Channel,
    ContactKind,
    ContactReceived,
    Direction,
    LinkReason,
    MomentOfTruth,
    Severity,
)

from .catalogue import Classification
from .customers import CustomerRef

CASE_NUMBER_PATTERN = r"AT-\d{4}-\d{6}"
CASE_NUMBER_RE = re.compile(CASE_NUMBER_PATTERN)
CATALOGUE_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"
TEXT_MAX_LENGTH = 10_000
EXPECTATION_MAX_LENGTH = 2000
AGENT_ID_MAX_LENGTH = 100

OPENS_CASE = frozenset({ContactKind.COMPLAINT, ContactKind.CLAIM, ContactKind.INFORMATION_REQUEST})
"""Complaints, claims and requests need someone to act; suggestions and compliments are counted."""


def cause_needs_motive(cause: str | None, info: ValidationInfo) -> str | None:
    """Field validator for a `cause` declared after its `motive`: a cause only refines a motive.
    (A motive that failed its own validation is reported already, so it is not checked here.)"""
    if cause is not None and "motive" in info.data and info.data["motive"] is None:
        raise ValueError("a cause is given only together with its motive")
    return cause


class Attachment(BaseModel):
    """An attachment's facts (its content is not stored)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=255)
    size: int = Field(ge=0)
    content_type: str = Field(default="application/octet-stream", max_length=255)


class RecordContact(BaseModel):
    """The command to record a contact, from any channel."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: CustomerRef
    kind: ContactKind
    channel: Channel
    direction: Direction = Direction.INBOUND
    text: str = Field(
        min_length=1, max_length=TEXT_MAX_LENGTH, description="What the customer said"
    )
    expectation: str | None = Field(
        default=None,
        max_length=EXPECTATION_MAX_LENGTH,
        description='"What would solve this for you?"',
    )
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = Field(default=False, description="The customer is upset: answer fast, escalate")
    motive: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    touchpoint: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    product: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    agent_id: str | None = Field(
        default=None, max_length=AGENT_ID_MAX_LENGTH, description="Who recorded it"
    )
    case_number: str | None = Field(
        default=None,
        pattern=f"^{CASE_NUMBER_PATTERN}$",
        description="The case this contact is about; it then always joins that case",
    )
    received_at: datetime | None = Field(default=None, description="Defaults to now")
    external_ref: str | None = Field(
        default=None, max_length=500, description="The channel's own id (an email's Message-ID)"
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @field_validator("received_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-11-24T10:00:00Z)")
        if value > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("a contact cannot be received in the future")
        return value

    @field_validator("cause")
    @classmethod
    def _cause_needs_motive(cls, cause: str | None, info: ValidationInfo) -> str | None:
        return cause_needs_motive(cause, info)

    @property
    def classification(self) -> Classification:
        return Classification(self.motive, self.cause, self.touchpoint, self.product)


class CaseStatus(StrEnum):
    """Intake's copy of a case's lifecycle, learnt from routing's events. Only an open case is
    joined by a repeat contact about the same problem."""

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass(frozen=True)
class CaseRef:
    """What the decision needs to know about an existing case."""

    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    motive: str
    status: CaseStatus
    opened_at: datetime


class Outcome(StrEnum):
    OPENED = "opened"
    JOINED = "joined"
    RECORDED = "recorded"


@dataclass(frozen=True)
class CaseDecision:
    outcome: Outcome
    case: CaseRef | None = None
    reason: LinkReason | None = None


def decide_case(
    kind: ContactKind,
    named_case: CaseRef | None,
    same_problem_cases: list[CaseRef],
    received_at: datetime,
    window: timedelta,
) -> CaseDecision:
    """Join, open, or only record.

    - a contact naming a case always joins it (whatever its kind and the case's status);
    - a complaint, claim or request joins the customer's newest open case with the same motive
      opened at most `window` before the contact was received (a contact received before the
      case opened, e.g. a letter recorded late, is about the same open problem and joins too);
      otherwise it opens a new case;
    - a suggestion or compliment is recorded and counted, and opens nothing.
    """
    if named_case is not None:
        return CaseDecision(Outcome.JOINED, named_case, LinkReason.CASE_NUMBER)
    if kind not in OPENS_CASE:
        return CaseDecision(Outcome.RECORDED)
    candidates = [
        c
        for c in same_problem_cases
        if c.status == CaseStatus.OPEN and received_at - c.opened_at <= window
    ]
    if candidates:
        newest = max(candidates, key=lambda c: (c.opened_at, c.number))
        return CaseDecision(Outcome.JOINED, newest, LinkReason.SAME_PROBLEM)
    return CaseDecision(Outcome.OPENED)


def serialisation_key(*parts: str) -> int:
    """A PostgreSQL advisory-lock key (signed 64-bit) for a natural key such as an identity.
    Two different natural keys sharing a lock key only wait for each other needlessly."""
    digest = hashlib.sha256("\x1f".join(("atiende.intake", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Contact:
    id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None
    command: RecordContact
    motive: str | None
    received_at: datetime
    outcome: Outcome
    link_reason: LinkReason | None = None

    def received_event(self, returning_customer: bool) -> ContactReceived:
        c = self.command
        return ContactReceived(
            contact_id=self.id,
            customer_id=self.customer_id,
            case_id=self.case_id,
            kind=c.kind,
            channel=c.channel,
            direction=c.direction,
            touchpoint=c.touchpoint,
            moment_of_truth=c.moment_of_truth,
            motive=self.motive,
            severity=c.severity,
            upset=c.upset,
            returning_customer=returning_customer,
            received_at=self.received_at,
        )

    def linked_event(self, case: CaseRef, reason: LinkReason, at: datetime) -> CaseContactLinked:
        return CaseContactLinked(
            case_id=case.id,
            case_number=case.number,
            contact_id=self.id,
            customer_id=self.customer_id,
            channel=self.command.channel,
            reason=reason,
            linked_at=at,
        )


def case_number_in(text: str) -> str | None:
    """The first case number written in a text (an email subject, a form field)."""
    match = CASE_NUMBER_RE.search(text)
    return match.group(0) if match else None
