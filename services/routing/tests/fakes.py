"""In memory: routing's unit of work and repositories, for unit tests without infrastructure.
tests/integration/test_routing_repository_contract.py holds them to the PostgreSQL behaviour."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from atiende_contracts import EventData
from atiende_routing.domain.cases import RoutedCase


class FakeCasesRepository:
    def __init__(self, *cases: RoutedCase) -> None:
        self.cases: dict[uuid.UUID, RoutedCase] = {case.id: case for case in cases}
        self.assignments: dict[uuid.UUID, int] = {}

    async def add(self, case: RoutedCase) -> bool:
        if case.id in self.cases:
            return False
        self.cases[case.id] = case
        return True

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None:
        return self.cases.get(case_id)

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        return self.cases.get(case_id)

    async def save_assignment(self, case: RoutedCase) -> None:
        self._update(case, status=case.status, team=case.team, assigned_at=case.assigned_at)
        self.assignments[case.id] = self.assignments.get(case.id, 0) + 1

    async def save_resolution(self, case: RoutedCase) -> None:
        self._update(
            case,
            status=case.status,
            resolved_at=case.resolved_at,
            resolution=case.resolution,
        )

    def _update(self, case: RoutedCase, **columns: Any) -> None:
        # like the SQL: only the named columns change, and an unknown id changes nothing
        stored = self.cases.get(case.id)
        if stored is not None:
            self.cases[case.id] = replace(stored, **columns)


class FakeUnitOfWork:
    def __init__(self, *cases: RoutedCase) -> None:
        self.cases = FakeCasesRepository(*cases)
        self.emitted: list[EventData] = []
        self.subjects: list[str | uuid.UUID | None] = []

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> None:
        self.emitted.append(data)
        self.subjects.append(subject)
