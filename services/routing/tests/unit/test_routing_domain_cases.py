import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import CaseAssigned, CaseOpened, CaseResolved, CaseType, Channel
from atiende_routing.domain.cases import TRANSITIONS, CaseStatus, RoutedCase
from atiende_routing.domain.errors import IllegalTransition
from atiende_routing.domain.rules import choose_team
from atiende_runtime.errors import Conflict

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
AT = OPENED_AT + timedelta(minutes=5)

ALLOWED = [
    (CaseStatus.NEW, CaseStatus.ASSIGNED),
    (CaseStatus.NEW, CaseStatus.RESOLVED),
    (CaseStatus.ASSIGNED, CaseStatus.RESOLVED),
]
REFUSED = [
    (current, target)
    for current in CaseStatus
    for target in (CaseStatus.ASSIGNED, CaseStatus.RESOLVED)
    if (current, target) not in ALLOWED
]


def case(status=CaseStatus.NEW, **fields):
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
    if target is CaseStatus.ASSIGNED:
        return routed.assign("general", AT)
    return routed.resolve("refund", AT)


def test_the_table_is_the_one_these_tests_check():
    assert {(c, t) for c, targets in TRANSITIONS.items() for t in targets} == set(ALLOWED)
    assert set(TRANSITIONS) == set(CaseStatus)
    assert TRANSITIONS[CaseStatus.RESOLVED] == frozenset()


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transitions_move_the_case(current, target):
    routed = case(current)
    assert routed.can_become(target)
    moved, _ = move(routed, target)
    assert moved.status is target
    assert routed.status is current  # the aggregate is immutable: a new case is returned


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


def test_resolving_a_resolved_case_is_a_conflict_titled_as_before():
    with pytest.raises(IllegalTransition) as refused:
        case(CaseStatus.RESOLVED).resolve("again", AT)
    assert refused.value.title == "Case cannot be resolved"
    assert "nothing else" in refused.value.message


def test_assign_sets_team_and_time_and_tells_case_assigned():
    assigned, event = case().assign("billing", AT)
    assert (assigned.status, assigned.team, assigned.assigned_at) == (
        CaseStatus.ASSIGNED,
        "billing",
        AT,
    )
    assert event == CaseAssigned(
        case_id=assigned.id, case_number="AT-2026-000001", team="billing", assigned_at=AT
    )


@pytest.mark.parametrize("current", [CaseStatus.NEW, CaseStatus.ASSIGNED])
def test_resolve_sets_resolution_and_time_and_tells_case_resolved(current):
    resolved, event = case(current).resolve("refund", AT)
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        CaseStatus.RESOLVED,
        "refund",
        AT,
    )
    assert event == CaseResolved(
        case_id=resolved.id, case_number="AT-2026-000001", resolution="refund", resolved_at=AT
    )


def test_a_case_opened_by_intake_starts_new():
    opened = CaseOpened(
        case_id=uuid.UUID(int=7),
        case_number="AT-2026-000007",
        customer_id=uuid.uuid4(),
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        description="wrong invoice",
        opened_at=OPENED_AT,
    )
    assert RoutedCase.opened(opened) == RoutedCase(
        id=uuid.UUID(int=7),
        number="AT-2026-000007",
        type="complaint",
        status=CaseStatus.NEW,
        opened_at=OPENED_AT,
    )


def test_every_case_goes_to_the_default_team():
    assert choose_team("complaint", "general") == "general"
    assert choose_team("claim", "billing") == "billing"
