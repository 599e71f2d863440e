import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import CaseAssigned, CaseOpened, CaseResolved, CaseType, Channel
from atiende_routing.domain.cases import CaseStatus, RoutedCase
from atiende_routing.domain.errors import CaseNotFound, IllegalTransition
from atiende_routing.usecases import lifecycle as usecases

from ..fakes import FakeUnitOfWork

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NOW = OPENED_AT + timedelta(minutes=2)
CASE_ID = uuid.UUID(int=42)


def opened():
    return CaseOpened(
        case_id=CASE_ID,
        case_number="AT-2026-000042",
        customer_id=uuid.uuid4(),
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.EMAIL,
        description="wrong invoice",
        opened_at=OPENED_AT,
    )


async def test_an_opened_case_is_stored_assigned_and_told():
    uow = FakeUnitOfWork()
    assigned = await usecases.open_and_assign(uow, opened(), "general", NOW)

    assert assigned is not None
    assert (assigned.status, assigned.team, assigned.assigned_at) == (
        CaseStatus.ASSIGNED,
        "general",
        NOW,
    )
    assert uow.cases.cases[CASE_ID] == assigned
    assert uow.cases.assignments[CASE_ID] == 1
    assert uow.emitted == [
        CaseAssigned(case_id=CASE_ID, case_number="AT-2026-000042", team="general", assigned_at=NOW)
    ]
    assert uow.subjects == [CASE_ID]


async def test_a_case_already_known_is_not_assigned_again():
    uow = FakeUnitOfWork()
    await usecases.open_and_assign(uow, opened(), "general", NOW)
    again = await usecases.open_and_assign(uow, opened(), "billing", NOW + timedelta(hours=1))

    assert again is None
    assert uow.cases.assignments[CASE_ID] == 1
    assert uow.cases.cases[CASE_ID].team == "general"
    assert len(uow.emitted) == 1


async def test_resolving_stores_the_resolution_and_tells_case_resolved():
    uow = FakeUnitOfWork()
    await usecases.open_and_assign(uow, opened(), "general", NOW)
    later = NOW + timedelta(hours=3)

    resolved = await usecases.resolve_case(uow, CASE_ID, "refund", later)

    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        CaseStatus.RESOLVED,
        "refund",
        later,
    )
    assert await usecases.get_case(uow, CASE_ID) == resolved
    assert uow.emitted[-1] == CaseResolved(
        case_id=CASE_ID, case_number="AT-2026-000042", resolution="refund", resolved_at=later
    )
    assert uow.subjects[-1] == CASE_ID


async def test_resolving_twice_is_refused_and_changes_nothing():
    uow = FakeUnitOfWork()
    await usecases.open_and_assign(uow, opened(), "general", NOW)
    first = await usecases.resolve_case(uow, CASE_ID, "refund", NOW)

    with pytest.raises(IllegalTransition) as refused:
        await usecases.resolve_case(uow, CASE_ID, "again", NOW + timedelta(days=1))

    assert refused.value.title == "Case cannot be resolved"
    assert refused.value.current == CaseStatus.RESOLVED
    assert uow.cases.cases[CASE_ID] == first
    assert [type(e) for e in uow.emitted] == [CaseAssigned, CaseResolved]


async def test_a_new_case_can_be_resolved_before_it_is_assigned():
    new = RoutedCase(
        id=CASE_ID,
        number="AT-2026-000042",
        type="complaint",
        status=CaseStatus.NEW,
        opened_at=OPENED_AT,
    )
    uow = FakeUnitOfWork(new)
    resolved = await usecases.resolve_case(uow, CASE_ID, "answered", NOW)
    assert resolved.status is CaseStatus.RESOLVED
    assert resolved.team is None


async def test_an_unknown_case_is_not_found():
    uow = FakeUnitOfWork()
    unknown = uuid.UUID(int=404)
    with pytest.raises(CaseNotFound) as missing:
        await usecases.get_case(uow, unknown)
    assert missing.value.title == "Case not found"
    assert str(unknown) in missing.value.message
    with pytest.raises(CaseNotFound):
        await usecases.resolve_case(uow, unknown, "refund", NOW)
    assert uow.emitted == []
