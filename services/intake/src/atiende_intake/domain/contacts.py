"""Contacts — every interaction with a customer — and the rule "one case per problem": a customer
never has to tell the same complaint twice. Pure: the decision, not the lookups."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

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
TEXT_MAX_LENGTH = 10_000
EXPECTATION_MAX_LENGTH = 2000
AGENT_ID_MAX_LENGTH = 100

OPENS_CASE = frozenset({ContactKind.COMPLAINT, ContactKind.CLAIM, ContactKind.INFORMATION_REQUEST})
"""Complaints, claims and requests need someone to act; suggestions and compliments are counted."""


@dataclass(frozen=True)
class Attachment:
    """An attachment's facts (its content is not stored)."""

    name: str
    size: int
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class RecordContact:
    """The command to record a contact, from any channel (already validated by its door)."""

    customer: CustomerRef
    kind: ContactKind
    channel: Channel
    text: str
    direction: Direction = Direction.INBOUND
    expectation: str | None = None
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = False
    motive: str | None = None
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    agent_id: str | None = None
    case_number: str | None = None
    received_at: datetime | None = None
    external_ref: str | None = None
    attachments: tuple[Attachment, ...] = ()
    case_link_reason: LinkReason = LinkReason.CASE_NUMBER
    """How `case_number` was named: written by the customer or an agent, or found from an
    email's thread headers."""

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
    merged_into: uuid.UUID | None = None
    """Set when the case was merged into another: contacts naming it go to that one."""


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
    link_reason: LinkReason = LinkReason.CASE_NUMBER,
) -> CaseDecision:
    """Join, open, or only record.

    - a contact naming a case (by its number, an email's thread header, an agent's choice:
      `link_reason`) always joins it, whatever its kind and the case's status (a resolved or
      closed case is routing's to reopen: the linked event says its status);
    - a complaint, claim or request joins the customer's newest open case with the same motive
      opened at most `window` before the contact was received (a contact received before the
      case opened, e.g. a letter recorded late, is about the same open problem and joins too);
      otherwise it opens a new case;
    - a suggestion or compliment is recorded and counted, and opens nothing.
    """
    if named_case is not None:
        return CaseDecision(Outcome.JOINED, named_case, link_reason)
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


@dataclass(frozen=True)
class Contact:
    """A recorded contact. `case_number` is read with it (the number of its case, if any)."""

    id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: ContactKind
    channel: Channel
    text: str
    motive: str | None
    received_at: datetime
    outcome: Outcome
    link_reason: LinkReason | None = None
    direction: Direction = Direction.INBOUND
    expectation: str | None = None
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = False
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    agent_id: str | None = None
    external_ref: str | None = None
    attachments: tuple[Attachment, ...] = ()
    case_number: str | None = None
    created_at: datetime | None = None

    @classmethod
    def recorded(
        cls,
        *,
        id: uuid.UUID,
        customer_id: uuid.UUID,
        case: CaseRef | None,
        command: RecordContact,
        motive: str | None,
        received_at: datetime,
        decision: CaseDecision,
    ) -> Contact:
        c = command
        return cls(
            id=id,
            customer_id=customer_id,
            case_id=case.id if case else None,
            case_number=case.number if case else None,
            kind=c.kind,
            channel=c.channel,
            direction=c.direction,
            text=c.text,
            motive=motive,
            received_at=received_at,
            outcome=decision.outcome,
            link_reason=decision.reason,
            expectation=c.expectation,
            moment_of_truth=c.moment_of_truth,
            severity=c.severity,
            upset=c.upset,
            cause=c.cause,
            touchpoint=c.touchpoint,
            product=c.product,
            agent_id=c.agent_id,
            external_ref=c.external_ref,
            attachments=c.attachments,
        )

    def received_event(self, returning_customer: bool) -> ContactReceived:
        return ContactReceived(
            contact_id=self.id,
            customer_id=self.customer_id,
            case_id=self.case_id,
            kind=self.kind,
            channel=self.channel,
            direction=self.direction,
            touchpoint=self.touchpoint,
            moment_of_truth=self.moment_of_truth,
            motive=self.motive,
            severity=self.severity,
            upset=self.upset,
            returning_customer=returning_customer,
            received_at=self.received_at,
        )

    def linked_event(self, case: CaseRef, reason: LinkReason, at: datetime) -> CaseContactLinked:
        """The contact joined `case`; its status as intake knows it tells routing whether this
        is a reopen request (resolved or closed)."""
        return CaseContactLinked(
            case_id=case.id,
            case_number=case.number,
            contact_id=self.id,
            customer_id=self.customer_id,
            channel=self.channel,
            reason=reason,
            linked_at=at,
            case_status=case.status.value,
            upset=self.upset,
        )


def case_number_in(text: str) -> str | None:
    """The first case number written in a text (an email subject, a form field)."""
    match = CASE_NUMBER_RE.search(text)
    return match.group(0) if match else None
