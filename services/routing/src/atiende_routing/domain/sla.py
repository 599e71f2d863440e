"""SLA policies and the per-case clocks they drive.

A policy gives, per priority, a target for each clock (first response, next update, resolution),
says whether they count business hours (the team's calendar) or calendar time, which case
statuses pause which clock, and when to warn (a percent of the target and/or minutes before the
deadline). Policies are versioned: a change is a new version; a case's clocks name the version.

A clock is one measured run (a `cycle`: next update starts a new one at each customer contact,
resolution on reopen). Its pauses keep reason, note and duration. Elapsed time is always computed
from the start and the pauses, never stored, so a change of priority or policy only swaps the
target (and measure) and the deadline follows, keeping every second already elapsed or paused.

Pure: no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from atiende_contracts import CaseStatus, SlaClock
from atiende_runtime.errors import FieldError, Invalid

from .calendars import ALWAYS_OPEN, CALENDAR_TIME, BusinessCalendar, TimeMeasure


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


WAITING = frozenset({CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.WAITING_ON_THIRD_PARTY})

DEFAULT_PAUSES: Mapping[SlaClock, frozenset[CaseStatus]] = {
    SlaClock.FIRST_RESPONSE: frozenset(),
    SlaClock.NEXT_UPDATE: WAITING,
    SlaClock.RESOLUTION: WAITING,
}
"""DESIGN.md's table: waiting on the customer or a third party pauses next update and
resolution; first response is never paused."""

DEFAULT_POLICY_ID = "default"

DEFAULT_PAUSE_REASONS: tuple[tuple[str, str], ...] = (
    ("customer_information", "Waiting for information from the customer"),
    ("customer_confirmation", "Waiting for the customer to confirm a solution"),
    ("customer_unreachable", "The customer cannot be reached"),
    ("third_party_supplier", "Waiting for a supplier or partner"),
    ("third_party_internal", "Waiting for another department"),
)


@dataclass(frozen=True)
class Threshold:
    """A warning point: `label` as events show it ("75%", "15m before"), `offset` the measured
    time from the clock's start at which it is reached."""

    label: str
    offset: timedelta


@dataclass(frozen=True)
class SlaPolicy:
    id: str
    name: str
    targets: Mapping[Priority, Mapping[SlaClock, timedelta]]
    business_hours: bool = True
    pauses: Mapping[SlaClock, frozenset[CaseStatus]] = field(
        default_factory=lambda: dict(DEFAULT_PAUSES)
    )
    warn_at_percent: tuple[int, ...] = (75,)
    warn_minutes_before: tuple[int, ...] = (15,)
    version: int = 1
    active: bool = True
    changed_at: datetime | None = None
    actor: str | None = None

    def validate(self) -> SlaPolicy:
        errors: list[FieldError] = []
        if not self.id.strip():
            errors.append(FieldError("id", "required", "a policy needs an id"))
        if not self.name.strip():
            errors.append(FieldError("name", "required", "a policy needs a name"))
        for priority in Priority:
            clocks = self.targets.get(priority)
            if clocks is None:
                errors.append(
                    FieldError(f"targets.{priority}", "required", f"no targets for {priority}")
                )
                continue
            for clock in SlaClock:
                target = clocks.get(clock)
                if target is None:
                    errors.append(
                        FieldError(f"targets.{priority}.{clock}", "required", "target missing")
                    )
                elif target <= timedelta(0):
                    errors.append(
                        FieldError(
                            f"targets.{priority}.{clock}", "positive", "target must be positive"
                        )
                    )
        if self.pauses.get(SlaClock.FIRST_RESPONSE):
            errors.append(
                FieldError(
                    "pauses.first_response", "never", "the first response clock is never paused"
                )
            )
        for clock, statuses in self.pauses.items():
            terminal = statuses & {CaseStatus.RESOLVED, CaseStatus.CLOSED}
            if terminal:
                errors.append(
                    FieldError(
                        f"pauses.{clock}",
                        "terminal",
                        f"{', '.join(sorted(terminal))} stops clocks; it does not pause them",
                    )
                )
        for index, percent in enumerate(self.warn_at_percent):
            if not 1 <= percent <= 99:
                errors.append(
                    FieldError(f"warn_at_percent[{index}]", "range", "a percent from 1 to 99")
                )
        for index, minutes in enumerate(self.warn_minutes_before):
            if minutes <= 0:
                errors.append(
                    FieldError(f"warn_minutes_before[{index}]", "positive", "minutes above 0")
                )
        if errors:
            raise Invalid(errors)
        return self

    def target(self, priority: Priority, clock: SlaClock) -> timedelta:
        return self.targets[priority][clock]

    def pauses_on(self, clock: SlaClock, status: str) -> bool:
        return status in self.pauses.get(clock, frozenset())

    def thresholds(self, target: timedelta) -> tuple[Threshold, ...]:
        """The warning points of a clock with this target, earliest first; a "minutes before"
        that falls at or before the start is left out."""
        points = [Threshold(f"{p}%", target * p / 100) for p in self.warn_at_percent]
        points += [
            Threshold(f"{m}m before", target - timedelta(minutes=m))
            for m in self.warn_minutes_before
            if target - timedelta(minutes=m) > timedelta(0)
        ]
        return tuple(sorted(points, key=lambda t: (t.offset, t.label)))

    def next_version(self, **changes: object) -> SlaPolicy:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


DEFAULT_POLICY = SlaPolicy(
    id=DEFAULT_POLICY_ID,
    name="Default",
    business_hours=True,
    targets={
        Priority.URGENT: {
            SlaClock.FIRST_RESPONSE: hours(1),
            SlaClock.NEXT_UPDATE: hours(2),
            SlaClock.RESOLUTION: hours(8),
        },
        Priority.HIGH: {
            SlaClock.FIRST_RESPONSE: hours(4),
            SlaClock.NEXT_UPDATE: hours(8),
            SlaClock.RESOLUTION: hours(24),
        },
        Priority.NORMAL: {
            SlaClock.FIRST_RESPONSE: hours(8),
            SlaClock.NEXT_UPDATE: hours(16),
            SlaClock.RESOLUTION: hours(40),
        },
        Priority.LOW: {
            SlaClock.FIRST_RESPONSE: hours(16),
            SlaClock.NEXT_UPDATE: hours(24),
            SlaClock.RESOLUTION: hours(80),
        },
    },
)
"""The policy the migration seeds (business hours, warnings at 75 % and 15 minutes before)."""


# --- clocks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    reason: str | None
    note: str | None
    status: str
    ended_at: datetime | None = None

    def duration(self, now: datetime) -> timedelta:
        """Calendar time paused (up to `now` while still open)."""
        return (self.ended_at or now) - self.started_at


@dataclass(frozen=True)
class Clock:
    case_id: uuid.UUID
    name: SlaClock
    cycle: int
    policy_id: str
    policy_version: int
    priority: Priority
    target: timedelta
    started_at: datetime
    calendar: BusinessCalendar | None = None
    """The calendar counted (a snapshot taken at start); None: calendar time."""
    case_number: str = ""
    pauses: tuple[Pause, ...] = ()
    met_at: datetime | None = None
    breached_at: datetime | None = None
    warned: tuple[str, ...] = ()
    """Thresholds already warned about in this cycle (never warned twice)."""

    @property
    def measure(self) -> TimeMeasure:
        return self.calendar if self.calendar is not None else CALENDAR_TIME

    @property
    def open_pause(self) -> Pause | None:
        if self.pauses and self.pauses[-1].ended_at is None:
            return self.pauses[-1]
        return None

    @property
    def stopped(self) -> bool:
        return self.met_at is not None

    def paused_time(self, now: datetime) -> timedelta:
        """Measured time spent paused (business time in a business-hours policy)."""
        end = self.met_at or now
        return sum(
            (self.measure.between(p.started_at, min(p.ended_at or end, end)) for p in self.pauses),
            timedelta(0),
        )

    def paused_calendar_time(self, now: datetime) -> timedelta:
        return sum((p.duration(now) for p in self.pauses), timedelta(0))

    def elapsed(self, now: datetime) -> timedelta:
        """Measured time that counted against the target (business time, minus pauses)."""
        end = self.met_at or now
        if end <= self.started_at:
            return timedelta(0)
        return self.measure.between(self.started_at, end) - self.paused_time(now)

    @cached_property
    def due_at(self) -> datetime | None:
        """The deadline, if the clock runs: from the last resume, what is left of the target.
        None while paused or met. Computed once per clock (it is immutable; the business-time
        arithmetic is what an SLA change costs most)."""
        if self.met_at is not None or self.open_pause is not None:
            return None
        resumed = self.pauses[-1].ended_at if self.pauses else self.started_at
        assert resumed is not None
        left = self.target - self.elapsed(resumed)
        if left <= timedelta(0):
            return resumed
        return self.measure.add(resumed, left)

    def threshold_times(self, policy: SlaPolicy) -> tuple[tuple[Threshold, datetime], ...]:
        """When each warning not yet given is reached, while the clock runs."""
        if self.due_at is None:
            return ()
        resumed = self.pauses[-1].ended_at if self.pauses else self.started_at
        assert resumed is not None
        done = self.elapsed(resumed)
        return tuple(
            (t, self.measure.add(resumed, t.offset - done))
            for t in policy.thresholds(self.target)
            if t.label not in self.warned and t.offset > done
        )

    def state(self, now: datetime) -> ClockState:
        if self.met_at is not None:
            return ClockState.MET
        if self.breached_at is not None:
            return ClockState.BREACHED
        if self.open_pause is not None:
            return ClockState.PAUSED
        due = self.due_at
        if due is not None and now >= due:
            return ClockState.BREACHED
        return ClockState.RUNNING

    # --- changes (each returns the new clock) -----------------------------------------------------

    def pause(self, at: datetime, status: str, reason: str | None, note: str | None) -> Clock:
        if self.stopped or self.open_pause is not None:
            return self
        return replace(self, pauses=(*self.pauses, Pause(at, reason, note, status)))

    def resume(self, at: datetime) -> Clock:
        pause = self.open_pause
        if pause is None:
            return self
        return replace(self, pauses=(*self.pauses[:-1], replace(pause, ended_at=at)))

    def meet(self, at: datetime) -> Clock:
        if self.stopped:
            return self
        return replace(self.resume(at), met_at=at)

    def breach(self, at: datetime) -> Clock:
        return self if self.breached_at is not None else replace(self, breached_at=at)

    def warn(self, label: str) -> Clock:
        return self if label in self.warned else replace(self, warned=(*self.warned, label))

    def retarget(
        self,
        policy: SlaPolicy,
        priority: Priority,
        calendar: BusinessCalendar | None,
    ) -> Clock:
        """The same run under another policy or priority: start and pauses (with their reasons)
        kept, so the time elapsed and paused still counts; only the target and measure change.
        Warnings whose point is not yet reached under the new target may come again."""
        return replace(
            self,
            policy_id=policy.id,
            policy_version=policy.version,
            priority=priority,
            target=policy.target(priority, self.name),
            calendar=measured_calendar(policy, calendar),
            breached_at=self.breached_at,
        )


def measured_calendar(
    policy: SlaPolicy, calendar: BusinessCalendar | None
) -> BusinessCalendar | None:
    """The calendar a clock counts: none in calendar time; the team's in business hours (a team
    without one is open around the clock)."""
    if not policy.business_hours:
        return None
    return calendar or ALWAYS_OPEN


def start_clock(
    case_id: uuid.UUID,
    case_number: str,
    name: SlaClock,
    cycle: int,
    policy: SlaPolicy,
    priority: Priority,
    calendar: BusinessCalendar | None,
    at: datetime,
) -> Clock:
    return Clock(
        case_id=case_id,
        name=name,
        cycle=cycle,
        policy_id=policy.id,
        policy_version=policy.version,
        priority=priority,
        target=policy.target(priority, name),
        started_at=at,
        calendar=measured_calendar(policy, calendar),
        case_number=case_number,
    )


@dataclass(frozen=True)
class SlaAlert:
    """A warning or breach that just fired (what escalation hears)."""

    case_id: uuid.UUID
    case_number: str
    clock: SlaClock
    kind: str
    """"warning" or "breach"."""
    threshold: str | None
    due_at: datetime
    at: datetime
