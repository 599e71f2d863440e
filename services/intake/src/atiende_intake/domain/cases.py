"""Cases as intake sees them: what a valid new case is, and how case numbers read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from atiende_contracts import CaseOpened, CaseType, Channel, Formality, Severity, Tier

from .contacts import CATALOGUE_CODE

CASE_NUMBER_PREFIX = "AT"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class OpenCase(BaseModel):
    """The command to open a case directly (an agent's decision: it never joins another case;
    use POST /contacts for a contact that should join the customer's open case)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: CustomerIn
    type: CaseType
    channel: Channel
    description: str = Field(min_length=1, max_length=5000)
    motive: str | None = Field(
        default=None,
        pattern=CATALOGUE_CODE,
        description="Defaults to the configured default motive",
    )
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)


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
