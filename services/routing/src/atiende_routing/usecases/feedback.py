"""The closed loop with surveys: a detractor's answer opens a recovery case (linked, escalated)
for the agent who handled the original case, or the next rank up when they cannot work; a
satisfied answer after the resolution records step 7b when the seven steps allow it."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from atiende_contracts import (
    CaseStatus,
    EscalationReason,
    Rank,
    SurveyAnswered,
    SurveyDetractor,
)

from ..domain import recovery
from ..domain import steps as seven
from ..domain.cases import RoutedCase
from ..domain.errors import StepRequired
from ..domain.escalation import LADDER, order
from ..domain.org import Agent
from ..domain.steps import Step, StepRecord
from ..repository import UnitOfWork
from . import assignment, casework, escalation, sla, steps
from .lifecycle import calendar_for

log = logging.getLogger(__name__)


async def open_recovery(
    uow: UnitOfWork, event: SurveyDetractor, now: datetime
) -> RoutedCase | None:
    """A recovery case for a detractor's answer: a complaint linked to the original case, with
    its customer facts and SLA policy, given to the agent who handled the original (else the
    next rank up who can work, else the team's queue) and escalated (reason detractor). None
    when there is nothing to do: the original is unknown to routing, or this answer's recovery
    case already exists (a redelivery)."""
    original = await uow.cases.get_for_update(event.case_id)  # locked: numbers stay unique
    if original is None:
        log.warning(
            "survey.detractor about case %s (%s), unknown to routing: no recovery case",
            event.case_number,
            event.case_id,
        )
        return None
    case_id = recovery.recovery_id(original.id, event.invitation_id)
    if await uow.cases.get(case_id) is not None:
        return None
    earlier = await uow.cases.recoveries_of(original.id)
    number = recovery.recovery_number(original.number, len(earlier))
    case = recovery.recovery_case(original, case_id=case_id, number=number, at=now)
    if not await uow.cases.add(case):
        return None
    team = original.team or event.team
    if team is not None and await uow.org.get_team(team) is not None:
        holder = await _holder(uow, team, original.agent_id or event.agent_id, now)
        await assignment.hold(uow, case, team, holder, now)
    else:  # the original was never routed: the rules choose, as for any new case
        outcome = await assignment.route_case(uow, case, now)
        team, holder = outcome.team, outcome.agent
    case, events = case.route(
        team=team,
        agent_id=holder.id if holder else None,
        priority=None,
        policy_id=None,
        rule_id=None,
        rule_version=None,
        reason="recovery",
        at=now,
        agent_email=holder.email if holder else None,
        agent_name=holder.name if holder else None,
    )
    policy = await sla.policy_for(uow, original.policy_id)
    case = replace(case, policy_id=policy.id)
    calendar = await calendar_for(uow, case.team, policy)
    await sla.start_clocks(uow, case, policy, calendar, now, new_case=True)
    case = await casework.with_due(uow, case, now)
    await uow.cases.save(case, assignment=True)
    answer = _answer_words(event)
    await casework.note(
        uow, case, now, "opened", f"recovery of case {original.number}: {answer}", recovery.SURVEYS
    )
    if event.comment:
        await casework.note(
            uow, case, now, "note", f"the customer's comment: {event.comment}", recovery.SURVEYS
        )
    who = f"{holder.name} ({holder.id})" if holder else "the team queue"
    await casework.note(uow, case, now, "assigned", f"recovery: to team {team}, {who}", None)
    await casework.note(
        uow,
        original,
        now,
        "note",
        f"recovery case {number} opened: {answer}",
        recovery.SURVEYS,
    )
    await casework.emit_all(uow, case, events)
    return await escalation.climb(
        uow, case, EscalationReason.DETRACTOR, now, note=answer, actor=recovery.SURVEYS
    )


async def _holder(
    uow: UnitOfWork, team: str, handler_id: str | None, now: datetime
) -> Agent | None:
    """The agent who handled the original case if they can work now; else the first person who
    can at the next ranks of the team's ladder (their senior, supervisor, manager); else None."""
    handler = await uow.org.get_agent(handler_id) if handler_id else None
    if handler is not None and handler.can_work(now):
        return handler
    rank = handler.rank if handler is not None else Rank.AGENT
    for level in LADDER[order(rank) + 1 :]:
        person = await assignment.responsible(uow, team, level, now)
        if person is not None:
            return person
    return None


def _answer_words(event: SurveyDetractor) -> str:
    scores = ", ".join(f"{name} {value:g}" for name, value in sorted(event.scores.items()))
    why = ", ".join(event.reasons)
    return f"a detractor's {event.questionnaire_kind} answer ({scores}; {why})"


async def survey_answered(
    uow: UnitOfWork, event: SurveyAnswered, now: datetime
) -> StepRecord | None:
    """A satisfied answer (CSAT 4-5, or satisfaction 4-5) about a resolved case records step 7b
    ("customer satisfied verified") by the survey, once. When the domain does not allow it (7a is
    missing, the case is closed or open again) the case's timeline says so instead."""
    if not recovery.shows_satisfaction(event.scores, event.satisfaction):
        return None
    case = await uow.cases.get_for_update(event.case_id)
    if case is None:
        return None
    done = {r.step for r in await uow.steps.of_case(case.id)}
    if Step.SATISFACTION_VERIFIED in done:
        return None
    words = _satisfied_words(event)
    if case.status is not CaseStatus.RESOLVED:
        # a closed case takes no more steps; an open one is not resolved (again) yet
        await _not_recorded(uow, case, now, f"{words}; the case is {case.status}")
        return None
    try:
        record, _ = await steps.record_step(
            uow, case.id, Step.SATISFACTION_VERIFIED, words, now, actor=recovery.SURVEYS
        )
    except StepRequired as refused:
        await _not_recorded(uow, case, now, f"{words}; {refused.message}")
        return None
    return record


def _satisfied_words(event: SurveyAnswered) -> str:
    kind = event.questionnaire_kind or "satisfaction"
    score = event.scores.get("csat") if event.scores else None
    shown = f"CSAT {score:g}" if score is not None else f"satisfaction {event.satisfaction}/5"
    return f"the customer answered the {kind} survey satisfied ({shown})"


async def _not_recorded(uow: UnitOfWork, case: RoutedCase, now: datetime, why: str) -> None:
    label = seven.LABELS[Step.SATISFACTION_VERIFIED]
    await casework.note(
        uow, case, now, "note", f"step 7b ({label}) not recorded: {why}", recovery.SURVEYS
    )
