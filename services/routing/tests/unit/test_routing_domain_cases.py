import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseStatusChanged,
    CaseType,
    Channel,
    Formality,
    Rank,
    Tier,
)
from atiende_routing.domain.cases import OPEN, TRANSITIONS, WAITING, CaseStatus, RoutedCase
from atiende_routing.domain.errors import IllegalTransition
from atiende_runtime.errors import Conflict

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
AT = OPENED_AT + timedelta(minutes=5)
S = CaseStatus

ALLOWED = {
    (S.NEW, S.ASSIGNED),
    (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.RESOLVED),
    (S.ASSIGNED, S.IN_PROGRESS),
    (S.ASSIGNED, S.WAITING_ON_CUSTOMER),
    (S.ASSIGNED, S.WAITING_ON_THIRD_PARTY),
    (S.ASSIGNED, S.RESOLVED),
    (S.IN_PROGRESS, S.WAITING_ON_CUSTOMER),
    (S.IN_PROGRESS, S.WAITING_ON_THIRD_PARTY),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS),
    (S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY),
    (S.WAITING_ON_CUSTOMER, S.RESOLVED),
    (S.WAITING_ON_THIRD_PARTY, S.IN_PROGRESS),
    (S.WAITING_ON_THIRD_PARTY, S.WAITING_ON_CUSTOMER),
    (S.WAITING_ON_THIRD_PARTY, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.REOPENED),
    (S.CLOSED, S.REOPENED),
    (S.REOPENED, S.ASSIGNED),
    (S.REOPENED, S.IN_PROGRESS),
    (S.REOPENED, S.WAITING_ON_CUSTOMER),
    (S.REOPENED, S.WAITING_ON_THIRD_PARTY),
    (S.REOPENED, S.RESOLVED),
}
REFUSED = [(c, t) for c in S for t in S if (c, t) not in ALLOWED]


def case(status=S.NEW, **fields):
    return RoutedCase(
        id=uuid.UUID(int=1),
        number="AT-2026-000001",
        type="complaint",
        status=status,
        opened_at=OPENED_AT,
        **fields,
    )


def move(routed, target):
    """The method that moves a case to `target`."""
    if target is S.RESOLVED:
        return routed.resolve("refund", AT)
    if target is S.CLOSED:
        return routed.close("verified", AT)
    if target is S.REOPENED:
        return routed.reopen("came back", AT)
    return routed.change_status(target, AT, reason="r")


def test_the_table_is_the_one_these_tests_check():
    assert {(c, t) for c, targets in TRANSITIONS.items() for t in targets} == ALLOWED
    assert set(TRANSITIONS) == set(S)
    assert set(S) - {S.RESOLVED, S.CLOSED} == OPEN


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transitions_move_the_case_and_tell_the_status_change(current, target):
    routed = case(current)
    assert routed.can_become(target)
    moved, told = move(routed, target)
    assert moved.status is target
    assert moved.version == routed.version + 1
    assert routed.status is current  # the aggregate is immutable: a new case is returned
    changes = [e for e in (told if isinstance(told, list) else [told])]
    if target not in (S.RESOLVED,) or isinstance(told, list):
        assert any(isinstance(e, (CaseStatusChanged, CaseResolved)) for e in changes)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_transitions_name_the_current_and_the_allowed_statuses(current, target):
    routed = case(current)
    assert not routed.can_become(target)
    with pytest.raises(IllegalTransition) as refused:
        move(routed, target)
    error = refused.value
    assert isinstance(error, Conflict)
    assert (error.current, error.target) == (current, target)
    assert set(error.allowed) == TRANSITIONS[current]
    assert f"is {current}" in error.message
    assert routed.number in error.message
    assert error.title == f"Case cannot be {target}"
    assert error.extensions["current_status"] == current
    assert set(error.extensions["allowed_statuses"]) == TRANSITIONS[current]


def test_resolving_a_resolved_case_is_a_conflict_titled_as_before():
    with pytest.raises(IllegalTransition) as refused:
        case(S.RESOLVED).resolve("again", AT)
    assert refused.value.title == "Case cannot be resolved"
    assert "closed, reopened" in refused.value.message


def test_assign_sets_team_and_time_and_tells_case_assigned():
    assigned, event = case().assign("billing", AT)
    assert (assigned.status, assigned.team, assigned.assigned_at) == (S.ASSIGNED, "billing", AT)
    assert event == CaseAssigned(
        case_id=assigned.id,
        case_number="AT-2026-000001",
        team="billing",
        assigned_at=AT,
        priority="normal",
        reason="routed",
    )


def test_routing_a_case_being_worked_keeps_its_status_and_names_the_previous_agent():
    working = case(S.IN_PROGRESS, team="general", agent_id="ana")
    moved, events = working.route(
        team="billing",
        agent_id="luis",
        priority="high",
        policy_id=None,
        rule_id=None,
        rule_version=None,
        reason="transferred: billing question",
        at=AT,
        actor="ana",
    )
    assert moved.status is S.IN_PROGRESS
    assert (moved.team, moved.agent_id, moved.priority) == ("billing", "luis", "high")
    [assigned] = events
    assert isinstance(assigned, CaseAssigned)
    assert (assigned.previous_agent_id, assigned.actor) == ("ana", "ana")


def test_a_closed_case_cannot_be_routed():
    with pytest.raises(IllegalTransition):
        case(S.CLOSED).route(
            team="x",
            agent_id=None,
            priority=None,
            policy_id=None,
            rule_id=None,
            rule_version=None,
            reason=None,
            at=AT,
        )


@pytest.mark.parametrize("current", [S.NEW, S.ASSIGNED])
def test_resolve_sets_resolution_and_time_and_tells_case_resolved(current):
    resolved, event = case(current, team="general").resolve("refund", AT, steps=["3: x"])
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        S.RESOLVED,
        "refund",
        AT,
    )
    assert event == CaseResolved(
        case_id=resolved.id,
        case_number="AT-2026-000001",
        resolution="refund",
        resolved_at=AT,
        steps=["3: x"],
        team="general",
    )


def test_a_pause_keeps_its_reason_and_note_until_work_resumes():
    paused, told = case(S.IN_PROGRESS).change_status(
        S.WAITING_ON_THIRD_PARTY, AT, reason="supplier", note="asked the warehouse", actor="ana"
    )
    assert (paused.waiting_reason, paused.waiting_note) == ("supplier", "asked the warehouse")
    assert (told.from_status, told.to_status, told.reason, told.note, told.actor) == (
        S.IN_PROGRESS,
        S.WAITING_ON_THIRD_PARTY,
        "supplier",
        "asked the warehouse",
        "ana",
    )
    resumed, _ = paused.change_status(S.IN_PROGRESS, AT)
    assert (resumed.waiting_reason, resumed.waiting_note) == (None, None)
    assert {S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY} == WAITING


def test_close_and_reopen_tell_their_events():
    closed, events = case(S.RESOLVED, resolved_at=AT).close(
        "waived", AT, note="customer unreachable"
    )
    assert (closed.status, closed.close_reason, closed.closed_at) == (S.CLOSED, "waived", AT)
    assert isinstance(events[0], CaseStatusChanged)
    assert events[1] == CaseClosed(
        case_id=closed.id, case_number=closed.number, reason="waived", closed_at=AT
    )
    contact = uuid.uuid4()
    reopened, events = closed.reopen("customer came back", AT, contact_id=contact)
    assert (reopened.status, reopened.closed_at, reopened.resolved_at) == (S.REOPENED, None, None)
    assert events[1] == CaseReopened(
        case_id=closed.id,
        case_number=closed.number,
        reason="customer came back",
        contact_id=contact,
        reopened_at=AT,
    )


def test_the_reopen_window_counts_from_the_end_of_the_case():
    ended = case(S.RESOLVED, resolved_at=OPENED_AT)
    assert ended.within_reopen_window(OPENED_AT + timedelta(days=14), timedelta(days=14))
    assert not ended.within_reopen_window(
        OPENED_AT + timedelta(days=14, seconds=1), timedelta(days=14)
    )


@pytest.mark.parametrize("current", sorted(set(S) - {S.CLOSED}))
def test_a_merge_closes_the_absorbed_case_from_any_status_but_closed(current):
    into = uuid.uuid4()
    merged, events = case(current).absorbed_into(into, AT, note="duplicate")
    assert (merged.status, merged.close_reason, merged.merged_into) == (S.CLOSED, "merged", into)
    assert isinstance(events[1], CaseClosed)
    assert events[1].reason == "merged"


def test_a_closed_case_cannot_be_merged_again():
    with pytest.raises(IllegalTransition):
        case(S.CLOSED).absorbed_into(uuid.uuid4(), AT)


def test_a_case_opened_by_intake_carries_the_facts_rules_look_at():
    opened = CaseOpened(
        case_id=uuid.UUID(int=7),
        case_number="AT-2026-000007",
        customer_id=uuid.UUID(int=9),
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        description="wrong invoice",
        opened_at=OPENED_AT,
        tier=next(iter(Tier)),
        formality=Formality.INFORMAL,
        upset=True,
        expectation="a refund",
        motive="billing",
    )
    routed = RoutedCase.opened(opened)
    assert (routed.id, routed.number, routed.type, routed.status) == (
        uuid.UUID(int=7),
        "AT-2026-000007",
        "complaint",
        S.NEW,
    )
    assert (routed.channel, routed.motive, routed.formality, routed.upset) == (
        "phone",
        "billing",
        "informal",
        True,
    )
    assert routed.expectation == "a refund"
    assert routed.escalation is None
    assert routed.version == 1


def test_profile_and_escalation_changes_bump_the_version():
    routed = case()
    tier = list(Tier)[-1]
    profiled = routed.with_profile(tier, "en", Formality.FORMAL)
    assert (profiled.tier, profiled.language, profiled.formality) == (tier.value, "en", "formal")
    assert profiled.version == 2
    assert profiled.with_profile(tier, "en", Formality.FORMAL) is profiled
    assert routed.escalated_to(Rank.SENIOR, "sara").escalation is Rank.SENIOR
