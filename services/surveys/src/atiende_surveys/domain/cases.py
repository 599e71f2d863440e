"""What surveys knows of a case, from case.opened: who would be asked, in which language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CaseFacts:
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID
    language: str
    opened_at: datetime
