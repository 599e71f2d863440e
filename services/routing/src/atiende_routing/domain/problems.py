"""Problems: many customers with the same failure reveal a systemic one. A managed threshold
says when cases of one motive and root cause (optionally one touchpoint, product, region) are too
many — N within a window, or k times their usual rate — and a problem is then opened linking them.
A problem has an owner and a status that follows TRANSITIONS; its magnitude is computed live by
the repository. Pure: decisions only, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from atiende_contracts import (
    ProblemCase,
    ProblemDetected,
    ProblemResolved,
    RootCauseCategory,
)
from atiende_runtime.errors import Conflict, Invalid, NotFound

from .cases import RoutedCase

__all__ = [
    "BASELINE_PERIODS",
    "TRANSITIONS",
    "Magnitude",
    "Problem",
    "ProblemStatus",
    "Threshold",
    "Trigger",
]

BASELINE_PERIODS = 4
"""A baseline threshold compares its window with the mean of this many windows before it (with
the default window of 168 hours: the mean weekly count of the previous four weeks)."""


class Trigger(StrEnum):
    COUNT = "count"
    """At least `cases` matching cases within the window."""
    BASELINE = "baseline"
    """At least `cases` within the window and at least `factor` times the baseline."""


class ProblemStatus(StrEnum):
    OPEN = "open"
    KNOWN_ERROR = "known_error"
    """The cause is understood and a workaround is known; the fix is still to come."""
    RESOLVED = "resolved"


TRANSITIONS: dict[ProblemStatus, frozenset[ProblemStatus]] = {
    ProblemStatus.OPEN: frozenset({ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED}),
    ProblemStatus.KNOWN_ERROR: frozenset({ProblemStatus.RESOLVED}),
    ProblemStatus.RESOLVED: frozenset(),
}
"""The statuses each problem status may move to; anything else is a 409."""


class ThresholdNotFound(NotFound):
    def __init__(self, threshold_id: str) -> None:
        super().__init__(
            f"Routing knows no problem threshold {threshold_id!r}", title="Threshold not found"
        )


class ProblemNotFound(NotFound):
    def __init__(self, problem_id: uuid.UUID) -> None:
        super().__init__(f"Routing knows no problem {problem_id}", title="Problem not found")


class IllegalProblemTransition(Conflict):
    def __init__(self, number: str, current: ProblemStatus, target: ProblemStatus) -> None:
        allowed = sorted(TRANSITIONS[current])
        super().__init__(
            f"problem {number} is {current}, so it cannot become {target}"
            f" (from {current} it can become: {', '.join(allowed) or 'nothing else'})",
            title=f"Problem cannot be {target}",
            extensions={"current_status": current.value, "allowed_statuses": allowed},
        )


@dataclass(frozen=True)
class Threshold:
    """When cases of one motive and root cause are too many (managed by administrators)."""

    id: str
    name: str
    motive: str
    root_cause: RootCauseCategory
    trigger: Trigger
    cases: int
    """COUNT: this many within the window; BASELINE: at least this many (a floor, so that a
    motive with no history does not open a problem on its first case)."""
    window: timedelta
    factor: float | None = None
    """BASELINE only: how many times the baseline counts as too many."""
    touchpoint: str | None = None
    product: str | None = None
    region: str | None = None
    owner: str | None = None
    """Who owns the problems it opens (a supervisor's id), if anyone by default."""
    active: bool = True
    changed_at: datetime | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        if self.cases < 1:
            raise Invalid.field("cases", "minimum", "a threshold counts at least one case")
        if self.window <= timedelta(0):
            raise Invalid.field("window_hours", "minimum", "a window lasts more than nothing")
        if self.trigger is Trigger.BASELINE and (self.factor is None or self.factor <= 0):
            raise Invalid.field(
                "factor", "required", "a baseline threshold says how many times the baseline"
            )
        if self.trigger is Trigger.COUNT and self.factor is not None:
            raise Invalid.field("factor", "baseline_only", "only a baseline threshold has a factor")

    def matches(self, case: RoutedCase) -> bool:
        """The case has this threshold's motive and root cause (and its touchpoint, product and
        region, where the threshold names them)."""
        if (case.motive, case.root_cause) != (self.motive, self.root_cause.value):
            return False
        return all(
            wanted is None or wanted == have
            for wanted, have in (
                (self.touchpoint, case.touchpoint),
                (self.product, case.product),
                (self.region, case.region),
            )
        )

    def baseline_span(self) -> tuple[timedelta, timedelta]:
        """The baseline period, as (from, to) before now: the windows before the current one."""
        return self.window * (BASELINE_PERIODS + 1), self.window

    def exceeded(self, current: int, before: int = 0) -> bool:
        """`current` matching cases within the window (and `before` within the baseline period
        before it) are too many."""
        if current < self.cases:
            return False
        if self.trigger is Trigger.COUNT:
            return True
        assert self.factor is not None
        baseline = before / BASELINE_PERIODS
        return current >= self.factor * baseline

    def title(self) -> str:
        where = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("touchpoint", self.touchpoint),
                ("product", self.product),
                ("region", self.region),
            )
            if value
        )
        cause = self.root_cause.value.replace("_", " ")
        return f"{self.motive}: {cause}" + (f" ({where})" if where else "")


@dataclass(frozen=True)
class Magnitude:
    """How big a problem is, computed live from its linked cases."""

    cases: int = 0
    open_cases: int = 0
    customers: int = 0
    """Distinct customers among the linked cases."""
    compensation: dict[str, Decimal] = field(default_factory=dict)
    """Per currency: grants minus reversals on the linked cases (the compensation ledger)."""
    sla_breaches: int = 0
    """Clocks of the linked cases that passed their deadline unmet."""


@dataclass(frozen=True)
class Problem:
    id: uuid.UUID
    number: str
    threshold_id: str
    title: str
    motive: str
    root_cause: RootCauseCategory
    detected_at: datetime
    status: ProblemStatus = ProblemStatus.OPEN
    touchpoint: str | None = None
    product: str | None = None
    region: str | None = None
    owner: str | None = None
    workaround: str | None = None
    known_error_at: datetime | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    version: int = 1

    @classmethod
    def detected(
        cls,
        threshold: Threshold,
        number: str,
        cases: list[RoutedCase],
        at: datetime,
        *,
        problem_id: uuid.UUID | None = None,
    ) -> tuple[Problem, ProblemDetected]:
        problem = cls(
            id=problem_id or uuid.uuid4(),
            number=number,
            threshold_id=threshold.id,
            title=threshold.title(),
            motive=threshold.motive,
            root_cause=threshold.root_cause,
            touchpoint=threshold.touchpoint,
            product=threshold.product,
            region=threshold.region,
            owner=threshold.owner,
            detected_at=at,
        )
        return problem, ProblemDetected(
            problem_id=problem.id,
            problem_number=number,
            title=problem.title,
            threshold_id=threshold.id,
            motive=problem.motive,
            root_cause=problem.root_cause,
            touchpoint=problem.touchpoint,
            product=problem.product,
            region=problem.region,
            owner=problem.owner,
            case_ids=[c.id for c in cases],
            detected_at=at,
        )

    def covers(self, case: RoutedCase) -> bool:
        """A case of the problem's motive and, where the problem names them, its touchpoint,
        product and region (its root cause is not known until it is resolved)."""
        return case.motive == self.motive and all(
            wanted is None or wanted == have
            for wanted, have in (
                (self.touchpoint, case.touchpoint),
                (self.product, case.product),
                (self.region, case.region),
            )
        )

    @property
    def is_resolved(self) -> bool:
        return self.status is ProblemStatus.RESOLVED

    def _moved(self, target: ProblemStatus, **changes: object) -> Problem:
        if target not in TRANSITIONS[self.status]:
            raise IllegalProblemTransition(self.number, self.status, target)
        return replace(self, status=target, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def known_error(self, workaround: str, at: datetime) -> Problem:
        """The cause is understood; agents give customers the workaround meanwhile."""
        if not workaround.strip():
            raise Invalid.field("workaround", "required", "a known error says its workaround")
        return self._moved(
            ProblemStatus.KNOWN_ERROR, workaround=workaround.strip(), known_error_at=at
        )

    def resolve(
        self,
        resolution: str,
        at: datetime,
        *,
        open_cases: list[RoutedCase],
        linked: int,
        actor: str | None = None,
    ) -> tuple[Problem, ProblemResolved]:
        if not resolution.strip():
            raise Invalid.field("resolution", "required", "a resolved problem says what was done")
        problem = self._moved(ProblemStatus.RESOLVED, resolution=resolution.strip(), resolved_at=at)
        return problem, ProblemResolved(
            problem_id=self.id,
            problem_number=self.number,
            title=self.title,
            resolution=problem.resolution or "",
            open_cases=[
                ProblemCase(case_id=c.id, case_number=c.number, customer_id=c.customer_id)
                for c in open_cases
            ],
            linked_cases=linked,
            actor=actor,
            resolved_at=at,
        )

    def changed(self, *, owner: str | None, title: str | None, change_owner: bool) -> Problem:
        """A new owner (None: nobody) and/or a clearer title: the title is what customers read
        when the problem is resolved."""
        if self.is_resolved:
            raise Conflict(
                f"problem {self.number} is resolved: it no longer changes",
                title="Problem is resolved",
            )
        if title is not None and not title.strip():
            raise Invalid.field("title", "required", "a problem's title says what it is")
        return replace(
            self,
            owner=owner if change_owner else self.owner,
            title=title.strip() if title is not None else self.title,
            version=self.version + 1,
        )
