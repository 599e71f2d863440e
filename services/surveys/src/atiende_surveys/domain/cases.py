"""What surveys knows of cases and customers, from other services' events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from atiende_contracts import Formality


@dataclass(frozen=True)
class CaseFacts:
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID
    language: str
    opened_at: datetime
    formality: Formality | None = None
    type: str | None = None
    region: str | None = None
    open: bool = True
    agent_id: str | None = None
    team: str | None = None
    test: bool = False
    tier: str | None = None


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: uuid.UUID
    consent_surveys: bool | None = None
    language: str | None = None
    formality: Formality | None = None
    opt_outs: frozenset[str] = frozenset()
