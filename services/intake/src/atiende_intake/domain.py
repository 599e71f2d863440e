"""Intake's domain: what a valid new case is, and how case numbers read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from atiende_contracts import CaseOpened, CaseType, Channel

CASE_NUMBER_PREFIX = "AT"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class OpenCase(BaseModel):
    """The command to open a case, as a customer or agent submits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: CustomerIn
    type: CaseType
    channel: Channel
    description: str = Field(min_length=1, max_length=5000)


def case_number(year: int, sequence: int) -> str:
    """Human case numbers, sequential per year: AT-2026-000123."""
    return f"{CASE_NUMBER_PREFIX}-{year}-{sequence:06d}"


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime

    def opened_event(self) -> CaseOpened:
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
        )
