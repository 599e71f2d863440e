"""Cases as intake sees them: what a valid new case is, and how case numbers read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atiende_contracts import (
    CaseOpened,
    CaseType,
    Channel,
    ContactKind,
    Formality,
    MomentOfTruth,
    Severity,
    Tier,
)

from .contacts import (
    AGENT_ID_MAX_LENGTH,
    CATALOGUE_CODE,
    EXPECTATION_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    RecordContact,
    cause_needs_motive,
)
from .customers import CustomerRef

CASE_NUMBER_PREFIX = "AT"


class OpenCase(BaseModel):
    """The command to open a case directly (an agent's decision: it never joins another case;
    use POST /contacts for a contact that should join the customer's open case). The contact
    it comes from is recorded with it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: CustomerRef
    type: CaseType
    channel: Channel
    description: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH)
    motive: str | None = Field(
        default=None,
        pattern=CATALOGUE_CODE,
        description="Defaults to the configured default motive",
    )
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    touchpoint: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    product: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = False
    expectation: str | None = Field(default=None, max_length=EXPECTATION_MAX_LENGTH)
    agent_id: str | None = Field(default=None, max_length=AGENT_ID_MAX_LENGTH)

    # the same rule as RecordContact's, checked here so that as_contact() cannot fail
    @field_validator("cause")
    @classmethod
    def _cause_needs_motive(cls, cause: str | None, info: ValidationInfo) -> str | None:
        return cause_needs_motive(cause, info)

    def as_contact(self) -> RecordContact:
        """The contact this case is opened for (every field was validated as RecordContact
        would validate it)."""
        return RecordContact(
            customer=self.customer,
            kind=ContactKind(self.type.value),
            channel=self.channel,
            text=self.description,
            motive=self.motive,
            cause=self.cause,
            touchpoint=self.touchpoint,
            product=self.product,
            moment_of_truth=self.moment_of_truth,
            severity=self.severity,
            upset=self.upset,
            expectation=self.expectation,
            agent_id=self.agent_id,
        )


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
