"""One set of assertions for routing's repositories, run against the fake and PostgreSQL, so the
fake the unit tests rely on cannot drift from the SQL."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from atiende_routing.domain.cases import CaseStatus, RoutedCase
from atiende_routing.repository import PostgresUnitOfWork
from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..fakes import FakeUnitOfWork

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SCHEMA = "routing"


@pytest.fixture(params=["fake", "postgres"])
def backend(request):
    """The backend's name and, for PostgreSQL, a fresh database."""
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    return request.param, url


@pytest.fixture
async def uow(backend):
    kind, url = backend
    if kind == "fake":
        yield FakeUnitOfWork()
        return
    await db.migrate(url, SCHEMA, "atiende_routing")
    conn = await db.connect(url, SCHEMA)
    try:
        yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/routing"))
    finally:
        await conn.close()


def new_case(**fields):
    values = {
        "id": uuid.uuid4(),
        "number": "AT-2026-000001",
        "type": "complaint",
        "status": CaseStatus.NEW,
        "opened_at": OPENED_AT,
        **fields,
    }
    return RoutedCase(**values)


async def test_a_case_is_added_once_and_read_back(uow):
    case = new_case()
    assert await uow.cases.add(case) is True
    assert await uow.cases.get(case.id) == case
    assert await uow.cases.get_for_update(case.id) == case

    assert await uow.cases.add(replace(case, number="AT-OTHER")) is False
    assert await uow.cases.get(case.id) == case


async def test_an_unknown_case_reads_as_none(uow):
    assert await uow.cases.get(uuid.uuid4()) is None
    assert await uow.cases.get_for_update(uuid.uuid4()) is None


async def test_an_assignment_and_a_resolution_are_saved(uow):
    case = new_case()
    await uow.cases.add(case)
    assigned, _ = case.assign("general", OPENED_AT + timedelta(minutes=1))
    await uow.cases.save_assignment(assigned)
    assert await uow.cases.get(case.id) == assigned

    resolved, _ = assigned.resolve("refund", OPENED_AT + timedelta(hours=2))
    await uow.cases.save_resolution(resolved)
    assert await uow.cases.get(case.id) == resolved


async def test_saving_changes_only_what_the_step_changed(uow):
    case = new_case()
    await uow.cases.add(case)
    # a resolution saves status, time and resolution: never the team
    resolved = replace(
        case,
        status=CaseStatus.RESOLVED,
        team="ignored",
        resolved_at=OPENED_AT,
        resolution="answered",
    )
    await uow.cases.save_resolution(resolved)
    assert await uow.cases.get(case.id) == replace(resolved, team=None)


async def test_saving_an_unknown_case_stores_nothing(uow):
    ghost, _ = new_case().assign("general", OPENED_AT)
    await uow.cases.save_assignment(ghost)
    assert await uow.cases.get(ghost.id) is None
