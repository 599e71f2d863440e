"""Commitments: made on a case (the customer is told through commitment.made), a reminder to
the owner before the due time, kept by the owner, or missed at the due time — which escalates
the case. Both deadlines are durable timers fired by the SLA helper's worker."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from atiende_contracts import Channel, EscalationReason

from ..domain.cases import RoutedCase
from ..domain.commitments import Commitment
from ..domain.errors import CommitmentNotFound
from ..domain.timers import Timer, TimerOutcome
from ..repository import UnitOfWork
from . import casework, escalation
from .timers import TimerKinds

DUE_SOON = "commitment_due_soon"
DUE = "commitment_due"
KINDS = (DUE_SOON, DUE)


async def make(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    *,
    description: str,
    due_at: datetime,
    now: datetime,
    lead: timedelta,
    owner_id: str | None = None,
    to_whom: str | None = None,
    channel: Channel | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
) -> tuple[Commitment, int]:
    """A promise on the case, owned by `owner_id` (default: the case's agent, else the actor).
    Returns it with the case's new version."""
    case = await casework.load(uow, case_id, expected_version)
    owner = owner_id or case.agent_id or actor
    owner_email = None
    if owner is not None:
        agent = await uow.org.get_agent(owner)
        owner_email = agent.email if agent else None
    commitment, made = Commitment.make(
        case_id=case.id,
        case_number=case.number,
        description=description,
        owner_id=owner,
        due_at=due_at,
        now=now,
        to_whom=to_whom,
        owner_email=owner_email,
        channel=channel,
        actor=actor,
    )
    await uow.commitments.add(commitment)
    ref = str(commitment.id)
    await uow.timers.schedule(
        Timer(DUE_SOON, case.id, ref, commitment.remind_at(lead)),
        Timer(DUE, case.id, ref, commitment.due_at),
    )
    touched = case.touched()
    await uow.cases.save(touched)
    await casework.note(
        uow, case, now, "commitment", f"commitment due {due_at.isoformat()}: {description}", actor
    )
    await uow.emit(made, subject=case.id)
    return commitment, touched.version


async def keep(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    now: datetime,
    *,
    actor: str | None = None,
    expected_version: int | None = None,
) -> tuple[Commitment, int]:
    case = await casework.load(uow, case_id, expected_version)
    commitment = await uow.commitments.get(commitment_id, for_update=True)
    if commitment is None or commitment.case_id != case.id:
        raise CommitmentNotFound(commitment_id)
    kept, event = commitment.keep(now, actor)
    await uow.commitments.save(kept)
    await uow.timers.cancel(case.id, kinds=KINDS, ref_prefix=str(commitment.id))
    touched = case.touched()
    await uow.cases.save(touched)
    await casework.note(uow, case, now, "commitment", f"commitment kept: {kept.description}", actor)
    await uow.emit(event, subject=case.id)
    return kept, touched.version


async def fire_due_soon(uow: UnitOfWork, timer: Timer, now: datetime) -> TimerOutcome:
    commitment = await uow.commitments.get(uuid.UUID(timer.ref), for_update=True)
    if commitment is None:
        return TimerOutcome.STALE
    reminded = commitment.due_soon(now)
    if reminded is None:
        return TimerOutcome.STALE
    updated, event = reminded
    await uow.commitments.save(updated)
    await uow.emit(event, subject=commitment.case_id)
    return TimerOutcome.FIRED


async def fire_due(uow: UnitOfWork, timer: Timer, now: datetime) -> TimerOutcome:
    """Due and not kept: missed, and the case climbs the ladder."""
    commitment = await uow.commitments.get(uuid.UUID(timer.ref), for_update=True)
    if commitment is None:
        return TimerOutcome.STALE
    missed = commitment.miss(now)
    if missed is None:
        return TimerOutcome.STALE
    updated, event = missed
    await uow.commitments.save(updated)
    await uow.emit(event, subject=commitment.case_id)
    case = await uow.cases.get_for_update(commitment.case_id)
    if case is not None:
        await casework.note(
            uow, case, now, "commitment", f"commitment missed: {commitment.description}", None
        )
        await escalation.climb(
            uow, case, EscalationReason.COMMITMENT_MISSED, now, note=commitment.description
        )
    return TimerOutcome.FIRED


async def take_over(
    uow: UnitOfWork, absorbed: RoutedCase, into: RoutedCase, now: datetime, lead: timedelta
) -> list[Commitment]:
    """A merge: the absorbed case's open commitments still stand, now on the surviving case
    (their timers move with them)."""
    moved = await uow.commitments.move(absorbed.id, into.id, into.number)
    if not moved:
        return moved
    await uow.timers.cancel(absorbed.id, kinds=KINDS)
    await uow.timers.schedule(
        *(
            timer
            for commitment in moved
            for timer in (
                Timer(DUE_SOON, into.id, str(commitment.id), max(now, commitment.due_at - lead)),
                Timer(DUE, into.id, str(commitment.id), commitment.due_at),
            )
        )
    )
    await casework.note(
        uow,
        into,
        now,
        "note",
        f"{len(moved)} commitment(s) taken over from {absorbed.number}",
        None,
    )
    return moved


def register(kinds: TimerKinds) -> None:
    """Hand the worker this module's timer kinds (and escalation its SLA alerts)."""
    kinds.register(DUE_SOON, fire_due_soon)
    kinds.register(DUE, fire_due)
    kinds.on_sla_alert(escalation.on_sla_alert)
