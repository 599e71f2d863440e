"""Durable timers: one row per deadline (an SLA warning or breach, a commitment falling due…),
fired once by whichever worker claims it first. Pure: the row as a value."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TimerOutcome(StrEnum):
    FIRED = "fired"
    """Its handler acted (and emitted whatever it emits in the same transaction)."""
    STALE = "stale"
    """What it was set for no longer holds (the clock was met, paused or moved): nothing to do."""
    UNKNOWN_KIND = "unknown_kind"
    """No handler is registered for its kind; set aside so it does not block the queue."""


@dataclass(frozen=True)
class Timer:
    kind: str
    case_id: uuid.UUID
    ref: str
    """What it is for, unique among the case's pending timers of this kind (e.g. a clock and
    threshold, or a commitment id): scheduling the same kind and ref again moves the deadline."""
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    fired_at: datetime | None = None
    fired_by: str | None = None
    outcome: TimerOutcome | None = None
