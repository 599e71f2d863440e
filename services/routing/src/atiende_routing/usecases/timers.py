"""Firing due timers: `fire_due` claims what is due (SKIP LOCKED), hands each timer to the handler
registered for its kind, and records it fired — all in the caller's one transaction, with the
events the handlers emit. A crash before the commit leaves every claimed row pending for the next
round (or the other replica): nothing is lost, and nothing fires twice, since the row's fired_at
and its event commit or roll back together.

Kinds are registered, not imported: SLA warning and breach are registered here; the lifecycle
registers its commitment kinds with `KINDS.register(...)`, and escalation hears SLA warnings and
breaches through `KINDS.on_sla_alert(...)`, so this module imports neither."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atiende_contracts import CaseSlaBreached, CaseSlaWarning, SlaClock

from ..domain.sla import SlaAlert
from ..domain.timers import Timer, TimerOutcome
from ..repository import UnitOfWork
from .sla import SLA_BREACH, SLA_WARNING

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)
"""A timer whose handler failed is tried again this much later (the others fire meanwhile)."""

TimerHandler = Callable[[UnitOfWork, Timer, datetime], Awaitable[TimerOutcome]]
"""Acts on one due timer inside the firing transaction; says whether it fired or was stale."""

SlaAlertHook = Callable[[UnitOfWork, SlaAlert, datetime], Awaitable[None]]
"""Told of every SLA warning and breach, in the same transaction (escalation climbs a level)."""


@dataclass
class TimerKinds:
    handlers: dict[str, TimerHandler] = field(default_factory=dict)
    sla_alert_hooks: list[SlaAlertHook] = field(default_factory=list)

    def register(self, kind: str, handler: TimerHandler) -> None:
        self.handlers[kind] = handler

    def on_sla_alert(self, hook: SlaAlertHook) -> None:
        if hook not in self.sla_alert_hooks:
            self.sla_alert_hooks.append(hook)


KINDS = TimerKinds()
"""The registry the worker fires with."""


async def fire_due(
    uow: UnitOfWork,
    now: datetime,
    limit: int,
    *,
    worker: str = "",
    kinds: TimerKinds | None = None,
) -> int:
    """Fire up to `limit` due timers; returns how many were claimed. `worker` names the replica
    (recorded on each row as fired_by)."""
    registry = kinds or KINDS
    due = await uow.timers.claim_due(now, limit)
    for timer in due:
        handler = registry.handlers.get(timer.kind)
        if handler is None:
            log.error("no handler for timer kind", extra={"kind": timer.kind})
            outcome = TimerOutcome.UNKNOWN_KIND
        else:
            try:
                # a savepoint: a failing handler's writes and events are undone, not the round's
                async with uow.timers.isolated():
                    outcome = await handler(uow, timer, now)
            except Exception as exc:
                log.exception("timer handler failed", extra={"kind": timer.kind, "ref": timer.ref})
                await uow.timers.postpone(timer.id, now + RETRY_AFTER, repr(exc))
                continue
        await uow.timers.mark_fired([timer.id], outcome, now, worker)
    return len(due)


async def next_due(uow: UnitOfWork) -> datetime | None:
    return await uow.timers.next_due()


# --- SLA warnings and breaches ----------------------------------------------------------------------


async def _case_facts(uow: UnitOfWork, timer: Timer) -> tuple[str | None, str | None]:
    """The team and agent the case has now (for the event's readers)."""
    case = await uow.cases.get(timer.case_id)
    if case is None:
        return None, None
    agent = getattr(case, "agent_id", None)
    return getattr(case, "team", None), str(agent) if agent is not None else None


async def fire_sla_timer(uow: UnitOfWork, timer: Timer, now: datetime) -> TimerOutcome:
    name = SlaClock(timer.payload["clock"])
    clock = await uow.clocks.get(timer.case_id, name, for_update=True)
    due = clock.due_at if clock is not None else None
    if clock is None or clock.cycle != timer.payload["cycle"] or due is None:
        return TimerOutcome.STALE  # met, paused or restarted since it was scheduled
    team, agent = await _case_facts(uow, timer)
    if timer.kind == SLA_WARNING:
        label = str(timer.payload["threshold"])
        if label in clock.warned:
            return TimerOutcome.STALE
        await uow.clocks.save(clock.warn(label))
        await uow.emit(
            CaseSlaWarning(
                case_id=clock.case_id,
                case_number=clock.case_number,
                clock=name,
                threshold=label,
                due_at=due,
                fired_at=now,
                team=team,
                agent_id=agent,
            ),
            subject=clock.case_id,
        )
        alert = SlaAlert(clock.case_id, clock.case_number, name, "warning", label, due, now)
    else:
        if clock.breached_at is not None or due > now:
            return TimerOutcome.STALE
        # saved as is: its own timer row is the one being fired (rescheduling would drop it)
        await uow.clocks.save(clock.breach(now))
        await uow.emit(
            CaseSlaBreached(
                case_id=clock.case_id,
                case_number=clock.case_number,
                clock=name,
                due_at=due,
                breached_at=now,
                team=team,
                agent_id=agent,
            ),
            subject=clock.case_id,
        )
        alert = SlaAlert(clock.case_id, clock.case_number, name, "breach", None, due, now)
    for hook in KINDS.sla_alert_hooks:
        await hook(uow, alert, now)
    return TimerOutcome.FIRED


KINDS.register(SLA_WARNING, fire_sla_timer)
KINDS.register(SLA_BREACH, fire_sla_timer)
