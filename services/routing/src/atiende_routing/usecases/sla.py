"""The SLA clocks of a case: started when it opens, paused and resumed by its status, met by the
answers and the resolution, retargeted when its priority or policy changes. Every change
reschedules the clock's durable timers (its warnings and its breach); the timer worker fires
them (usecases/timers.py). Policies and the pause-reason list are managed here too."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from atiende_contracts import CaseStatus, SlaClock, SlaPolicyChanged
from atiende_runtime.errors import Conflict, FieldError, Invalid, NotFound

from ..domain.calendars import BusinessCalendar
from ..domain.sla import (
    DEFAULT_POLICY_ID,
    Clock,
    ClockState,
    Pause,
    Priority,
    SlaPolicy,
    start_clock,
)
from ..domain.timers import Timer
from ..repository import UnitOfWork
from ..repository.sla import PauseReason

SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"
SLA_KINDS = (SLA_WARNING, SLA_BREACH)


class SlaCase(Protocol):
    """What the clocks need to know of a case (routing's case aggregate has it)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def number(self) -> str: ...

    @property
    def priority(self) -> str | None:
        """A Priority value; None counts as normal."""
        ...

    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class ClockView:
    """A clock as the case view shows it."""

    clock: SlaClock
    cycle: int
    state: ClockState
    target: timedelta
    elapsed: timedelta
    paused: timedelta
    """Measured time paused (business time in a business-hours policy)."""
    paused_calendar: timedelta
    due_at: datetime | None
    started_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    business_hours: bool
    policy_id: str
    policy_version: int
    priority: Priority
    pauses: tuple[Pause, ...]


class PolicyNotFound(NotFound):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"Routing knows no SLA policy {policy_id!r}", title="Policy not found")


# --- policies ----------------------------------------------------------------------------------


async def policy_for(uow: UnitOfWork, policy_id: str | None) -> SlaPolicy:
    """The current version of a policy; the default one when none is named or it is inactive."""
    if policy_id:
        policy = await uow.sla_policies.get(policy_id)
        if policy is not None and policy.active:
            return policy
    default = await uow.sla_policies.get(DEFAULT_POLICY_ID)
    if default is None:
        raise PolicyNotFound(DEFAULT_POLICY_ID)
    return default


async def get_policy(uow: UnitOfWork, policy_id: str, version: int | None = None) -> SlaPolicy:
    policy = await uow.sla_policies.get(policy_id, version)
    if policy is None:
        raise PolicyNotFound(policy_id)
    return policy


async def list_policies(uow: UnitOfWork) -> list[SlaPolicy]:
    return await uow.sla_policies.current()


async def save_policy(
    uow: UnitOfWork, policy: SlaPolicy, now: datetime, actor: str | None, *, create: bool
) -> SlaPolicy:
    """Create a policy (version 1) or store the next version of an existing one; emits
    sla_policy.changed. Clocks already running keep the version they started with until their
    case is retargeted."""
    policy.validate()
    current = await uow.sla_policies.get(policy.id)
    if create and current is not None:
        raise Conflict(f"SLA policy {policy.id!r} already exists", title="Policy exists")
    if not create and current is None:
        raise PolicyNotFound(policy.id)
    if policy.id == DEFAULT_POLICY_ID and not policy.active:
        raise Invalid.field("active", "default", "the default policy cannot be deactivated")
    version = 1 if current is None else current.version + 1
    stored = SlaPolicy(
        id=policy.id,
        name=policy.name,
        targets=policy.targets,
        business_hours=policy.business_hours,
        pauses=policy.pauses,
        warn_at_percent=policy.warn_at_percent,
        warn_minutes_before=policy.warn_minutes_before,
        version=version,
        active=policy.active,
        changed_at=now,
        actor=actor,
    )
    if not await uow.sla_policies.add(stored):
        raise Conflict(f"SLA policy {policy.id!r} changed meanwhile; retry", title="Policy changed")
    await uow.emit(
        SlaPolicyChanged(
            policy_id=stored.id,
            version_number=stored.version,
            name=stored.name,
            business_hours=stored.business_hours,
            active=stored.active,
            changed_at=now,
            actor=actor,
        ),
        subject=stored.id,
    )
    return stored


async def pause_reasons(uow: UnitOfWork) -> list[PauseReason]:
    return await uow.sla_policies.pause_reasons()


async def set_pause_reasons(uow: UnitOfWork, reasons: Sequence[PauseReason]) -> list[PauseReason]:
    errors = []
    seen: set[str] = set()
    for index, reason in enumerate(reasons):
        if not reason.code.strip() or not reason.label.strip():
            errors.append(
                FieldError(f"reasons[{index}]", "required", "a reason needs a code and a label")
            )
        if reason.code in seen:
            errors.append(
                FieldError(f"reasons[{index}].code", "duplicate", f"{reason.code!r} repeats")
            )
        seen.add(reason.code)
    if not reasons:
        errors.append(FieldError("reasons", "required", "keep at least one pause reason"))
    if errors:
        raise Invalid(errors)
    await uow.sla_policies.set_pause_reasons(reasons)
    return list(reasons)


async def check_pause_reason(uow: UnitOfWork, reason: str | None) -> None:
    """Invalid (field "reason") unless `reason` is on the managed list: a pause always says why."""
    codes = [r.code for r in await uow.sla_policies.pause_reasons()]
    if reason not in codes:
        raise Invalid.field(
            "reason", "pause_reason", f"a pause needs a reason, one of: {', '.join(codes)}"
        )


# --- clocks --------------------------------------------------------------------------------------


async def start_clocks(
    uow: UnitOfWork,
    case: SlaCase,
    policy: SlaPolicy,
    calendar: BusinessCalendar | None,
    now: datetime,
    *,
    new_case: bool = False,
) -> list[Clock]:
    """First response and resolution start when the case opens (next update starts with each
    customer contact after that). Idempotent: a case whose clocks exist keeps them. `new_case`:
    the caller just added the case (in this transaction), so it has no clocks and no timers yet
    and neither is read."""
    if not new_case:
        existing = await uow.clocks.current(case.id)
        if existing:
            return existing
    priority = _priority(case)
    started = []
    for name in (SlaClock.FIRST_RESPONSE, SlaClock.RESOLUTION):
        clock = start_clock(case.id, case.number, name, 1, policy, priority, calendar, now)
        if policy.pauses_on(name, case.status):
            clock = clock.pause(now, case.status, None, None)
        started.append(clock)
    await _store_all(uow, [(clock, policy) for clock in started], now, cancel=not new_case)
    return started


async def on_status_changed(
    uow: UnitOfWork,
    case: SlaCase,
    from_: str,
    to: str,
    reason: str | None,
    now: datetime,
    note: str | None = None,
) -> list[Clock]:
    """Pause the clocks the new status pauses (keeping reason and note), resume the others;
    resolved meets every clock still running; reopened starts resolution again."""
    changed = []
    if to == CaseStatus.REOPENED:
        changed.append(await _restart(uow, case, SlaClock.RESOLUTION, now))
    updates = []
    for clock in await _locked(uow, case.id):
        if clock.stopped:
            continue
        policy = await _policy_of(uow, clock)
        if to in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            updated = clock.meet(now)
        elif policy.pauses_on(clock.name, to):
            updated = clock.pause(now, to, reason, note)
        else:
            updated = clock.resume(now)
        if updated != clock:
            updates.append((updated, policy))
    await _store_all(uow, updates, now)
    return changed + [clock for clock, _ in updates]


async def meet(uow: UnitOfWork, case_id: uuid.UUID, clock: SlaClock, now: datetime) -> Clock | None:
    """The clock's goal was reached (a first public answer, an update, the resolution)."""
    current = await uow.clocks.get(case_id, clock, for_update=True)
    if current is None or current.stopped:
        return current
    return await _store(uow, current.meet(now), await _policy_of(uow, current), now)


async def restart_next_update(uow: UnitOfWork, case: SlaCase, now: datetime) -> Clock:
    """A customer contact: the next update clock runs (a new cycle), unless one already runs for
    an earlier contact still unanswered."""
    current = await uow.clocks.get(case.id, SlaClock.NEXT_UPDATE, for_update=True)
    if current is not None and not current.stopped:
        return current
    return await _restart(uow, case, SlaClock.NEXT_UPDATE, now)


async def reprioritise(
    uow: UnitOfWork,
    case: SlaCase,
    policy: SlaPolicy,
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> list[Clock]:
    """The case's priority or policy changed: each clock keeps its start and pauses (so the
    time elapsed and paused still counts) under the new target; deadlines and warnings are
    rescheduled. `calendar`: the team's, when it changed too (else the clock's own is kept)."""
    priority = _priority(case)
    changed = [
        clock.retarget(policy, priority, calendar or clock.calendar)
        for clock in await _locked(uow, case.id)
        if not clock.stopped
    ]
    await _store_all(uow, [(clock, policy) for clock in changed], now)
    return changed


async def clocks_of(uow: UnitOfWork, case_id: uuid.UUID, now: datetime) -> list[ClockView]:
    """The case's clocks (latest cycle of each) as of `now`."""
    return [view_of(clock, now) for clock in await uow.clocks.current(case_id)]


def earliest_due(clocks: Iterable[Clock], now: datetime) -> datetime | None:
    """The earliest deadline among the clocks running at `now` (the queues sort by it)."""
    running = [
        due
        for clock in clocks
        if (due := clock.due_at) is not None and clock.state(now) is ClockState.RUNNING
    ]
    return min(running) if running else None


def view_of(clock: Clock, now: datetime) -> ClockView:
    return ClockView(
        clock=clock.name,
        cycle=clock.cycle,
        state=clock.state(now),
        target=clock.target,
        elapsed=clock.elapsed(now),
        paused=clock.paused_time(now),
        paused_calendar=clock.paused_calendar_time(now),
        due_at=clock.due_at,
        started_at=clock.started_at,
        met_at=clock.met_at,
        breached_at=clock.breached_at,
        business_hours=clock.calendar is not None,
        policy_id=clock.policy_id,
        policy_version=clock.policy_version,
        priority=clock.priority,
        pauses=clock.pauses,
    )


# --- helpers ---------------------------------------------------------------------------------------


def _priority(case: SlaCase) -> Priority:
    return Priority(case.priority or Priority.NORMAL)


async def _locked(uow: UnitOfWork, case_id: uuid.UUID) -> list[Clock]:
    """The case's current clocks, each locked (the timer worker locks a clock it fires)."""
    locked = []
    for clock in await uow.clocks.current(case_id):
        again = await uow.clocks.get(case_id, clock.name, for_update=True)
        if again is not None:
            locked.append(again)
    return locked


async def _policy_of(uow: UnitOfWork, clock: Clock) -> SlaPolicy:
    """The policy version the clock runs under (its warnings come from it)."""
    policy = await uow.sla_policies.get(clock.policy_id, clock.policy_version)
    return policy if policy is not None else await policy_for(uow, None)


async def _restart(uow: UnitOfWork, case: SlaCase, name: SlaClock, now: datetime) -> Clock:
    current = await uow.clocks.get(case.id, name, for_update=True)
    if current is not None:
        policy = await _policy_of(uow, current)
        calendar = current.calendar
        if not current.stopped:  # the old run ends here; its history stays
            await _store(uow, current.meet(now), policy, now)
        cycle = current.cycle + 1
    else:
        any_clock = next(iter(await uow.clocks.current(case.id)), None)
        policy = await _policy_of(uow, any_clock) if any_clock else await policy_for(uow, None)
        calendar = any_clock.calendar if any_clock else None
        cycle = 1
    clock = start_clock(case.id, case.number, name, cycle, policy, _priority(case), calendar, now)
    if policy.pauses_on(name, case.status):
        clock = clock.pause(now, case.status, None, None)
    return await _store(uow, clock, policy, now)


async def _store(uow: UnitOfWork, clock: Clock, policy: SlaPolicy, now: datetime) -> Clock:
    await _store_all(uow, [(clock, policy)], now)
    return clock


async def _store_all(
    uow: UnitOfWork,
    changes: Sequence[tuple[Clock, SlaPolicy]],
    now: datetime,
    *,
    cancel: bool = True,
) -> None:
    """Save the clocks (each with the policy it runs under) and make their pending timers match
    them: their warnings not yet given and their breach while they run; none while paused or
    met. Three statements however many clocks change (`cancel=False`: the clocks are new and
    have no timers to drop, two)."""
    if not changes:
        return
    await uow.clocks.save(*(clock for clock, _ in changes))
    if cancel:
        for case_id in dict.fromkeys(clock.case_id for clock, _ in changes):
            prefixes = [f"{clock.name}:" for clock, _ in changes if clock.case_id == case_id]
            await uow.timers.cancel(case_id, kinds=SLA_KINDS, ref_prefix=prefixes)
    await uow.timers.schedule(
        *(timer for clock, policy in changes for timer in _timers_of(clock, policy, now))
    )


def _timers_of(clock: Clock, policy: SlaPolicy, now: datetime) -> list[Timer]:
    due = clock.due_at
    if due is None:
        return []
    prefix = f"{clock.name}:{clock.cycle}"
    timers = [
        Timer(
            kind=SLA_WARNING,
            case_id=clock.case_id,
            ref=f"{prefix}:{threshold.label}",
            due_at=max(at, now) if at < due else due,
            payload={"clock": clock.name.value, "cycle": clock.cycle, "threshold": threshold.label},
        )
        for threshold, at in clock.threshold_times(policy)
    ]
    if clock.breached_at is None:
        timers.append(
            Timer(
                kind=SLA_BREACH,
                case_id=clock.case_id,
                ref=prefix,
                due_at=due,
                payload={"clock": clock.name.value, "cycle": clock.cycle},
            )
        )
    return timers
