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
        self.sla_policies = FakeSlaPoliciesRepository()
        self.clocks = FakeClocksRepository()
        self.timers = FakeTimersRepository()
        self.emitted: list[EventData] = []
        self.subjects: list[str | uuid.UUID | None] = []

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> None:
        self.emitted.append(data)
        self.subjects.append(subject)


# --- SLA: policies, clocks, timers (like repository/sla.py and repository/timers.py) ----------


class FakeSlaPoliciesRepository:
    def __init__(self) -> None:
        from atiende_routing.domain.sla import DEFAULT_PAUSE_REASONS, DEFAULT_POLICY
        from atiende_routing.repository.sla import PauseReason

        self.versions: dict[tuple[str, int], Any] = {(DEFAULT_POLICY.id, 1): DEFAULT_POLICY}
        self.reasons = [PauseReason(code, label) for code, label in DEFAULT_PAUSE_REASONS]

    async def get(self, policy_id: str, version: int | None = None) -> Any:
        found = [
            p
            for (pid, v), p in self.versions.items()
            if pid == policy_id and (version is None or v == version)
        ]
        return max(found, key=lambda p: p.version) if found else None

    async def current(self) -> list[Any]:
        ids = sorted({pid for pid, _ in self.versions})
        return [await self.get(pid) for pid in ids]

    async def add(self, policy: Any) -> bool:
        if (policy.id, policy.version) in self.versions:
            return False
        self.versions[(policy.id, policy.version)] = policy
        return True

    async def pause_reasons(self) -> list[Any]:
        return list(self.reasons)

    async def set_pause_reasons(self, reasons: Any) -> None:
        self.reasons = list(reasons)


class FakeClocksRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, str, int], Any] = {}

    async def current(self, case_id: uuid.UUID) -> list[Any]:
        from atiende_contracts import SlaClock

        latest: dict[str, Any] = {}
        for (cid, name, _), clock in sorted(self.rows.items(), key=lambda kv: kv[0][2]):
            if cid == case_id:
                latest[name] = clock
        order = list(SlaClock)
        return sorted(latest.values(), key=lambda c: order.index(c.name))

    async def get(self, case_id: uuid.UUID, name: Any, *, for_update: bool = False) -> Any:
        cycles = [c for (cid, n, _), c in self.rows.items() if cid == case_id and n == name]
        return max(cycles, key=lambda c: c.cycle) if cycles else None

    async def history(self, case_id: uuid.UUID) -> list[Any]:
        return sorted(
            (c for (cid, _, _), c in self.rows.items() if cid == case_id),
            key=lambda c: (c.started_at, c.name, c.cycle),
        )

    async def save(self, clock: Any) -> None:
        self.rows[(clock.case_id, str(clock.name), clock.cycle)] = clock


class FakeTimersRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Any] = {}

    async def schedule(self, timer: Any) -> None:
        for row in self.rows.values():
            if row.fired_at is None and (row.case_id, row.kind, row.ref) == (
                timer.case_id,
                timer.kind,
                timer.ref,
            ):
                self.rows[row.id] = replace(row, due_at=timer.due_at, payload=timer.payload)
                return
        self.rows[timer.id] = timer

    async def cancel(self, case_id: uuid.UUID, *, kinds: Any, ref_prefix: str = "") -> int:
        gone = [
            t.id
            for t in self.rows.values()
            if t.case_id == case_id
            and t.kind in kinds
            and t.fired_at is None
            and t.ref.startswith(ref_prefix)
        ]
        for timer_id in gone:
            del self.rows[timer_id]
        return len(gone)

    async def claim_due(self, now: Any, limit: int) -> list[Any]:
        due = [t for t in self.rows.values() if t.fired_at is None and t.due_at <= now]
        return sorted(due, key=lambda t: t.due_at)[:limit]

    async def mark_fired(self, timer_ids: Any, outcome: Any, at: Any, by: str) -> None:
        for timer_id in timer_ids:
            row = self.rows.get(timer_id)
            if row is not None and row.fired_at is None:
                self.rows[timer_id] = replace(row, fired_at=at, fired_by=by, outcome=outcome)

    async def next_due(self) -> Any:
        pending = [t.due_at for t in self.rows.values() if t.fired_at is None]
        return min(pending) if pending else None

    async def pending(self, case_id: uuid.UUID) -> list[Any]:
        return sorted(
            (t for t in self.rows.values() if t.case_id == case_id and t.fired_at is None),
            key=lambda t: (t.due_at, t.ref),
        )
