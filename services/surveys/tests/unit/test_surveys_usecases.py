"""Surveys' use cases on the in-memory unit of work: no database, no broker, no clock."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from atiende_contracts import SurveyAnswered, SurveyInvited
from atiende_surveys import usecases
from atiende_surveys.domain import (
    Answer,
    AnswerProblem,
    CaseFacts,
    InvalidAnswer,
    InvitationNotFound,
    InvitationStatus,
    SurveyAlreadyAnswered,
    SurveyExpired,
    hash_token,
)

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TTL = timedelta(days=14)
BASE_URL = "https://encuestas.example.test"


@pytest.fixture
def uow():
    return FakeUnitOfWork()


async def invite(uow, case_id, *, now=NOW, number="AT-2026-000042"):
    return await usecases.invite_after_resolution(
        uow, case_id=case_id, case_number=number, now=now, ttl=TTL, base_url=BASE_URL
    )


def token_of(event: SurveyInvited) -> str:
    return urlsplit(event.survey_url).path.removeprefix("/s/")


async def invited(uow, *, now=NOW):
    case_id = uuid.uuid4()
    event = await invite(uow, case_id, now=now)
    assert event is not None
    return case_id, token_of(event)


# --- invite -------------------------------------------------------------------------------------


async def test_a_resolved_case_gets_one_invitation_and_its_link(uow):
    case_id = uuid.uuid4()
    event = await invite(uow, case_id)
    assert event is not None
    assert uow.emitted == [event]
    assert uow.subjects == [case_id]
    assert event.case_id == case_id
    assert event.case_number == "AT-2026-000042"
    assert event.expires_at == NOW + TTL
    assert event.survey_url.startswith(f"{BASE_URL}/s/")
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.PENDING
    assert stored.token_hash == hash_token(token_of(event))  # only the hash is kept
    assert stored.id == event.invitation_id


async def test_a_case_is_invited_once_however_often_it_is_resolved(uow):
    case_id = uuid.uuid4()
    assert await invite(uow, case_id) is not None
    assert await invite(uow, case_id, now=NOW + timedelta(days=1)) is None
    assert await invite(uow, case_id, now=NOW + TTL - timedelta(seconds=1)) is None
    assert len(await uow.invitations.for_case(case_id)) == 1
    assert len(uow.emitted) == 1


async def test_an_overdue_invitation_is_closed_and_a_later_resolution_invites_again(uow):
    case_id = uuid.uuid4()
    await invite(uow, case_id)
    again = await invite(uow, case_id, now=NOW + TTL + timedelta(days=1))
    assert again is not None
    statuses = [i.status for i in await uow.invitations.for_case(case_id)]
    assert statuses == [InvitationStatus.EXPIRED, InvitationStatus.PENDING]
    assert [type(e) for e in uow.emitted] == [SurveyInvited, SurveyInvited]


async def test_an_answered_case_is_invited_again_when_resolved_again(uow):
    case_id, token = await invited(uow)
    await usecases.answer_survey(uow, token, "5", None, NOW)
    assert await invite(uow, case_id, now=NOW + timedelta(days=1)) is not None


async def test_the_link_opens_in_the_language_the_case_was_opened_in(uow):
    english, spanish, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for case_id, language in ((english, "en"), (spanish, "es")):
        await usecases.remember_case(
            uow, CaseFacts(case_id, "AT-2026-000001", uuid.uuid4(), language, NOW)
        )
    assert (await invite(uow, english)).survey_url.endswith("?lang=en")
    assert "?" not in (await invite(uow, spanish)).survey_url
    assert "?" not in (await invite(uow, unknown)).survey_url


async def test_the_first_report_of_a_case_is_remembered(uow):
    case_id = uuid.uuid4()
    first = CaseFacts(case_id, "AT-2026-000001", uuid.uuid4(), "en", NOW)
    await usecases.remember_case(uow, first)
    await usecases.remember_case(uow, CaseFacts(case_id, "X", uuid.uuid4(), "es", NOW))
    assert await uow.cases.get(case_id) == first


# --- show ---------------------------------------------------------------------------------------


async def test_show_opens_a_pending_survey_by_its_token(uow):
    case_id, token = await invited(uow)
    invitation = await usecases.show_survey(uow, token, NOW + timedelta(hours=1))
    assert (invitation.case_id, invitation.case_number) == (case_id, "AT-2026-000042")


async def test_show_refuses_an_unknown_token(uow):
    await invited(uow)
    with pytest.raises(InvitationNotFound):
        await usecases.show_survey(uow, "not-a-real-token", NOW)


async def test_show_reports_an_expired_or_answered_survey_with_its_case(uow):
    case_id, token = await invited(uow)
    with pytest.raises(SurveyExpired) as expired:
        await usecases.show_survey(uow, token, NOW + TTL)
    assert (expired.value.case_id, expired.value.case_number) == (case_id, "AT-2026-000042")
    await usecases.answer_survey(uow, token, "3", None, NOW)
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.show_survey(uow, token, NOW + timedelta(minutes=1))


# --- answer -------------------------------------------------------------------------------------


async def test_a_valid_answer_is_stored_and_announced(uow):
    case_id, token = await invited(uow)
    later = NOW + timedelta(hours=2)
    answered = await usecases.answer_survey(uow, token, " 4 ", "  Muy amables  ", later)
    assert answered.status is InvitationStatus.ANSWERED
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.ANSWERED
    assert stored.answer == Answer(4, "Muy amables")
    assert stored.answered_at == later
    answer_event = uow.emitted[-1]
    assert isinstance(answer_event, SurveyAnswered)
    assert (answer_event.satisfaction, answer_event.comment) == (4, "Muy amables")
    assert (answer_event.invitation_id, answer_event.case_id) == (stored.id, case_id)
    assert uow.subjects[-1] == case_id


@pytest.mark.parametrize(
    ("satisfaction", "comment", "problems"),
    [
        ("9", None, {"satisfaction": AnswerProblem.SATISFACTION_NOT_1_TO_5}),
        ("0", None, {"satisfaction": AnswerProblem.SATISFACTION_NOT_1_TO_5}),
        (None, None, {"satisfaction": AnswerProblem.SATISFACTION_MISSING}),
        ("3", "x" * 1001, {"comment": AnswerProblem.COMMENT_TOO_LONG}),
    ],
)
async def test_an_answer_out_of_range_is_refused_and_nothing_is_stored(
    uow, satisfaction, comment, problems
):
    case_id, token = await invited(uow)
    with pytest.raises(InvalidAnswer) as invalid:
        await usecases.answer_survey(uow, token, satisfaction, comment, NOW)
    assert invalid.value.problems == problems
    # the page shows the form again for this case
    assert (invalid.value.case_id, invalid.value.case_number) == (case_id, "AT-2026-000042")
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.PENDING
    assert stored.answer is None
    assert [type(e) for e in uow.emitted] == [SurveyInvited]


async def test_an_expired_survey_takes_no_answer(uow):
    case_id, token = await invited(uow)
    with pytest.raises(SurveyExpired):
        await usecases.answer_survey(uow, token, "5", None, NOW + TTL)
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.answer is None
    assert [type(e) for e in uow.emitted] == [SurveyInvited]


async def test_a_closed_survey_is_reported_before_a_bad_field(uow):
    _, token = await invited(uow)
    with pytest.raises(SurveyExpired):
        await usecases.answer_survey(uow, token, "9", None, NOW + TTL)


async def test_a_survey_takes_exactly_one_answer(uow):
    case_id, token = await invited(uow)
    await usecases.answer_survey(uow, token, "4", None, NOW)
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.answer_survey(uow, token, "1", None, NOW + timedelta(minutes=1))
    # answered stays answered, even after the expiry
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.answer_survey(uow, token, "1", None, NOW + 2 * TTL)
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.answer == Answer(4, None)
    assert [type(e) for e in uow.emitted] == [SurveyInvited, SurveyAnswered]


async def test_an_unknown_token_takes_no_answer(uow):
    await invited(uow)
    with pytest.raises(InvitationNotFound):
        await usecases.answer_survey(uow, "not-a-real-token", "5", None, NOW)


async def test_invitations_of_a_case_are_listed_oldest_first(uow):
    case_id = uuid.uuid4()
    await invite(uow, case_id)
    await invite(uow, case_id, now=NOW + TTL + timedelta(days=1))
    listed = await usecases.invitations_of_case(uow, case_id)
    assert [i.invited_at for i in listed] == [NOW, NOW + TTL + timedelta(days=1)]
    assert await usecases.invitations_of_case(uow, uuid.uuid4()) == []
