"""Surveys' use cases on the in-memory unit of work: no database, no broker, no clock."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from atiende_contracts import (
    CustomerSurveyOptOut,
    Formality,
    SurveyAnswered,
    SurveyDeclined,
    SurveyDetractor,
    SurveyInvited,
    SurveyReminded,
    SurveySuppressed,
)
from atiende_contracts import (
    SurveyExpired as SurveyExpiredEvent,
)
from atiende_surveys import usecases
from atiende_surveys.domain import (
    STOCK,
    AnswerProblem,
    CaseFacts,
    Contact,
    CustomerFacts,
    EmptyQuestionnaire,
    InvalidAnswer,
    InvitationNotFound,
    InvitationStatus,
    PressurePolicy,
    Questionnaire,
    SurveyAlreadyAnswered,
    SurveyExpired,
    hash_token,
)
from atiende_surveys.repository import ResultFilter
from atiende_surveys.usecases import SurveyConfig

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TTL = timedelta(days=14)
BASE_URL = "https://encuestas.example.test"
CONFIG = SurveyConfig(base_url=BASE_URL, ttl=TTL)


@pytest.fixture
def uow():
    return FakeUnitOfWork()


async def resolve(
    uow,
    customer_id=None,
    *,
    case_id=None,
    now=NOW,
    config=CONFIG,
    consent=True,
    language="es",
    formality=None,
    type=None,
    test=False,
    number="AT-2026-000042",
):
    """A case opened (remembered) and resolved, and its due invitation decided."""
    case_id = case_id or uuid.uuid4()
    await usecases.remember_case(
        uow,
        CaseFacts(
            case_id,
            number,
            customer_id or uuid.uuid4(),
            language,
            now - timedelta(days=1),
            formality=formality,
            type=type,
            test=test,
        ),
        consent_surveys=consent,
    )
    await usecases.case_resolved(
        uow, case_id=case_id, case_number=number, now=now, config=config, agent_id="agent-1"
    )
    await usecases.send_due(uow, now, config)
    return case_id


def of_type(uow, kind):
    return [e for e in uow.emitted if isinstance(e, kind)]


def token_of(event: SurveyInvited) -> str:
    return urlsplit(event.survey_url).path.removeprefix("/s/")


async def invited(uow, **kwargs):
    case_id = await resolve(uow, **kwargs)
    (event,) = [e for e in of_type(uow, SurveyInvited) if e.case_id == case_id]
    return case_id, token_of(event)


def reasons(uow):
    return [e.reason for e in of_type(uow, SurveySuppressed)]


# --- invite -------------------------------------------------------------------------------------


async def test_a_resolved_case_gets_one_invitation_and_its_link(uow):
    customer = uuid.uuid4()
    case_id = await resolve(uow, customer)
    (event,) = uow.emitted
    assert isinstance(event, SurveyInvited)
    assert uow.subjects == [case_id]
    assert (event.case_id, event.case_number, event.customer_id) == (
        case_id,
        "AT-2026-000042",
        customer,
    )
    assert event.expires_at == NOW + TTL
    assert event.survey_url.startswith(f"{BASE_URL}/s/")
    assert len(event.answer_links) == 5
    assert event.opt_out_url
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.PENDING
    assert stored.token_hash == hash_token(token_of(event))  # only the hash is kept
    assert stored.id == event.invitation_id
    assert stored.agent_id == "agent-1"
    assert await uow.customers.contacts(customer) == [Contact(at=NOW)]
    assert await uow.schedule.claim_due(NOW, 10) == []  # decided once


async def test_the_invitation_waits_for_the_delay_and_the_customer_s_daytime(uow):
    config = SurveyConfig(
        base_url=BASE_URL, delay=timedelta(hours=2), daytime_start_hour=9, daytime_end_hour=20
    )
    late = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # 20:30 in Madrid
    await resolve(uow, now=late, config=config)
    assert uow.emitted == []
    assert await uow.schedule.next_due() == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert await usecases.send_due(uow, datetime(2026, 3, 3, 8, 0, tzinfo=UTC), config) == 1
    assert [type(e) for e in uow.emitted] == [SurveyInvited]


async def test_a_case_is_invited_once_however_often_it_is_resolved(uow):
    customer = uuid.uuid4()
    case_id = await resolve(uow, customer)
    await resolve(uow, customer, case_id=case_id, now=NOW + timedelta(days=1))
    await resolve(uow, customer, case_id=case_id, now=NOW + TTL + timedelta(days=30))
    assert len(await uow.invitations.for_case(case_id)) == 1
    assert len(of_type(uow, SurveyInvited)) == 1
    assert reasons(uow) == ["case_already_surveyed"] * 2
    assert len(await uow.suppressions.list(case_id=case_id)) == 2


async def test_an_answered_or_expired_case_is_not_asked_again(uow):
    case_id, token = await invited(uow)
    await usecases.answer_survey(uow, token, {"satisfaction": "5"}, NOW)
    await resolve(uow, case_id=case_id, now=NOW + timedelta(days=60))
    other, _ = await invited(uow)
    await usecases.remind_and_expire(uow, NOW + TTL, CONFIG)
    await resolve(uow, case_id=other, now=NOW + timedelta(days=60))
    assert len(of_type(uow, SurveyInvited)) == 2
    assert reasons(uow) == ["case_already_surveyed"] * 2


async def test_five_resolutions_in_a_week_give_one_invitation_and_four_suppressions(uow):
    customer = uuid.uuid4()
    for day in range(5):
        await resolve(uow, customer, now=NOW + timedelta(days=day))
    assert len(of_type(uow, SurveyInvited)) == 1
    assert reasons(uow) == ["too_soon_after_last"] * 4
    assert len(await uow.suppressions.list(customer_id=customer)) == 4
    # after D days the customer may be asked again
    await resolve(uow, customer, now=NOW + timedelta(days=14))
    assert len(of_type(uow, SurveyInvited)) == 2


async def test_at_most_n_invitations_in_m_days(uow):
    config = SurveyConfig(
        base_url=BASE_URL,
        pressure=PressurePolicy(max_invitations=2, window_days=30, min_days_between=0),
    )
    customer = uuid.uuid4()
    for day in range(4):
        await resolve(uow, customer, now=NOW + timedelta(days=day), config=config)
    assert len(of_type(uow, SurveyInvited)) == 2
    assert reasons(uow) == ["too_many_in_window"] * 2
    await resolve(uow, customer, now=NOW + timedelta(days=31), config=config)
    assert len(of_type(uow, SurveyInvited)) == 3


async def test_the_budget_is_per_customer(uow):
    for _ in range(3):
        await resolve(uow, uuid.uuid4())
    assert len(of_type(uow, SurveyInvited)) == 3
    assert reasons(uow) == []


async def test_a_customer_who_declined_surveys_is_not_asked_until_consenting(uow):
    customer = uuid.uuid4()
    await resolve(uow, customer, consent=False)
    assert reasons(uow) == ["no_consent"]
    # a later case with no word on consent keeps the refusal
    await resolve(uow, customer, consent=None)
    assert reasons(uow) == ["no_consent"] * 2
    await usecases.note_customer(uow, CustomerFacts(customer, consent_surveys=True), NOW)
    await resolve(uow, customer, consent=None)
    assert len(of_type(uow, SurveyInvited)) == 1
    (suppressed, _) = of_type(uow, SurveySuppressed)
    assert (suppressed.customer_id, suppressed.trigger) == (customer, "resolution")


async def test_test_cases_and_customers_with_another_open_complaint_are_not_asked(uow):
    customer = uuid.uuid4()
    await resolve(uow, test=True)
    open_complaint = CaseFacts(uuid.uuid4(), "AT-9", customer, "es", NOW, type="complaint")
    await usecases.remember_case(uow, open_complaint, consent_surveys=True)
    await resolve(uow, customer, type="question")
    assert reasons(uow) == ["test_case", "open_complaint"]
    await usecases.case_closed(uow, open_complaint.case_id)
    await resolve(uow, customer, type="question")
    assert len(of_type(uow, SurveyInvited)) == 1


async def test_opting_out_of_a_kind_by_the_link_declines_and_stops_that_kind(uow):
    customer = uuid.uuid4()
    case_id, token = await invited(uow, customer_id=customer)
    declined, scope = await usecases.opt_out(uow, token, "kind", NOW + timedelta(hours=1))
    assert (declined.status, scope) == (InvitationStatus.DECLINED, "csat")
    (declined_event,) = of_type(uow, SurveyDeclined)
    (opted,) = of_type(uow, CustomerSurveyOptOut)
    assert (declined_event.case_id, declined_event.questionnaire_kind) == (case_id, "csat")
    assert (opted.customer_id, opted.scope) == (customer, "csat")
    # the declined survey takes no answer, and the next csat is not sent
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.answer_survey(uow, token, {"satisfaction": "5"}, NOW + timedelta(hours=2))
    await resolve(uow, customer, now=NOW + timedelta(days=30))
    assert reasons(uow) == ["opted_out"]
    # opting out again changes nothing and says so once
    await usecases.opt_out(uow, token, "kind", NOW + timedelta(hours=3))
    assert len(of_type(uow, CustomerSurveyOptOut)) == 1
    assert len(of_type(uow, SurveyDeclined)) == 1


async def test_opting_out_of_all_stops_every_survey_even_after_answering(uow):
    customer = uuid.uuid4()
    _, token = await invited(uow, customer_id=customer)
    await usecases.answer_survey(uow, token, {"satisfaction": "4"}, NOW)
    answered, scope = await usecases.opt_out(uow, token, "all", NOW + timedelta(hours=1))
    assert (answered.status, scope) == (InvitationStatus.ANSWERED, "all")
    assert of_type(uow, SurveyDeclined) == []
    assert [e.scope for e in of_type(uow, CustomerSurveyOptOut)] == ["all"]
    await usecases.sale_completed(
        uow,
        sale_id=uuid.uuid4(),
        customer_id=customer,
        case_id=None,
        case_number=None,
        now=NOW + timedelta(days=60),
        config=CONFIG,
    )
    await usecases.send_due(uow, NOW + timedelta(days=60), CONFIG)
    (suppressed,) = of_type(uow, SurveySuppressed)
    assert (suppressed.reason, suppressed.trigger, suppressed.questionnaire_id) == (
        "opted_out",
        "sale",
        "post_sale",
    )


async def test_an_unknown_token_opts_nobody_out(uow):
    await invited(uow)
    with pytest.raises(InvitationNotFound):
        await usecases.opt_out(uow, "not-a-real-token", "all", NOW)


async def test_the_link_opens_in_the_language_and_register_the_case_was_opened_in(uow):
    english = (await resolve(uow, language="en"), "?lang=en")
    informal = (await resolve(uow, formality=Formality.INFORMAL), "?reg=tu")
    spanish = (await resolve(uow, language="es"), "")
    for case_id, query in (english, informal, spanish):
        (event,) = [e for e in of_type(uow, SurveyInvited) if e.case_id == case_id]
        assert event.survey_url == f"{BASE_URL}/s/{token_of(event)}{query}"


async def test_the_first_report_of_a_case_is_remembered(uow):
    case_id = uuid.uuid4()
    first = CaseFacts(case_id, "AT-2026-000001", uuid.uuid4(), "en", NOW)
    await usecases.remember_case(uow, first)
    await usecases.remember_case(uow, CaseFacts(case_id, "X", uuid.uuid4(), "es", NOW))
    assert await uow.cases.get(case_id) == first


# --- show ---------------------------------------------------------------------------------------


async def test_show_opens_a_pending_survey_by_its_token(uow):
    case_id, token = await invited(uow)
    invitation, questionnaire = await usecases.show_survey(uow, token, NOW + timedelta(hours=1))
    assert (invitation.case_id, invitation.case_number) == (case_id, "AT-2026-000042")
    assert questionnaire == STOCK["csat"]


async def test_show_refuses_an_unknown_token(uow):
    await invited(uow)
    with pytest.raises(InvitationNotFound):
        await usecases.show_survey(uow, "not-a-real-token", NOW)


async def test_show_reports_an_expired_or_answered_survey_with_its_case(uow):
    case_id, token = await invited(uow)
    with pytest.raises(SurveyExpired) as expired:
        await usecases.show_survey(uow, token, NOW + TTL)
    assert (expired.value.case_id, expired.value.case_number) == (case_id, "AT-2026-000042")
    await usecases.answer_survey(uow, token, {"satisfaction": "3"}, NOW)
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.show_survey(uow, token, NOW + timedelta(minutes=1))


# --- answer -------------------------------------------------------------------------------------


async def test_a_valid_answer_is_stored_and_announced(uow):
    case_id, token = await invited(uow)
    later = NOW + timedelta(hours=2)
    answered = await usecases.answer_survey(
        uow, token, {"satisfaction": " 4 ", "comment": "  Muy amables  "}, later
    )
    assert answered.status is InvitationStatus.ANSWERED
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.ANSWERED
    assert stored.answers == {"satisfaction": 4, "comment": "Muy amables"}
    assert stored.scores == {"csat": 4.0}
    assert stored.answered_at == later
    answer_event = uow.emitted[-1]
    assert isinstance(answer_event, SurveyAnswered)
    assert (answer_event.satisfaction, answer_event.comment) == (4, "Muy amables")
    assert (answer_event.invitation_id, answer_event.case_id) == (stored.id, case_id)
    assert answer_event.scores == {"csat": 4.0}
    assert uow.subjects[-1] == case_id
    assert of_type(uow, SurveyDetractor) == []


async def test_a_low_answer_also_announces_a_detractor_for_the_agent(uow):
    case_id, token = await invited(uow)
    await usecases.answer_survey(uow, token, {"satisfaction": "1", "reason": "slow"}, NOW)
    (detractor,) = of_type(uow, SurveyDetractor)
    assert (detractor.case_id, detractor.agent_id, detractor.reasons) == (
        case_id,
        "agent-1",
        ["csat<=2"],
    )


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"satisfaction": "9"}, {"satisfaction": AnswerProblem.OUT_OF_RANGE}),
        ({"satisfaction": "0"}, {"satisfaction": AnswerProblem.OUT_OF_RANGE}),
        ({"comment": "hola"}, {"satisfaction": AnswerProblem.MISSING}),
        (
            {"satisfaction": "3", "comment": "x" * 1001},
            {"comment": AnswerProblem.TOO_LONG},
        ),
        (
            {"satisfaction": "3", "reason": "weather"},
            {"reason": AnswerProblem.NOT_AN_OPTION},
        ),
        (
            {"satisfaction": "3", "recommend": "10"},
            {"recommend": AnswerProblem.NOT_IN_QUESTIONNAIRE},
        ),
    ],
)
async def test_a_bad_answer_is_refused_and_nothing_is_stored(uow, fields, problems):
    case_id, token = await invited(uow)
    with pytest.raises(InvalidAnswer) as invalid:
        await usecases.answer_survey(uow, token, fields, NOW)
    assert invalid.value.problems == problems
    # the page shows the form again for this case
    assert (invalid.value.case_id, invalid.value.case_number) == (case_id, "AT-2026-000042")
    (stored,) = await uow.invitations.for_case(case_id)
    assert (stored.status, stored.answers, stored.draft) == (InvitationStatus.PENDING, None, {})
    assert [type(e) for e in uow.emitted] == [SurveyInvited]


async def test_an_expired_survey_takes_no_answer(uow):
    case_id, token = await invited(uow)
    with pytest.raises(SurveyExpired):
        await usecases.answer_survey(uow, token, {"satisfaction": "5"}, NOW + TTL)
    with pytest.raises(SurveyExpired):
        await usecases.save_draft(uow, token, {"satisfaction": "5"}, NOW + TTL)
    (stored,) = await uow.invitations.for_case(case_id)
    assert (stored.answers, stored.draft) == (None, {})
    assert [type(e) for e in uow.emitted] == [SurveyInvited]


async def test_a_closed_survey_is_reported_before_a_bad_field(uow):
    _, token = await invited(uow)
    with pytest.raises(SurveyExpired):
        await usecases.answer_survey(uow, token, {"satisfaction": "9"}, NOW + TTL)


async def test_a_survey_takes_exactly_one_answer_and_a_spent_token_nothing_more(uow):
    case_id, token = await invited(uow)
    await usecases.answer_survey(uow, token, {"satisfaction": "4"}, NOW)
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.answer_survey(uow, token, {"satisfaction": "1"}, NOW + timedelta(minutes=1))
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.save_draft(uow, token, {"satisfaction": "1"}, NOW + timedelta(minutes=2))
    # answered stays answered, even after the expiry
    with pytest.raises(SurveyAlreadyAnswered):
        await usecases.answer_survey(uow, token, {"satisfaction": "1"}, NOW + 2 * TTL)
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.answers == {"satisfaction": 4}
    assert [type(e) for e in uow.emitted] == [SurveyInvited, SurveyAnswered]


async def test_an_unknown_token_takes_no_answer(uow):
    await invited(uow)
    with pytest.raises(InvitationNotFound):
        await usecases.answer_survey(uow, "not-a-real-token", {"satisfaction": "5"}, NOW)
    with pytest.raises(InvitationNotFound):
        await usecases.save_draft(uow, "not-a-real-token", {"satisfaction": "5"}, NOW)


async def test_partial_answers_are_kept_and_completed_by_the_final_one(uow):
    case_id, token = await invited(uow)
    # the email's one-click answer, confirmed: a partial answer
    saved = await usecases.save_draft(uow, token, {"satisfaction": "2"}, NOW)
    assert saved.draft == {"satisfaction": 2}
    assert [type(e) for e in uow.emitted] == [SurveyInvited]
    with pytest.raises(InvalidAnswer):  # a bad partial answer keeps nothing
        await usecases.save_draft(uow, token, {"reason": "weather"}, NOW)
    assert (await uow.invitations.for_case(case_id))[0].draft == {"satisfaction": 2}
    answered = await usecases.answer_survey(uow, token, {"comment": "Tardaron"}, NOW)
    assert answered.answers == {"satisfaction": 2, "comment": "Tardaron"}
    # a field the form sent empty is unanswered, even if a draft had it
    _, other = await invited(uow)
    await usecases.save_draft(uow, other, {"satisfaction": "5", "reason": "slow"}, NOW)
    answered = await usecases.answer_survey(uow, other, {"reason": ""}, NOW)
    assert answered.answers == {"satisfaction": 5}


async def test_invitations_of_a_case_are_listed_oldest_first(uow):
    customer = uuid.uuid4()
    case_id = await resolve(uow, customer)
    await usecases.sale_completed(
        uow,
        sale_id=uuid.uuid4(),
        customer_id=customer,
        case_id=case_id,
        case_number="AT-2026-000042",
        now=NOW + timedelta(days=20),
        config=CONFIG,
    )
    await usecases.send_due(uow, NOW + timedelta(days=20), CONFIG)
    listed = await usecases.invitations_of_case(uow, case_id)
    assert [(i.invited_at, i.trigger) for i in listed] == [
        (NOW, "resolution"),
        (NOW + timedelta(days=20), "sale"),
    ]
    assert await usecases.invitations_of_case(uow, uuid.uuid4()) == []


# --- remind and expire --------------------------------------------------------------------------


async def test_one_reminder_counted_in_the_budget_then_the_expiry():
    uow = FakeUnitOfWork()
    # reminders look only at invitations that have not expired by the wall clock, as SQL does
    now = datetime.now(UTC)
    customer = uuid.uuid4()
    case_id = await resolve(uow, customer, now=now)
    assert await usecases.remind_and_expire(uow, now + timedelta(days=1), CONFIG) == 0
    await usecases.remind_and_expire(uow, now + timedelta(days=3), CONFIG)
    await usecases.remind_and_expire(uow, now + timedelta(days=4), CONFIG)
    (reminded,) = of_type(uow, SurveyReminded)
    assert reminded.case_id == case_id
    assert reminded.survey_url.startswith(f"{BASE_URL}/s/")
    assert [c.reminder for c in await uow.customers.contacts(customer)] == [False, True]
    await usecases.remind_and_expire(uow, now + TTL, CONFIG)
    (expired,) = of_type(uow, SurveyExpiredEvent)
    assert expired.case_id == case_id
    (stored,) = await uow.invitations.for_case(case_id)
    assert stored.status is InvitationStatus.EXPIRED


async def test_the_reminder_link_opens_the_same_survey_and_counts_one_answer():
    uow = FakeUnitOfWork()
    now = datetime.now(UTC)
    _case_id, first_token = await invited(uow, now=now)
    await usecases.remind_and_expire(uow, now + timedelta(days=4), CONFIG)
    (reminded,) = of_type(uow, SurveyReminded)
    reminder_token = token_of(reminded)
    assert reminder_token != first_token
    assert len(reminder_token) >= 43
    (stored,) = uow.invitations.rows.values()
    # only hashes are kept, the reminder's beside the invitation's
    assert stored.reminder_token_hash == hash_token(reminder_token)
    assert reminder_token not in repr(stored)
    by_reminder, questionnaire = await usecases.show_survey(uow, reminder_token, now)
    by_first, _ = await usecases.show_survey(uow, first_token, now)
    assert by_reminder.id == by_first.id
    assert questionnaire.id == "csat"
    await usecases.answer_survey(uow, reminder_token, {"satisfaction": "5"}, now)
    assert len(of_type(uow, SurveyAnswered)) == 1
    # the same invitation: answered through either link, once
    for token in (first_token, reminder_token):
        with pytest.raises(SurveyAlreadyAnswered):
            await usecases.answer_survey(uow, token, {"satisfaction": "1"}, now)
    assert len(of_type(uow, SurveyAnswered)) == 1
    with pytest.raises(InvitationNotFound):  # a guessed token says nothing of any case
        await usecases.show_survey(uow, reminder_token[:-1] + "A", now)


async def test_no_reminder_after_an_opt_out():
    uow = FakeUnitOfWork()
    now = datetime.now(UTC)
    asked, opted_out = uuid.uuid4(), uuid.uuid4()
    await resolve(uow, asked, now=now)
    await resolve(uow, opted_out, now=now)
    # opted out of all surveys (by another survey's link): the pending one is not reminded
    await uow.customers.opt_out(opted_out, "all", now)
    await usecases.remind_and_expire(uow, now + timedelta(days=4), CONFIG)
    assert [e.customer_id for e in of_type(uow, SurveyReminded)] == [asked]
    # looked at once, never again
    assert all(i.reminders == 1 for i in uow.invitations.rows.values())


async def test_no_reminder_beyond_the_budget():
    uow = FakeUnitOfWork()
    now = datetime.now(UTC)
    tight = SurveyConfig(base_url=BASE_URL, pressure=PressurePolicy(max_invitations=1))
    await resolve(uow, now=now, config=tight)  # its one contact spends the budget
    await usecases.remind_and_expire(uow, now + timedelta(days=4), tight)
    assert of_type(uow, SurveyReminded) == []


# --- results and questionnaires -----------------------------------------------------------------


async def test_results_score_the_answers_that_match(uow):
    _, happy = await invited(uow)
    _, unhappy = await invited(uow)
    await usecases.answer_survey(uow, happy, {"satisfaction": "5"}, NOW)
    await usecases.answer_survey(uow, unhappy, {"satisfaction": "2"}, NOW)
    answered, summary = await usecases.results(uow, ResultFilter(agent_id="agent-1"))
    assert len(answered) == 2
    assert (summary.responses, summary.csat_percent) == (2, 50.0)
    _, none = await usecases.results(uow, ResultFilter(team="nobody"))
    assert (none.responses, none.csat_percent) == (0, None)


async def test_a_new_questionnaire_version_leaves_sent_invitations_on_theirs(uow):
    _, token = await invited(uow)
    stock = STOCK["csat"]
    published = await usecases.publish_questionnaire(
        uow,
        Questionnaire(
            id="csat", version=0, kind=stock.kind, title=stock.title, questions=stock.questions[:1]
        ),
        actor="sup@example.com",
    )
    assert published.version == 2
    assert await uow.questionnaires.published_by("csat", 2) == "sup@example.com"
    assert (await usecases.questionnaire(uow, "csat")).version == 2
    _, questionnaire = await usecases.show_survey(uow, token, NOW)
    assert questionnaire == stock
    assert "csat" in await usecases.questionnaire_ids(uow)


def test_a_questionnaire_with_no_questions_is_refused():
    with pytest.raises(EmptyQuestionnaire):
        Questionnaire(id="x", version=1, kind=STOCK["csat"].kind, title={"es": "x"}, questions=())


# --- erasure ------------------------------------------------------------------------------------


async def test_erasure_scrubs_the_customer_s_words_keeps_the_scores_and_kills_the_links(uow):
    customer = uuid.uuid4()
    case_id, token = await invited(uow, customer_id=customer)
    await usecases.answer_survey(uow, token, {"satisfaction": "2", "comment": "Soy Ana"}, NOW)
    # one of their cases, surveyed under another record of theirs (merged in intake since)
    other_case, other_token = await invited(uow, number="AT-2026-000043")
    await usecases.save_draft(uow, other_token, {"satisfaction": "5"}, NOW)
    _, stranger_token = await invited(uow, number="AT-2026-000044")

    scrubbed = await usecases.customer_erased(uow, customer, [case_id, other_case], NOW)

    assert scrubbed == 2
    (answered,) = await uow.invitations.for_case(case_id)
    assert answered.answers == {"satisfaction": 2, "comment": "[erased]"}
    assert answered.scores == {"csat": 2.0}
    assert answered.status is InvitationStatus.ANSWERED
    (pending,) = await uow.invitations.for_case(other_case)
    assert pending.draft == {"satisfaction": 5}
    for spent in (token, other_token):
        with pytest.raises(InvitationNotFound):
            await usecases.show_survey(uow, spent, NOW)
    await usecases.show_survey(uow, stranger_token, NOW)  # someone else's link still works
    assert uow.scrubbed == [
        ({str(customer), str(case_id), str(other_case)}, usecases.ERASABLE_FIELDS)
    ]


async def test_an_erased_customer_is_never_surveyed_again_even_from_a_late_case(uow):
    customer = uuid.uuid4()
    await usecases.customer_erased(uow, customer, [], NOW)
    # a case.opened older than the erasure arrives after it, saying they consented
    await resolve(uow, customer, consent=True)
    await usecases.note_customer(uow, CustomerFacts(customer, consent_surveys=True), NOW)
    await resolve(uow, customer, consent=None, number="AT-2026-000045")
    assert of_type(uow, SurveyInvited) == []
    assert reasons(uow) == ["no_consent", "no_consent"]
