"""Escalation: a case climbs the ladder on a trigger (upset customer, SLA warning or breach, a
missed commitment, a repeat contact, by hand) and names the person now responsible; it comes
down only when a supervisor says so, with a reason."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from atiende_contracts import CaseDeescalated, CaseEscalated, EscalationReason, Rank

from ..domain import escalation as ladder
from ..domain.cases import RoutedCase
from ..domain.errors import NotPermitted
from ..domain.escalation import EscalationRecord
from ..domain.sla import SlaAlert
from ..repository import UnitOfWork
from . import assignment, casework


async def climb(
    uow: UnitOfWork,
    case: RoutedCase,
    reason: EscalationReason,
    now: datetime,
    *,
    level: Rank | None = None,
    note: str | None = None,
    actor: str | None = None,
) -> RoutedCase:
    """The case (already loaded and locked) one rung up (or to `level`); saved, told. A case at
    the top, or an upset customer's case already above the agent, stays as it is."""
    if not case.is_open:
        return case
    if reason is EscalationReason.MANUAL:
        target: Rank | None = ladder.manual_level(case.escalation, level)
    else:
        target = ladder.next_level(case.escalation, reason)
    if target is None:
        return case
    person = await assignment.responsible(uow, case.team, target, now)
    escalated = case.escalated_to(target, person.id if person else None)
    await uow.cases.save(escalated)
    await uow.escalations.add(
        EscalationRecord(
            case_id=case.id,
            level=target,
            reason=reason.value,
            responsible_id=escalated.responsible_id,
            at=now,
            actor=actor,
            note=note,
        )
    )
    who = person.name if person else "nobody available at that rank"
    await casework.note(
        uow, case, now, "escalated", f"escalated to {target} ({reason}); responsible: {who}", actor
    )
    await uow.emit(
        CaseEscalated(
            case_id=case.id,
            case_number=case.number,
            level=target,
            reason=reason,
            responsible_id=escalated.responsible_id,
            responsible_email=person.email if person else None,
            note=note,
            actor=actor,
            escalated_at=now,
        ),
        subject=case.id,
    )
    return escalated


async def escalate(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    reason: EscalationReason,
    now: datetime,
    *,
    level: Rank | None = None,
    note: str | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
    mark_upset: bool = False,
) -> RoutedCase:
    """By hand: one rung (or to `level`); `mark_upset`: the agent marks the customer upset,
    which calls in someone above the agent as an upset customer from intake does."""
    case = await casework.load(uow, case_id, expected_version)
    if mark_upset:
        if not case.upset:
            case = replace(case, upset=True, version=case.version + 1)
            await uow.cases.save(case)
            await casework.note(uow, case, now, "note", "customer marked upset", actor)
        climbed = await climb(
            uow, case, EscalationReason.CUSTOMER_UPSET, now, note=note, actor=actor
        )
        return climbed
    return await climb(uow, case, reason, now, level=level, note=note, actor=actor)


async def deescalate(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    supervisor: bool,
    level: Rank | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
) -> RoutedCase:
    """Down the ladder: a supervisor's decision, with a reason (escalation never falls by itself)."""
    if not supervisor:
        raise NotPermitted("only a supervisor may de-escalate a case")
    case = await casework.load(uow, case_id, expected_version)
    target = ladder.lower_level(case.escalation, level, reason)
    person = await assignment.responsible(uow, case.team, target, now) if target else None
    lowered = case.escalated_to(target, person.id if person else None)
    await uow.cases.save(lowered)
    shown = target or Rank.AGENT
    await uow.escalations.add(
        EscalationRecord(
            case_id=case.id,
            level=shown,
            reason=reason.strip(),
            responsible_id=lowered.responsible_id,
            at=now,
            actor=actor,
            direction="down",
        )
    )
    await casework.note(uow, case, now, "deescalated", f"de-escalated to {shown}: {reason}", actor)
    await uow.emit(
        CaseDeescalated(
            case_id=case.id,
            case_number=case.number,
            level=shown,
            reason=reason.strip(),
            actor=actor or "supervisor",
            deescalated_at=now,
        ),
        subject=case.id,
    )
    return lowered


async def on_sla_alert(uow: UnitOfWork, alert: SlaAlert, now: datetime) -> None:
    """Registered with the timer worker: a warning or a breach climbs one rung."""
    case = await uow.cases.get_for_update(alert.case_id)
    if case is None:
        return
    reason = (
        EscalationReason.SLA_BREACHED if alert.kind == "breach" else EscalationReason.SLA_WARNING
    )
    await climb(uow, case, reason, now, note=f"{alert.clock} {alert.threshold or alert.kind}")
