"""The escalation ladder: agent < senior < supervisor < manager. A case climbs one rank per
trigger (an upset customer goes straight above the agent), never goes down by itself, and only a
supervisor brings it down, with a reason. Pure: no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from atiende_contracts import EscalationReason, Rank
from atiende_runtime.errors import Conflict, FieldError, Invalid

LADDER: tuple[Rank, ...] = (Rank.AGENT, Rank.SENIOR, Rank.SUPERVISOR, Rank.MANAGER)


def order(level: Rank | None) -> int:
    """The rung: None (not escalated) is the agent's."""
    return LADDER.index(level or Rank.AGENT)


def next_level(current: Rank | None, reason: EscalationReason) -> Rank | None:
    """Where a trigger takes the case; None when it is already at the top (or, for an upset
    customer, already above the agent: upset asks for someone senior, not ever-higher ranks)."""
    if reason is EscalationReason.CUSTOMER_UPSET and order(current) >= order(Rank.SENIOR):
        return None
    rung = order(current) + 1
    return LADDER[rung] if rung < len(LADDER) else None


def manual_level(current: Rank | None, target: Rank | None) -> Rank:
    """A manual escalation: one rung up, or straight to a higher `target`."""
    if target is None:
        level = next_level(current, EscalationReason.MANUAL)
        if level is None:
            raise Conflict(
                "the case is already escalated to the top of the ladder (manager)",
                title="Case cannot be escalated",
            )
        return level
    if order(target) <= order(current):
        raise Invalid.field(
            "level",
            "above_current",
            f"escalation only climbs: the case is at {current or Rank.AGENT}, pick a higher rank",
        )
    return target


def lower_level(current: Rank | None, target: Rank | None, reason: str) -> Rank | None:
    """A supervisor's de-escalation: to `target` (default one rung down); None = back to agent."""
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "required", "say why the case comes down"))
    if current is None:
        raise Conflict("the case is not escalated", title="Case cannot be de-escalated")
    level = target if target is not None else LADDER[order(current) - 1]
    if order(level) >= order(current):
        errors.append(FieldError("level", "below_current", f"de-escalation goes below {current}"))
    if errors:
        raise Invalid(errors)
    return None if level is Rank.AGENT else level


@dataclass(frozen=True)
class EscalationRecord:
    """One move on the ladder, for the case's history."""

    case_id: uuid.UUID
    level: Rank
    reason: str
    responsible_id: str | None
    at: datetime
    actor: str | None = None
    note: str | None = None
    direction: str = "up"
