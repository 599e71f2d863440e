"""The closed loop with surveys: a detractor's answer opens a recovery case linked to the case
the customer answered about; a satisfied answer after the resolution is step 7b. Pure: no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from atiende_contracts import CaseStatus

from .cases import RoutedCase

SURVEYS = "surveys"
"""The author of what routing records on the survey's word (step 7b, timeline notes)."""

RECOVERY_TYPE = "complaint"
"""A detractor is a complaint nobody filed: the seven steps' gates apply to its recovery."""

SATISFIED_CSAT = 4
"""CSAT 4-5 (and the 1-5 `satisfaction` of any answer) counts as satisfied."""


def recovery_id(original_id: uuid.UUID, invitation_id: uuid.UUID) -> uuid.UUID:
    """The same detractor answer always names the same recovery case (a redelivery is a no-op)."""
    return uuid.uuid5(original_id, str(invitation_id))


def recovery_number(original_number: str, earlier: int) -> str:
    """`<original>-R` for the first recovery of a case, then -R2, -R3 ..."""
    return f"{original_number}-R" if earlier == 0 else f"{original_number}-R{earlier + 1}"


def recovery_case(
    original: RoutedCase, *, case_id: uuid.UUID, number: str, at: datetime
) -> RoutedCase:
    """A new complaint about the same customer and facts as `original`, linked to it; routing's
    own work item (intake numbers customers' cases, so this one borrows the original's number)."""
    return replace(
        original,
        id=case_id,
        number=number,
        type=RECOVERY_TYPE,
        status=CaseStatus.NEW,
        opened_at=at,
        team=None,
        assigned_at=None,
        resolved_at=None,
        resolution=None,
        agent_id=None,
        rule_id=None,
        rule_version=None,
        expectation=None,
        escalation=None,
        responsible_id=None,
        waiting_reason=None,
        waiting_note=None,
        closed_at=None,
        close_reason=None,
        reopened_at=None,
        merged_into=None,
        recovery_of=original.id,
        sla_due_at=None,
        version=1,
    )


def shows_satisfaction(scores: Mapping[str, float] | None, satisfaction: int) -> bool:
    """CSAT 4-5 when the answer has a CSAT score, else its 1-5 satisfaction of 4 or more."""
    if scores and "csat" in scores:
        return scores["csat"] >= SATISFIED_CSAT
    return satisfaction >= SATISFIED_CSAT
