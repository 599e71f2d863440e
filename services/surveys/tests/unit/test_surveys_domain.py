import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_surveys.domain import (
    COMMENT_MAX_LENGTH,
    ENGLISH,
    PAGE_TEXTS,
    SPANISH,
    Answer,
    AnswerProblem,
    InvalidAnswer,
    InvalidTransition,
    Invitation,
    InvitationStatus,
    SurveyClosed,
    hash_token,
    new_token,
    page_language,
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


def test_an_answered_invitation_stays_answered_after_its_expiry():
    answered, _ = issue()[0].respond(Answer(5), NOW)
    assert answered.status_at(NOW + 2 * TTL) is InvitationStatus.ANSWERED


def test_an_expired_invitation_takes_no_answer():
    invitation, _ = issue()
    with pytest.raises(SurveyClosed) as closed:
        invitation.respond(Answer(3), NOW + TTL)
    assert closed.value.status is InvitationStatus.EXPIRED


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


# --- page words ---------------------------------------------------------------------------------


def test_page_language_is_spanish_unless_a_known_language_is_asked_for():
    assert page_language(None) == "es"
    assert page_language("en") == "en"
    assert page_language("EN") == "en"
    assert page_language("fr") == "es"


def test_every_language_describes_every_problem_and_names_every_field():
    for text in PAGE_TEXTS.values():
        for problem in AnswerProblem:
            assert text.describe(problem)
            assert "{" not in text.describe(problem)
        assert set(text.field_names) == {"satisfaction", "comment"}
    assert str(COMMENT_MAX_LENGTH) in ENGLISH.describe(AnswerProblem.COMMENT_TOO_LONG)


def test_the_question_names_the_case_in_both_languages():
    assert "AT-2026-000007" in SPANISH.question.format(number="AT-2026-000007")
    assert ENGLISH.question.format(number="X-1") == (
        "How satisfied are you with how we handled your case X-1?"
    )
    assert ENGLISH.satisfaction_labels[0] == "Very dissatisfied"
    assert ENGLISH.satisfaction_labels[-1] == "Very satisfied"


def test_spanish_addresses_the_customer_as_usted():
    words = " ".join(
        str(v) for v in dataclasses.asdict(SPANISH).values() if isinstance(v, str)
    ).lower()
    assert "su caso" in words
    for informal in (" tu ", " tú ", "puedes", "quieres", "deseas", "tienes"):
        assert informal not in f" {words} "
