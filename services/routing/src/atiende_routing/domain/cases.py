"""The case lifecycle as routing sees it: each method checks the TRANSITIONS table and returns
the new case with the event that tells the others. Pure: decisions only, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from atiende_contracts import CaseAssigned, CaseOpened, CaseResolved

from .errors import IllegalTransition


class CaseStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    # a case may be resolved before anyone is assigned (e.g. answered at first contact)
    CaseStatus.NEW: frozenset({CaseStatus.ASSIGNED, CaseStatus.RESOLVED}),
    CaseStatus.ASSIGNED: frozenset({CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset(),
}
"""The statuses each status may move to; anything else is an IllegalTransition."""


@dataclass(frozen=True)
class RoutedCase:
    id: uuid.UUID
    number: str
    type: str
    status: CaseStatus
    opened_at: datetime
    team: str | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None

    @classmethod
    def opened(cls, event: CaseOpened) -> RoutedCase:
        """A new case, as intake opened it."""
        return cls(
            id=event.case_id,
            number=event.case_number,
            type=event.type.value,
            status=CaseStatus.NEW,
            opened_at=event.opened_at,
        )

    def can_become(self, target: CaseStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def _check(self, target: CaseStatus) -> None:
        if not self.can_become(target):
            raise IllegalTransition(self.number, self.status, target, TRANSITIONS[self.status])

    def assign(self, team: str, at: datetime) -> tuple[RoutedCase, CaseAssigned]:
        self._check(CaseStatus.ASSIGNED)
        case = replace(self, status=CaseStatus.ASSIGNED, team=team, assigned_at=at)
        return case, CaseAssigned(
            case_id=self.id, case_number=self.number, team=team, assigned_at=at
        )

    def resolve(self, resolution: str, at: datetime) -> tuple[RoutedCase, CaseResolved]:
        self._check(CaseStatus.RESOLVED)
        case = replace(self, status=CaseStatus.RESOLVED, resolved_at=at, resolution=resolution)
        return case, CaseResolved(
            case_id=self.id, case_number=self.number, resolution=resolution, resolved_at=at
        )
