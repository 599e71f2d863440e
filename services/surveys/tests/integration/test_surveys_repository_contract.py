"""One contract for surveys' repositories, held against the in-memory fakes and PostgreSQL alike,
so the fakes the use-case tests run on cannot drift from the real thing."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork
from atiende_surveys.domain import Answer, CaseFacts, Invitation, InvitationStatus
from atiende_surveys.repository import PostgresUnitOfWork

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TTL = timedelta(days=14)


@pytest.fixture
async def postgres_uow(database_url):
    await db.migrate(database_url, "surveys", "atiende_surveys")
    conn = await db.connect(database_url, "surveys")
    try:
        yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, "surveys"))
    finally:
        await conn.close()


@pytest.fixture(params=["fake", "postgres"])
def uow(request):
    # a plain fixture: only the postgres variant asks for a database
    if request.param == "fake":
        return FakeUnitOfWork()
    return request.getfixturevalue("postgres_uow")


def issue(case_id=None, *, now=NOW):
    invitation, _ = Invitation.issue(
        case_id=case_id or uuid.uuid4(), case_number="AT-2026-000042", now=now, ttl=TTL
    )
    return invitation


async def test_a_case_s_facts_are_kept_and_the_first_report_wins(uow):
    case = CaseFacts(uuid.uuid4(), "AT-2026-000001", uuid.uuid4(), "en", NOW)
    await uow.cases.remember(case)
    await uow.cases.remember(CaseFacts(case.case_id, "X-2", uuid.uuid4(), "es", NOW))
    assert await uow.cases.get(case.case_id) == case
    assert await uow.cases.get(uuid.uuid4()) is None


async def test_an_added_invitation_is_found_by_its_token_hash_as_it_was(uow):
    invitation = issue()
    assert await uow.invitations.add(invitation) is True
    assert await uow.invitations.by_token_hash(invitation.token_hash) == invitation
    assert await uow.invitations.by_token_hash(invitation.token_hash, for_update=True) == (
        invitation
    )
    assert await uow.invitations.by_token_hash("0" * 64) is None
    assert await uow.invitations.pending_for_case_for_update(invitation.case_id) == invitation


async def test_a_case_has_at_most_one_pending_invitation(uow):
    first = issue()
    assert await uow.invitations.add(first) is True
    second = issue(first.case_id, now=NOW + timedelta(hours=1))
    assert await uow.invitations.add(second) is False
    assert await uow.invitations.for_case(first.case_id) == [first]
    assert await uow.invitations.by_token_hash(second.token_hash) is None


async def test_an_expired_invitation_makes_room_for_a_new_one_listed_after_it(uow):
    first = issue()
    await uow.invitations.add(first)
    await uow.invitations.save_status(first.expire(NOW + TTL))
    assert await uow.invitations.pending_for_case_for_update(first.case_id) is None
    later = issue(first.case_id, now=NOW + TTL + timedelta(days=1))
    assert await uow.invitations.add(later) is True
    listed = await uow.invitations.for_case(first.case_id)
    assert [i.id for i in listed] == [first.id, later.id]
    assert [i.status for i in listed] == [InvitationStatus.EXPIRED, InvitationStatus.PENDING]
    assert await uow.invitations.for_case(uuid.uuid4()) == []


async def test_an_answer_is_stored_once(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    later = NOW + timedelta(hours=3)
    answered, _ = invitation.respond(Answer(4, "Muy amables"), later)
    await uow.invitations.save_response(answered)
    stored = await uow.invitations.by_token_hash(invitation.token_hash)
    assert stored == answered
    assert (stored.status, stored.answer, stored.answered_at) == (
        InvitationStatus.ANSWERED,
        Answer(4, "Muy amables"),
        later,
    )
    assert await uow.invitations.pending_for_case_for_update(invitation.case_id) is None

    again, _ = invitation.respond(Answer(1), later + timedelta(minutes=1))
    with pytest.raises(Exception):  # the responses primary key
        await uow.invitations.save_response(again)
    assert (await uow.invitations.by_token_hash(invitation.token_hash)).answer == Answer(
        4, "Muy amables"
    )


async def test_an_answer_without_a_comment_is_stored_without_one(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    answered, _ = invitation.respond(Answer(2), NOW)
    await uow.invitations.save_response(answered)
    assert (await uow.invitations.for_case(invitation.case_id))[0].answer == Answer(2, None)
