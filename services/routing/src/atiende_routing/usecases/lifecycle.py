"""The case's lifecycle: opened (routed, assigned, clocks started, escalated at once for an upset
customer), claimed, assigned, transferred, paused and resumed, resolved, closed, reopened; and what
intake tells routing about it later (a new contact, a reclassification, a merge, the customer's
profile, an erasure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from atiende_contracts import (
    CaseContactLinked,
    CaseMerged,
    CaseOpened,
    CaseReclassified,
    CaseStatus,
    CustomerErased,
    CustomerProfileChanged,
    EscalationReason,
)
from atiende_runtime.errors import Conflict, Invalid

from ..domain import steps as seven
from ..domain.calendars import BusinessCalendar
from ..domain.cases import STATUS_COMMAND_TARGETS, WAITING, RoutedCase
from ..domain.commitments import Commitment
from ..domain.errors import CaseNotFound, NotPermitted, TeamNotFound
from ..domain.escalation import EscalationRecord
from ..domain.org import Agent
from ..domain.root_causes import RootCause
from ..domain.root_causes import check as check_root_cause
from ..domain.rules import CaseFacts, explain
from ..domain.sla import SlaPolicy
from ..domain.steps import Step, StepRecord
from ..repository import UnitOfWork
from ..repository.cases import QueueFilter, QueuePosition, TimelineEntry
from ..settings import RoutingSettings
from . import assignment, casework, commitments, escalation, problems, procedures, sla


@dataclass(frozen=True)
class Rules:
    """The lifecycle's settings, as the entrypoints pass them in."""

    require_steps: bool = True
    """The seven-step gates on complaints and claims (resolve: 3-6; close: 7a+7b or a waiver)."""
    reopen_window: timedelta = timedelta(days=14)
    """For a case whose team is unknown; a team's own window wins."""
    commitment_lead: timedelta = timedelta(minutes=15)
    """How long before a commitment's due time its owner is reminded."""

    @classmethod
    def of(cls, settings: RoutingSettings) -> Rules:
        return cls(
            require_steps=settings.require_steps,
            reopen_window=timedelta(days=settings.reopen_window_days),
            commitment_lead=timedelta(minutes=settings.commitment_reminder_minutes),
        )


DEFAULT_RULES = Rules()


# --- opening -------------------------------------------------------------------------------------


async def open_case(
    uow: UnitOfWork, event: CaseOpened, now: datetime, rules: Rules = DEFAULT_RULES
) -> RoutedCase | None:
    """Take in a case intake opened: route it by the rules, give it to an agent (or the team's
    queue), start its clocks, and escalate it at once if the customer is upset. None when it was
    already known (the same case under another event id), so it is never assigned twice."""
    case = RoutedCase.opened(event)
    # the insert is the duplicate check (ON CONFLICT DO NOTHING): it comes first, so a second
    # delivery of the case waits for the first one's commit and then does nothing
    if not await uow.cases.add(case):
        return None
    opened = TimelineEntry(case.id, now, "opened", f"opened by intake ({case.channel})")
    if case.expectation:
        # the customer said what they expect when opening the case: step 3 starts prefilled
        await uow.steps.record(
            StepRecord(case.id, Step.EXPECTATION, case.expectation, None, now, source="intake")
        )
    # who holds the case is stored below, once its deadline is known
    outcome = await assignment.route_case(uow, case, now, hold=False)
    agent = outcome.agent
    case, events = case.route(
        team=outcome.team,
        agent_id=agent.id if agent else None,
        priority=outcome.priority,
        policy_id=outcome.policy_id,
        rule_id=outcome.rule_id,
        rule_version=outcome.rule_version,
        reason=outcome.reason,
        at=now,
        agent_email=agent.email if agent else None,
        agent_name=agent.name if agent else None,
    )
    policy = await sla.policy_for(uow, case.policy_id)
    # the team routing just read (and locked) gives the calendar: no second read of it
    calendar = outcome.team_found.calendar if policy.business_hours and outcome.team_found else None
    clocks = await sla.start_clocks(uow, case, policy, calendar, now, new_case=True)
    due = sla.earliest_due(clocks, now)
    case = replace(case, policy_id=policy.id, sla_due_at=due)
    await uow.work.put(replace(outcome.item, due_at=due))
    await uow.cases.save(case, assignment=True)
    assigned = TimelineEntry(case.id, now, "assigned", _assigned_words(case, agent))
    await uow.cases.add_timeline(opened, assigned)
    await casework.emit_all(uow, case, events)
    await problems.on_opened(uow, case, now)
    if case.upset:
        case = await escalation.climb(uow, case, EscalationReason.CUSTOMER_UPSET, now)
    return case


def _assigned_words(case: RoutedCase, agent: Agent | None) -> str:
    who = f"{agent.name} ({agent.id})" if agent else "the team queue"
    return f"to team {case.team}, {who}; priority {case.priority}, rule {case.rule_id}"


async def calendar_for(
    uow: UnitOfWork, team_id: str | None, policy: SlaPolicy
) -> BusinessCalendar | None:
    if not policy.business_hours or team_id is None:
        return None
    team = await uow.org.get_team(team_id)
    return team.calendar if team else None


# --- who works it ----------------------------------------------------------------------------------


async def _give(
    uow: UnitOfWork,
    case: RoutedCase,
    team: str,
    agent_id: str | None,
    now: datetime,
    *,
    reason: str,
    actor: str | None,
) -> RoutedCase:
    if not case.is_open:
        raise Conflict(
            f"case {case.number} is {case.status}: reopen it before giving it to someone",
            title="Case cannot be assigned",
            extensions={"current_status": case.status.value, "allowed_statuses": ["reopened"]},
        )
    agent = await assignment.manual(uow, case, team, agent_id, now)
    given, events = case.route(
        team=team,
        agent_id=agent.id if agent else None,
        priority=None,
        policy_id=None,
        rule_id=None,
        rule_version=None,
        reason=reason,
        at=now,
        agent_email=agent.email if agent else None,
        agent_name=agent.name if agent else None,
        actor=actor,
    )
    await uow.cases.save(given, assignment=True)
    await casework.note(
        uow, case, now, "assigned", f"{reason}: {_assigned_words(given, agent)}", actor
    )
    await casework.emit_all(uow, given, events)
    return given


async def claim(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    agent_id: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> RoutedCase:
    """The agent takes the case for themself (within its team)."""
    case = await casework.load(uow, case_id, expected_version)
    team = case.team or ""
    return await _give(uow, case, team, agent_id, now, reason="claimed", actor=agent_id)


async def assign(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    agent_id: str,
    now: datetime,
    *,
    actor: str | None = None,
    expected_version: int | None = None,
) -> RoutedCase:
    case = await casework.load(uow, case_id, expected_version)
    team = case.team or ""
    return await _give(uow, case, team, agent_id, now, reason="assigned by hand", actor=actor)


async def transfer(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    team: str,
    reason: str,
    now: datetime,
    *,
    agent_id: str | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
) -> RoutedCase:
    """To another team (and agent, or the team's strategy chooses); the clocks keep running."""
    if not reason.strip():
        raise Invalid.field("reason", "required", "a transfer says why")
    case = await casework.load(uow, case_id, expected_version)
    if await uow.org.get_team(team) is None:
        raise TeamNotFound(team)
    return await _give(
        uow, case, team, agent_id, now, reason=f"transferred: {reason.strip()}", actor=actor
    )


# --- status ------------------------------------------------------------------------------------------


async def _moved(
    uow: UnitOfWork,
    before: RoutedCase,
    after: RoutedCase,
    now: datetime,
    *,
    reason: str | None,
    note: str | None,
    actor: str | None,
) -> RoutedCase:
    """After a transition: the clocks follow the status, the queues their deadline."""
    await sla.on_status_changed(uow, after, before.status, after.status, reason, now, note=note)
    after = await casework.with_due(uow, after, now)
    await uow.cases.save(after)
    words = f"{before.status} → {after.status}"
    if reason:
        words += f" ({reason})"
    if note:
        words += f": {note}"
    await casework.note(uow, after, now, "status", words, actor)
    return after


async def change_status(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    target: CaseStatus,
    now: datetime,
    *,
    reason: str | None = None,
    note: str | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
) -> RoutedCase:
    """Start work, pause it (waiting on the customer or a third party: a reason from the
    managed list and a free note) or resume it."""
    if target not in STATUS_COMMAND_TARGETS:
        allowed = ", ".join(sorted(STATUS_COMMAND_TARGETS))
        raise Invalid.field(
            "status",
            "status_command",
            f"this command moves a case to {allowed}; resolve, close and reopen have their own",
        )
    case = await casework.load(uow, case_id, expected_version)
    if target in WAITING:
        await sla.check_pause_reason(uow, reason)
    moved, changed = case.change_status(target, now, reason=reason, note=note, actor=actor)
    moved = await _moved(uow, case, moved, now, reason=reason, note=note, actor=actor)
    await uow.emit(changed, subject=case.id)
    return moved


async def resolve_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    resolution: str,
    now: datetime,
    *,
    root_cause: RootCause | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
    rules: Rules = DEFAULT_RULES,
) -> RoutedCase:
    """Resolved, with its root cause (required for complaints and claims); in the same
    transaction the problem thresholds and the procedure review threshold look at it."""
    case = await casework.load(uow, case_id, expected_version)
    case.ensure_can_become(
        CaseStatus.RESOLVED
    )  # the 409 naming the statuses comes before the steps' gate
    records = await uow.steps.of_case(case.id)
    if rules.require_steps:
        seven.check_resolvable(case.is_complaint_or_claim, [r.step for r in records])
    check_root_cause(case.is_complaint_or_claim, root_cause)
    if root_cause is not None:
        await procedures.check_named(uow, root_cause)
    resolved, events = case.resolved(
        resolution,
        now,
        steps=seven.summary(records) or None,
        actor=actor,
        root_cause=root_cause,
    )
    resolved = await _moved(uow, case, resolved, now, reason="resolved", note=None, actor=actor)
    if root_cause is not None:
        await casework.note(uow, resolved, now, "note", _root_cause_words(root_cause), actor)
    await assignment.release(uow, case.id, now)
    await casework.emit_all(uow, case, events)
    await problems.on_resolved(uow, resolved, now)
    blamed = root_cause.blamed if root_cause else None
    if blamed is not None:
        await procedures.on_resolved(uow, *blamed, now)
    return resolved


def _root_cause_words(root_cause: RootCause) -> str:
    words = f"root cause: {root_cause.category.value.replace('_', ' ')}"
    named = [f"procedure {root_cause.procedure}"] if root_cause.procedure else []
    named += [f"policy {root_cause.policy}"] if root_cause.policy else []
    if named:
        words += f" ({', '.join(named)})"
    return words + (f": {root_cause.note}" if root_cause.note else "")


async def close_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    now: datetime,
    *,
    waiver: str | None = None,
    supervisor: bool = False,
    actor: str | None = None,
    expected_version: int | None = None,
    rules: Rules = DEFAULT_RULES,
) -> RoutedCase:
    """Closed once both verifications are recorded (complaints and claims), or with a
    supervisor's reasoned waiver."""
    if waiver is not None and not waiver.strip():
        raise Invalid.field("waiver", "required", "a waiver gives its reason")
    if waiver and not supervisor:
        raise NotPermitted("only a supervisor may waive the verifications")
    case = await casework.load(uow, case_id, expected_version)
    case.ensure_can_become(CaseStatus.CLOSED)
    if rules.require_steps:
        done = [r.step for r in await uow.steps.of_case(case.id)]
        seven.check_closable(case.is_complaint_or_claim, done, waiver)
    reason = "waived" if waiver else "verified"
    closed, events = case.close(reason, now, note=waiver, actor=actor)
    closed = await _moved(uow, case, closed, now, reason=reason, note=waiver, actor=actor)
    await assignment.release(uow, case.id, now)
    await casework.emit_all(uow, case, events)
    return closed


async def _reopen_window(uow: UnitOfWork, case: RoutedCase, rules: Rules) -> timedelta:
    team = await uow.org.get_team(case.team) if case.team else None
    return timedelta(days=team.reopen_window_days) if team else rules.reopen_window


async def reopen_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    actor: str | None = None,
    contact_id: uuid.UUID | None = None,
    expected_version: int | None = None,
    rules: Rules = DEFAULT_RULES,
) -> RoutedCase:
    if not reason.strip():
        raise Invalid.field("reason", "required", "a reopening says why")
    case = await casework.load(uow, case_id, expected_version)
    return await _reopen(uow, case, reason.strip(), now, actor, contact_id, rules)


async def _reopen(
    uow: UnitOfWork,
    case: RoutedCase,
    reason: str,
    now: datetime,
    actor: str | None,
    contact_id: uuid.UUID | None,
    rules: Rules,
) -> RoutedCase:
    case.ensure_can_become(CaseStatus.REOPENED)
    if case.close_reason == "merged":
        raise Conflict(
            f"case {case.number} was merged into another case: work that one",
            title="Case cannot be reopened",
        )
    window = await _reopen_window(uow, case, rules)
    if not case.within_reopen_window(now, window):
        raise Conflict(
            f"case {case.number} ended more than {window.days} days ago: open a new case linked"
            " to it instead",
            title="Case cannot be reopened",
            extensions={"reopen_window_days": window.days},
        )
    reopened, events = case.reopen(reason, now, contact_id=contact_id, actor=actor)
    reopened = await _moved(uow, case, reopened, now, reason=reason, note=None, actor=actor)
    # back with its agent when they can work, else the team's strategy or queue
    previous = await uow.org.get_agent(case.agent_id) if case.agent_id else None
    keep = previous if previous is not None and previous.can_work(now) else None
    agent = await assignment.manual(uow, reopened, case.team or "", keep.id if keep else None, now)
    if agent is None or agent.id != case.agent_id:
        reopened = replace(reopened, agent_id=agent.id if agent else None)
        await uow.cases.save(reopened)
    await casework.emit_all(uow, case, events)
    return reopened


# --- what intake tells routing later --------------------------------------------------------------


async def contact_linked(
    uow: UnitOfWork, event: CaseContactLinked, now: datetime, rules: Rules = DEFAULT_RULES
) -> RoutedCase | None:
    """The customer came back about the case: an upset customer escalates it; a resolved or
    closed case reopens within the window (after it: a timeline note, intake opens a new case);
    a case waiting on the customer resumes; any other open case takes it as a repeat contact
    and climbs the ladder. The next-update clock restarts for the answer the customer is owed."""
    case = await uow.cases.get_for_update(event.case_id)
    if case is None:
        return None
    await casework.note(uow, case, now, "contact", f"customer contact ({event.channel})", None)
    if event.upset and not case.upset:
        case = replace(case, upset=True)
        await uow.cases.save(case)
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        if case.close_reason == "merged":
            return case
        window = await _reopen_window(uow, case, rules)
        if not case.within_reopen_window(now, window):
            await casework.note(
                uow,
                case,
                now,
                "note",
                "contact after the reopen window: routing leaves this case closed; intake"
                " opens a new case linked to it",
                None,
            )
            return case
        case = await _reopen(uow, case, "customer came back", now, None, event.contact_id, rules)
    elif case.status is CaseStatus.WAITING_ON_CUSTOMER:
        resumed, changed = case.change_status(
            CaseStatus.IN_PROGRESS, now, reason="customer replied"
        )
        case = await _moved(
            uow, case, resumed, now, reason="customer replied", note=None, actor=None
        )
        await uow.emit(changed, subject=case.id)
    else:
        case = await escalation.climb(uow, case, EscalationReason.REPEAT_CONTACT, now)
    if event.upset:
        case = await escalation.climb(uow, case, EscalationReason.CUSTOMER_UPSET, now)
    await sla.restart_next_update(uow, case, now)
    case = await casework.with_due(uow, case, now)
    await uow.cases.save(case)
    return case


async def reclassified(
    uow: UnitOfWork, event: CaseReclassified, now: datetime
) -> RoutedCase | None:
    """New facts: the rules run again; another team takes it if the outcome's team changed,
    and the clocks are retargeted (keeping time elapsed and paused) if priority or policy did."""
    case = await uow.cases.get_for_update(event.case_id)
    if case is None or not case.is_open:
        return None
    was_upset = case.upset
    facts = case.reclassified(event.after)
    explanation = explain(CaseFacts.of(facts), await uow.rules.current())
    outcome = explanation.outcome
    await uow.rules.record_decision(case.id, explanation, now)
    await casework.note(
        uow,
        case,
        now,
        "note",
        f"reclassified: {event.reason} (rule {explanation.rule_id})",
        event.actor,
    )
    updated = replace(facts, rule_id=explanation.rule_id, rule_version=explanation.version)
    if outcome.team != case.team:
        updated = await _give(
            uow, updated, outcome.team, None, now, reason="reclassified", actor=event.actor
        )
    if outcome.priority != case.priority or (
        outcome.policy_id is not None and outcome.policy_id != case.policy_id
    ):
        policy = await sla.policy_for(uow, outcome.policy_id or case.policy_id)
        updated = replace(updated, priority=outcome.priority, policy_id=policy.id)
        await sla.reprioritise(uow, updated, policy, now)
    updated = await casework.with_due(uow, updated, now)
    await uow.cases.save(updated)
    if updated.upset and not was_upset:
        updated = await escalation.climb(uow, updated, EscalationReason.CUSTOMER_UPSET, now)
    return updated


async def merged(
    uow: UnitOfWork, event: CaseMerged, now: datetime, rules: Rules = DEFAULT_RULES
) -> RoutedCase | None:
    """The absorbed case closes as merged (its clocks stop, their history stays); its open
    commitments still stand, now on the surviving case."""
    case = await uow.cases.get_for_update(event.case_id)
    if case is None or case.status is CaseStatus.CLOSED:
        return None
    closed, events = case.absorbed_into(
        event.into_case_id, now, note=event.reason, actor=event.actor
    )
    await sla.on_status_changed(uow, closed, case.status, closed.status, "merged", now)
    closed = replace(closed, sla_due_at=None)
    await uow.cases.save(closed)
    await casework.note(
        uow,
        case,
        now,
        "status",
        f"merged into {event.into_case_number}: {event.reason}",
        event.actor,
    )
    into = await uow.cases.get_for_update(event.into_case_id)
    if into is not None:
        await commitments.take_over(uow, case, into, now, rules.commitment_lead)
    await assignment.release(uow, case.id, now)
    await casework.emit_all(uow, case, events)
    return closed


async def profile_changed(uow: UnitOfWork, event: CustomerProfileChanged) -> int:
    """Tier, language and register copied onto the customer's open cases; returns how many."""
    changed = 0
    for case in await uow.cases.of_customer(event.customer_id):
        if not case.is_open:
            continue
        updated = case.with_profile(event.tier, event.language, event.formality)
        if updated is not case:
            await uow.cases.save(updated)
            changed += 1
    return changed


async def erased(uow: UnitOfWork, event: CustomerErased) -> int:
    """Every free text routing holds about the customer's cases pseudonymised: notes, step texts,
    commitment descriptions, resolutions, expectations, pause notes. Returns how many cases."""
    ids = set(event.case_ids) | {c.id for c in await uow.cases.of_customer(event.customer_id)}
    count = 0
    for case_id in sorted(ids):
        case = await uow.cases.get_for_update(case_id)
        if case is None:
            continue
        await uow.steps.erase(case.id, casework.ERASED)
        await uow.commitments.erase(case.id, casework.ERASED)
        await uow.escalations.erase(case.id, casework.ERASED)
        await uow.cases.erase_timeline(case.id, casework.ERASED)
        await uow.cases.save(
            replace(
                case,
                resolution=casework.ERASED if case.resolution else None,
                expectation=casework.ERASED if case.expectation else None,
                waiting_note=casework.ERASED if case.waiting_note else None,
                root_cause_note=casework.ERASED if case.root_cause_note else None,
                version=case.version + 1,
            )
        )
        count += 1
    # the same texts in events routing keeps after publishing (or has yet to publish)
    await uow.scrub_copies(
        subjects=[event.customer_id, *ids], values=(), free_text=casework.ERASABLE_FIELDS
    )
    return count


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    case: RoutedCase
    clocks: list[sla.ClockView]
    steps: list[StepRecord]
    commitments: list[Commitment]
    escalations: list[EscalationRecord]
    timeline: list[TimelineEntry]


async def get_case(uow: UnitOfWork, case_id: uuid.UUID) -> RoutedCase:
    case = await uow.cases.get(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


async def view_case(uow: UnitOfWork, case_id: uuid.UUID, now: datetime) -> CaseView:
    case = await get_case(uow, case_id)
    return CaseView(
        case=case,
        clocks=await sla.clocks_of(uow, case_id, now),
        steps=await uow.steps.of_case(case_id),
        commitments=await uow.commitments.of_case(case_id),
        escalations=await uow.escalations.of_case(case_id),
        timeline=await uow.cases.timeline(case_id),
    )


async def queue(
    uow: UnitOfWork, where: QueueFilter, cursor: str | None, limit: int
) -> tuple[list[RoutedCase], str | None]:
    """A page of a queue (escalated first, then the earliest deadline) and the next page's cursor."""
    after = None
    if cursor:
        try:
            after = QueuePosition.decode(cursor)
        except (ValueError, TypeError):
            raise Invalid.field(
                "cursor", "invalid_cursor", "not a cursor this API gave out"
            ) from None
    cases = await uow.cases.queue(where, after, limit + 1)
    more = len(cases) > limit
    page = cases[:limit]
    return page, QueuePosition.of(page[-1]).encode() if more and page else None
