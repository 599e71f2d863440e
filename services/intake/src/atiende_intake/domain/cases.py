"""Cases as intake sees them: what a case holds, and how case numbers read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from atiende_contracts import (
    CaseMerged,
    CaseOpened,
    CaseReclassified,
    CaseType,
    Channel,
    Classification,
    Formality,
    NotificationChannel,
    Severity,
    Tier,
)

from .contacts import CaseRef, CaseStatus

CASE_NUMBER_PREFIX = "AT"


def case_number(year: int, sequence: int) -> str:
    """Human case numbers, sequential per year: AT-2026-000123."""
    return f"{CASE_NUMBER_PREFIX}-{year}-{sequence:06d}"


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str | None
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime
    motive: str
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    severity: Severity | None = None
    upset: bool = False
    expectation: str | None = None
    contact_id: uuid.UUID | None = None
    """The contact it was opened for (only when opening: the event carries it)."""
    status: CaseStatus = CaseStatus.OPEN
    status_changed_at: datetime | None = None
    version: int = 1
    """Bumped by every triage change: the ETag an agent sends back as If-Match."""
    merged_into: uuid.UUID | None = None
    related_case_id: uuid.UUID | None = None
    """The case this one was split from."""
    opened_by: str | None = None
    """The staff member who opened it for the customer; None when the customer did."""

    @property
    def ref(self) -> CaseRef:
        return CaseRef(
            self.id,
            self.number,
            self.customer_id,
            self.motive,
            self.status,
            self.opened_at,
            self.merged_into,
        )

    @property
    def classification(self) -> Classification:
        return Classification(
            type=self.type,
            motive=self.motive,
            cause=self.cause,
            touchpoint=self.touchpoint,
            product=self.product,
            severity=self.severity,
            upset=self.upset,
        )

    def opened_event(
        self,
        *,
        language: str = "es",
        formality: Formality | None = None,
        tier: Tier | None = None,
        consent_surveys: bool | None = None,
        consent_marketing: bool | None = None,
        preferred_channel: NotificationChannel | None = None,
        customer_phone: str | None = None,
    ) -> CaseOpened:
        return CaseOpened(
            case_id=self.id,
            case_number=self.number,
            customer_id=self.customer_id,
            customer_name=self.customer_name,
            customer_email=self.customer_email,
            type=self.type,
            channel=self.channel,
            description=self.description,
            opened_at=self.opened_at,
            language=language,
            motive=self.motive,
            cause=self.cause,
            touchpoint=self.touchpoint,
            contact_id=self.contact_id,
            formality=formality,
            tier=tier,
            severity=self.severity,
            upset=self.upset,
            expectation=self.expectation,
            consent_surveys=consent_surveys,
            consent_marketing=consent_marketing,
            preferred_channel=preferred_channel,
            customer_phone=customer_phone,
            product=self.product,
            related_case_id=self.related_case_id,
            actor=self.opened_by,
        )


@dataclass(frozen=True)
class Reclassification:
    """Triage's change of a case's classification: None leaves a field as it is; `clear` names
    optional fields to empty (a cause that no longer applies)."""

    type: CaseType | None = None
    motive: str | None = None
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    severity: Severity | None = None
    upset: bool | None = None
    clear: frozenset[str] = frozenset()

    CLEARABLE = frozenset({"cause", "touchpoint", "product", "severity"})

    def applied_to(self, case: Case) -> Case:
        changed: dict[str, object] = {
            name: value
            for name in ("type", "motive", "cause", "touchpoint", "product", "severity", "upset")
            if (value := getattr(self, name)) is not None
        }
        changed.update({name: None for name in self.clear & self.CLEARABLE})
        if "motive" in changed and "cause" not in changed and case.cause is not None:
            # a cause belongs to its motive: a new motive drops the old motive's cause
            changed["cause"] = None
        return replace(case, **changed)  # type: ignore[arg-type]


def reclassified_event(
    before: Case, after: Case, reason: str, actor: str | None, at: datetime
) -> CaseReclassified:
    return CaseReclassified(
        case_id=after.id,
        case_number=after.number,
        before=before.classification,
        after=after.classification,
        reason=reason,
        actor=actor,
        reclassified_at=at,
    )


def merged_event(
    absorbed: Case, into: Case, reason: str, actor: str | None, at: datetime
) -> CaseMerged:
    return CaseMerged(
        case_id=absorbed.id,
        case_number=absorbed.number,
        into_case_id=into.id,
        into_case_number=into.number,
        customer_id=into.customer_id,
        reason=reason,
        actor=actor,
        merged_at=at,
    )


def case_merge_refusal(absorbed: Case, into: Case) -> str | None:
    """Why two cases cannot be merged, or None."""
    if absorbed.id == into.id:
        return "a case cannot be merged into itself"
    if absorbed.customer_id != into.customer_id:
        return "only two cases of one customer can be merged"
    for case in (absorbed, into):
        if case.merged_into is not None:
            return f"case {case.number} was already merged into another"
    return None
