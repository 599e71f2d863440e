"""The case lifecycle as routing sees it. Pure: decisions only, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from atiende_contracts import CaseAssigned, CaseResolved


class CaseStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class LifecycleError(Exception):
    """A transition the case's current status does not allow."""


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

    def assign(self, team: str, at: datetime) -> tuple[RoutedCase, CaseAssigned]:
        if self.status is not CaseStatus.NEW:
            raise LifecycleError(f"case {self.number} is {self.status}, not new")
        case = replace(self, status=CaseStatus.ASSIGNED, team=team, assigned_at=at)
        return case, CaseAssigned(
            case_id=self.id, case_number=self.number, team=team, assigned_at=at
        )

    def resolve(self, resolution: str, at: datetime) -> tuple[RoutedCase, CaseResolved]:
        if self.status is CaseStatus.RESOLVED:
            raise LifecycleError(f"case {self.number} is already resolved")
        case = replace(self, status=CaseStatus.RESOLVED, resolved_at=at, resolution=resolution)
        return case, CaseResolved(
            case_id=self.id, case_number=self.number, resolution=resolution, resolved_at=at
        )


def choose_team(case_type: str, default_team: str) -> str:
    """The routing rule of the thin flow: every case goes to the default team."""
    return default_team
