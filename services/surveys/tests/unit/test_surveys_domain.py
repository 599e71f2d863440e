import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_runtime.errors import Conflict, Gone, Invalid
from atiende_surveys.domain import (
    COMMENT_MAX_LENGTH,
    TRANSITIONS,
    Answer,
    AnswerProblem,
    InvalidAnswer,
    InvalidTransition,
    Invitation,
    InvitationStatus,
    SurveyAlreadyAnswered,
    SurveyClosed,
    SurveyExpired,
    hash_token,
    new_token,
    parse_answer,
    survey_url,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TTL = timedelta(days=14)
CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def issue() -> tuple[Invitation, str]:
    return Invitation.issue(case_id=CASE_ID, case_number="AT-2026-000007", now=NOW, ttl=TTL)


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_are_url_safe_and_unique():
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_hash_token_is_the_hex_sha256_of_the_token():
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    assert hash_token("abc") != hash_token("abd")


def test_survey_url_puts_the_token_under_s_without_a_double_slash():
    assert survey_url("https://surveys.example.com", "tok") == "https://surveys.example.com/s/tok"
    assert survey_url("https://surveys.example.com/", "tok") == "https://surveys.example.com/s/tok"


def test_survey_url_names_a_supported_language_other_than_spanish():
    assert survey_url("https://s.example", "tok", "en") == "https://s.example/s/tok?lang=en"
    for implicit in ("es", "fr", "EN", "en-GB", "", None):
        assert survey_url("https://s.example", "tok", implicit) == "https://s.example/s/tok"


# --- invitations --------------------------------------------------------------------------------


def test_issue_keeps_only_the_hash_of_the_token_and_expires_after_the_ttl():
    invitation, token = issue()
    assert invitation.token_hash == hash_token(token)
    assert token not in dataclasses.astuple(invitation)
    assert invitation.status is InvitationStatus.PENDING
    assert invitation.expires_at == NOW + TTL
    assert invitation.case_number == "AT-2026-000007"


def test_invited_event_carries_the_link_and_the_expiry():
    invitation, token = issue()
    event = invitation.invited_event(survey_url("https://s.example", token))
    assert event.survey_url == f"https://s.example/s/{token}"
    assert event.invitation_id == invitation.id
    assert event.case_id == CASE_ID
    assert event.case_number == "AT-2026-000007"
    assert event.expires_at == NOW + TTL


def test_invite_makes_the_pending_invitation_and_the_event_with_its_link():
    tokens = []

    def link(token):
        tokens.append(token)
        return f"https://s.example/s/{token}"

    invitation, event = Invitation.invite(
        case_id=CASE_ID, case_number="AT-2026-000007", now=NOW, ttl=TTL, link=link
    )
    (token,) = tokens
    assert invitation.status is InvitationStatus.PENDING
    assert invitation.token_hash == hash_token(token)
    assert event == invitation.invited_event(f"https://s.example/s/{token}")


def test_only_a_pending_invitation_changes_status():
    assert TRANSITIONS[InvitationStatus.PENDING] == {
        InvitationStatus.ANSWERED,
        InvitationStatus.EXPIRED,
    }
    assert TRANSITIONS[InvitationStatus.ANSWERED] == frozenset()
    assert TRANSITIONS[InvitationStatus.EXPIRED] == frozenset()


def test_a_pending_invitation_reads_as_expired_from_its_expiry_on():
    invitation, _ = issue()
    assert invitation.status_at(NOW + TTL - timedelta(seconds=1)) is InvitationStatus.PENDING
    assert invitation.status_at(NOW + TTL) is InvitationStatus.EXPIRED


def test_respond_answers_a_pending_invitation_and_makes_the_event():
    invitation, _ = issue()
    later = NOW + timedelta(hours=1)
    answered, event = invitation.respond(Answer(4, "Rápido y amable"), later)
    assert answered.status is InvitationStatus.ANSWERED
    assert answered.answer == Answer(4, "Rápido y amable")
    assert answered.answered_at == later
    assert (event.invitation_id, event.case_id) == (invitation.id, CASE_ID)
    assert (event.satisfaction, event.comment, event.answered_at) == (4, "Rápido y amable", later)


def test_an_answered_invitation_takes_no_second_answer():
    answered, _ = issue()[0].respond(Answer(5), NOW)
    with pytest.raises(SurveyClosed) as closed:
        answered.respond(Answer(1), NOW)
    assert closed.value.status is InvitationStatus.ANSWERED
    # a conflict (409) that names the case, so the page can say which
    assert isinstance(closed.value, SurveyAlreadyAnswered)
    assert isinstance(closed.value, Conflict)
    assert (closed.value.case_id, closed.value.case_number) == (CASE_ID, "AT-2026-000007")


def test_an_answered_invitation_stays_answered_after_its_expiry():
    answered, _ = issue()[0].respond(Answer(5), NOW)
    assert answered.status_at(NOW + 2 * TTL) is InvitationStatus.ANSWERED


def test_an_expired_invitation_takes_no_answer():
    invitation, _ = issue()
    with pytest.raises(SurveyClosed) as closed:
        invitation.respond(Answer(3), NOW + TTL)
    assert closed.value.status is InvitationStatus.EXPIRED
    assert isinstance(closed.value, SurveyExpired)
    assert isinstance(closed.value, Gone)
    assert not isinstance(closed.value, Conflict)


def test_check_open_passes_a_pending_invitation_before_its_expiry():
    invitation, _ = issue()
    invitation.check_open(NOW + TTL - timedelta(seconds=1))
    with pytest.raises(SurveyExpired):
        invitation.check_open(NOW + TTL)


def test_expire_records_the_expiry_only_once_it_has_passed():
    invitation, _ = issue()
    with pytest.raises(InvalidTransition):
        invitation.expire(NOW + TTL - timedelta(seconds=1))
    assert invitation.expire(NOW + TTL).status is InvitationStatus.EXPIRED


def test_an_answered_invitation_never_expires():
    answered, _ = issue()[0].respond(Answer(2), NOW)
    with pytest.raises(InvalidTransition):
        answered.expire(NOW + 2 * TTL)


# --- the submitted form -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "3", "5", " 4 "])
def test_parse_answer_takes_a_rating_from_1_to_5(value):
    assert parse_answer(value, None) == Answer(int(value), None)


@pytest.mark.parametrize("value", ["0", "6", "9", "abc", "3.0", "+3", "٣", "1 2"])
def test_parse_answer_refuses_a_rating_outside_1_to_5(value):
    with pytest.raises(InvalidAnswer) as invalid:
        parse_answer(value, None)
    assert invalid.value.problems == {"satisfaction": AnswerProblem.SATISFACTION_NOT_1_TO_5}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_parse_answer_requires_a_rating(value):
    with pytest.raises(InvalidAnswer) as invalid:
        parse_answer(value, "a comment")
    assert invalid.value.problems == {"satisfaction": AnswerProblem.SATISFACTION_MISSING}


def test_parse_answer_trims_the_comment_and_drops_an_empty_one():
    assert parse_answer("2", "  slow  ") == Answer(2, "slow")
    assert parse_answer("2", "   ") == Answer(2, None)


def test_parse_answer_refuses_a_comment_over_the_limit_and_names_every_bad_field():
    with pytest.raises(InvalidAnswer) as invalid:
        parse_answer("9", "x" * (COMMENT_MAX_LENGTH + 1))
    assert invalid.value.problems == {
        "satisfaction": AnswerProblem.SATISFACTION_NOT_1_TO_5,
        "comment": AnswerProblem.COMMENT_TOO_LONG,
    }
    assert parse_answer("1", "x" * COMMENT_MAX_LENGTH).comment == "x" * COMMENT_MAX_LENGTH


def test_parse_answer_counts_a_browser_line_break_as_one_character():
    # the browser's maxlength counted each line break once; the submitted form has CRLF
    comment = "ab\r\n" * 300  # 1200 characters as sent, 900 as typed
    assert len(comment) > COMMENT_MAX_LENGTH
    answer = parse_answer("3", comment)
    assert answer.comment is not None
    assert "\r" not in answer.comment
    assert len(answer.comment) <= COMMENT_MAX_LENGTH


def test_an_invalid_answer_is_a_validation_error_with_one_field_error_per_field():
    with pytest.raises(InvalidAnswer) as invalid:
        parse_answer(None, "x" * (COMMENT_MAX_LENGTH + 1))
    assert isinstance(invalid.value, Invalid)
    assert str(invalid.value) == "Invalid field(s): comment, satisfaction"
    assert [(e.field, e.rule) for e in invalid.value.errors] == [
        ("satisfaction", "satisfaction_missing"),
        ("comment", "comment_too_long"),
    ]
    assert all(e.message for e in invalid.value.errors)
