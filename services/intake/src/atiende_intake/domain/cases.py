"""Cases as intake sees them: what a case holds, and how case numbers read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from atiende_contracts import CaseOpened, CaseType, Channel, Formality, Severity, Tier

from .contacts import CaseStatus

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

    def opened_event(
        self,
        *,
        language: str = "es",
        formality: Formality | None = None,
        tier: Tier | None = None,
        consent_surveys: bool | None = None,
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
        )
