"""Invitations, their tokens and links, and the rules of a submitted answer."""

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import Formality, SurveyDeclined, SurveyDetractor
from atiende_runtime.errors import Conflict, Gone, Invalid
from atiende_surveys.domain import (
    STOCK,
    TRANSITIONS,
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
    survey_url,
)
from atiende_surveys.domain.questionnaires import TEXT_MAX_LENGTH

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TTL = timedelta(days=14)
CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
CSAT = STOCK["csat"]


def issue(**extra) -> tuple[Invitation, str]:
    return Invitation.issue(
        case_id=CASE_ID,
        case_number="AT-2026-000007",
        now=NOW,
        ttl=TTL,
        questionnaire=CSAT,
        **extra,
    )


def answer(satisfaction, comment=None):
    """Answers as the CSAT questionnaire parses them."""
    return {"satisfaction": satisfaction} | ({"comment": comment} if comment else {})


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
    assert (invitation.questionnaire_id, invitation.questionnaire_version) == ("csat", 1)


def test_invited_event_carries_the_link_and_the_expiry():
    invitation, token = issue()
    event = invitation.invited_event(survey_url("https://s.example", token))
    assert event.survey_url == f"https://s.example/s/{token}"
    assert event.invitation_id == invitation.id
    assert event.case_id == CASE_ID
    assert event.case_number == "AT-2026-000007"
    assert event.expires_at == NOW + TTL


def test_the_invitation_carries_one_click_answers_an_opt_out_and_the_first_question():
    invitation, token = issue(language="en", formality=Formality.INFORMAL)
    links = invitation.links("https://s.example/", token)
    event = invitation.invited_event(links.survey, questionnaire=CSAT, links=links)
    assert event.survey_url == f"https://s.example/s/{token}?lang=en&reg=tu"
    assert "AT-2026-000007" in event.first_question
    assert [link.value for link in event.answer_links] == ["1", "2", "3", "4", "5"]
    assert event.answer_links[4].label == "5 · Very satisfied"
    assert event.answer_links[1].url == (
        f"https://s.example/s/{token}/a?satisfaction=2&lang=en&reg=tu"
    )
    assert event.opt_out_url == f"https://s.example/s/{token}/optout?lang=en&reg=tu"
    spanish, token = issue()
    links = spanish.links("https://s.example", token)
    assert links.answer("satisfaction", "4") == f"https://s.example/s/{token}/a?satisfaction=4"
    assert links.survey == f"https://s.example/s/{token}"


def test_only_a_pending_invitation_changes_status():
    assert TRANSITIONS[InvitationStatus.PENDING] == {
        InvitationStatus.ANSWERED,
        InvitationStatus.EXPIRED,
        InvitationStatus.DECLINED,
    }
    assert TRANSITIONS[InvitationStatus.ANSWERED] == frozenset()
    assert TRANSITIONS[InvitationStatus.EXPIRED] == frozenset()
    assert TRANSITIONS[InvitationStatus.DECLINED] == frozenset()


def test_a_pending_invitation_reads_as_expired_from_its_expiry_on():
    invitation, _ = issue()
    assert invitation.status_at(NOW + TTL - timedelta(seconds=1)) is InvitationStatus.PENDING
    assert invitation.status_at(NOW + TTL) is InvitationStatus.EXPIRED


def test_respond_answers_a_pending_invitation_and_makes_the_event():
    invitation, _ = issue()
    later = NOW + timedelta(hours=1)
    answered, event, detractor = invitation.respond(CSAT, answer(4, "Rápido y amable"), later)
    assert answered.status is InvitationStatus.ANSWERED
    assert answered.answers == answer(4, "Rápido y amable")
    assert answered.scores == {"csat": 4.0}
    assert answered.answered_at == later
    assert (event.invitation_id, event.case_id) == (invitation.id, CASE_ID)
    assert (event.satisfaction, event.comment, event.answered_at) == (4, "Rápido y amable", later)
    assert detractor is None


def test_a_low_answer_is_also_a_detractor():
    invitation, _ = issue(agent_id="agent-7", team="billing")
    _, event, detractor = invitation.respond(CSAT, answer(1, "Nadie me llamó"), NOW)
    assert event.satisfaction == 1
    assert isinstance(detractor, SurveyDetractor)
    assert detractor.reasons == ["csat<=2"]
    assert (detractor.agent_id, detractor.team, detractor.comment) == (
        "agent-7",
        "billing",
        "Nadie me llamó",
    )


def test_respond_clears_the_draft():
    invitation, _ = issue()
    drafted = invitation.save_draft({"satisfaction": 2}, NOW)
    assert drafted.draft == {"satisfaction": 2}
    assert drafted.save_draft({"comment": "x"}, NOW).draft == {"satisfaction": 2, "comment": "x"}
    answered, _, _ = drafted.respond(CSAT, answer(2), NOW)
    assert answered.draft == {}


def test_an_answered_invitation_takes_no_second_answer():
    answered, _, _ = issue()[0].respond(CSAT, answer(5), NOW)
    with pytest.raises(SurveyClosed) as closed:
        answered.respond(CSAT, answer(1), NOW)
    assert closed.value.status is InvitationStatus.ANSWERED
    # a conflict (409) that names the case, so the page can say which
    assert isinstance(closed.value, SurveyAlreadyAnswered)
    assert isinstance(closed.value, Conflict)
    assert (closed.value.case_id, closed.value.case_number) == (CASE_ID, "AT-2026-000007")
    with pytest.raises(SurveyAlreadyAnswered):
        answered.save_draft(answer(1), NOW)


def test_an_answered_invitation_stays_answered_after_its_expiry():
    answered, _, _ = issue()[0].respond(CSAT, answer(5), NOW)
    assert answered.status_at(NOW + 2 * TTL) is InvitationStatus.ANSWERED


def test_an_expired_invitation_takes_no_answer():
    invitation, _ = issue()
    with pytest.raises(SurveyClosed) as closed:
        invitation.respond(CSAT, answer(3), NOW + TTL)
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
    expired, event = invitation.expire(NOW + TTL)
    assert expired.status is InvitationStatus.EXPIRED
    assert (event.invitation_id, event.expired_at) == (invitation.id, NOW + TTL)


def test_an_answered_invitation_never_expires():
    answered, _, _ = issue()[0].respond(CSAT, answer(2), NOW)
    with pytest.raises(InvalidTransition):
        answered.expire(NOW + 2 * TTL)


def test_declining_closes_a_pending_invitation_once():
    invitation, _ = issue(customer_id=uuid.uuid4())
    declined, event = invitation.decline(NOW)
    assert declined.status is InvitationStatus.DECLINED
    assert isinstance(event, SurveyDeclined)
    assert (event.customer_id, event.questionnaire_kind) == (invitation.customer_id, "csat")
    assert declined.decline(NOW) == (declined, None)
    with pytest.raises(SurveyAlreadyAnswered):  # a declined survey takes no answer
        declined.respond(CSAT, answer(5), NOW)
    answered, _, _ = invitation.respond(CSAT, answer(5), NOW)
    assert answered.decline(NOW) == (answered, None)


# --- the submitted form -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "3", "5", " 4 "])
def test_a_rating_from_1_to_5_is_taken(value):
    assert CSAT.parse({"satisfaction": value}, complete=True) == answer(int(value))


@pytest.mark.parametrize("value", ["0", "6", "9", "abc", "3.0", "+3", "٣", "1 2"])
def test_a_rating_outside_1_to_5_is_refused(value):
    with pytest.raises(InvalidAnswer) as invalid:
        CSAT.parse({"satisfaction": value}, complete=True)
    assert invalid.value.problems == {"satisfaction": AnswerProblem.OUT_OF_RANGE}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_rating_is_required(value):
    fields = {"comment": "a comment"} | ({} if value is None else {"satisfaction": value})
    with pytest.raises(InvalidAnswer) as invalid:
        CSAT.parse(fields, complete=True)
    assert invalid.value.problems == {"satisfaction": AnswerProblem.MISSING}
    # a partial answer (saved for later) needs no rating
    assert CSAT.parse(fields, complete=False) == {"comment": "a comment"}


def test_the_comment_is_trimmed_and_an_empty_one_dropped():
    assert CSAT.parse({"satisfaction": "2", "comment": "  slow  "}, complete=True) == answer(
        2, "slow"
    )
    assert CSAT.parse({"satisfaction": "2", "comment": "   "}, complete=True) == answer(2)


def test_a_comment_over_the_limit_is_refused_and_every_bad_field_named():
    with pytest.raises(InvalidAnswer) as invalid:
        CSAT.parse({"satisfaction": "9", "comment": "x" * (TEXT_MAX_LENGTH + 1)}, complete=True)
    assert invalid.value.problems == {
        "satisfaction": AnswerProblem.OUT_OF_RANGE,
        "comment": AnswerProblem.TOO_LONG,
    }
    taken = CSAT.parse({"satisfaction": "1", "comment": "x" * TEXT_MAX_LENGTH}, complete=True)
    assert taken["comment"] == "x" * TEXT_MAX_LENGTH


def test_a_browser_line_break_counts_as_one_character():
    # the browser's maxlength counted each line break once; the submitted form has CRLF
    comment = "ab\r\n" * 300  # 1200 characters as sent, 900 as typed
    assert len(comment) > TEXT_MAX_LENGTH
    parsed = CSAT.parse({"satisfaction": "3", "comment": comment}, complete=True)
    assert "\r" not in parsed["comment"]
    assert len(parsed["comment"]) <= TEXT_MAX_LENGTH


def test_a_choice_must_be_one_of_its_options_and_a_foreign_field_is_refused():
    with pytest.raises(InvalidAnswer) as invalid:
        CSAT.parse({"satisfaction": "1", "reason": "weather", "colour": "red"}, complete=True)
    assert invalid.value.problems == {
        "reason": AnswerProblem.NOT_AN_OPTION,
        "colour": AnswerProblem.NOT_IN_QUESTIONNAIRE,
    }
    assert CSAT.parse({"satisfaction": "1", "reason": "slow"}, complete=True) == {
        "satisfaction": 1,
        "reason": "slow",
    }
    # the page's own fields are not answers
    assert CSAT.parse({"satisfaction": "1", "action": "save", "lang": "en"}, complete=True) == (
        answer(1)
    )


def test_an_invalid_answer_is_a_validation_error_with_one_field_error_per_field():
    with pytest.raises(InvalidAnswer) as invalid:
        CSAT.parse({"comment": "x" * (TEXT_MAX_LENGTH + 1)}, complete=True)
    assert isinstance(invalid.value, Invalid)
    assert str(invalid.value) == "Invalid field(s): comment, satisfaction"
    assert sorted((e.field, e.rule) for e in invalid.value.errors) == [
        ("comment", "too_long"),
        ("satisfaction", "missing"),
    ]
    assert all(e.message for e in invalid.value.errors)
