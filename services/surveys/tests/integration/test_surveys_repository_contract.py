"""One contract for surveys' repositories, held against the in-memory fakes and PostgreSQL alike,
so the fakes the use-case tests run on cannot drift from the real thing."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import Formality
from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork
from atiende_surveys.domain import (
    STOCK,
    Campaign,
    CaseFacts,
    Contact,
    CustomerFacts,
    Invitation,
    InvitationStatus,
    Questionnaire,
    Segment,
    hash_token,
)
from atiende_surveys.repository import Due, PostgresUnitOfWork, ResultFilter, Suppression

from ..fakes import FakeUnitOfWork

# invitations' expiry is compared with the database's now() when reminding: keep them current
NOW = datetime.now(UTC).replace(microsecond=0)
TTL = timedelta(days=14)
CSAT = STOCK["csat"]


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


def issue(case_id=None, *, now=NOW, trigger="resolution", **extra):
    invitation, _ = Invitation.issue(
        case_id=case_id or uuid.uuid4(),
        case_number="AT-2026-000042",
        now=now,
        ttl=TTL,
        questionnaire=CSAT,
        trigger=trigger,
        **extra,
    )
    return invitation


# --- cases and customers ------------------------------------------------------------------------


async def test_a_case_s_facts_are_kept_and_the_first_report_wins(uow):
    case = CaseFacts(uuid.uuid4(), "AT-2026-000001", uuid.uuid4(), "en", NOW)
    await uow.cases.remember(case)
    await uow.cases.remember(CaseFacts(case.case_id, "X-2", uuid.uuid4(), "es", NOW))
    assert await uow.cases.get(case.case_id) == case
    assert await uow.cases.get(uuid.uuid4()) is None


async def test_closing_a_case_keeps_the_agent_and_team_it_had_unless_told(uow):
    case = CaseFacts(uuid.uuid4(), "AT-1", uuid.uuid4(), "es", NOW, agent_id="a1", team="t1")
    await uow.cases.remember(case)
    await uow.cases.set_open(case.case_id, False)
    stored = await uow.cases.get(case.case_id)
    assert (stored.open, stored.agent_id, stored.team) == (False, "a1", "t1")
    await uow.cases.set_open(case.case_id, True, agent_id="a2", team="t2")
    stored = await uow.cases.get(case.case_id)
    assert (stored.open, stored.agent_id, stored.team) == (True, "a2", "t2")


async def test_only_another_open_complaint_of_the_customer_counts(uow):
    customer = uuid.uuid4()
    this = CaseFacts(uuid.uuid4(), "AT-1", customer, "es", NOW, type="complaint")
    await uow.cases.remember(this)
    assert await uow.cases.has_other_open_complaint(customer, this.case_id) is False
    question = CaseFacts(uuid.uuid4(), "AT-2", customer, "es", NOW, type="question")
    await uow.cases.remember(question)
    assert await uow.cases.has_other_open_complaint(customer, this.case_id) is False
    other = CaseFacts(uuid.uuid4(), "AT-3", customer, "es", NOW, type="complaint")
    await uow.cases.remember(other)
    assert await uow.cases.has_other_open_complaint(customer, this.case_id) is True
    assert await uow.cases.has_other_open_complaint(uuid.uuid4(), this.case_id) is False
    await uow.cases.set_open(other.case_id, False)
    assert await uow.cases.has_other_open_complaint(customer, this.case_id) is False


async def test_what_is_known_of_a_customer_is_kept_and_a_none_leaves_it(uow):
    customer = uuid.uuid4()
    assert await uow.customers.get(customer) is None
    await uow.customers.note(CustomerFacts(customer, consent_surveys=False, language="en"), NOW)
    await uow.customers.note(
        CustomerFacts(customer, consent_surveys=None, formality=Formality.INFORMAL), NOW
    )
    assert await uow.customers.get(customer) == CustomerFacts(
        customer, consent_surveys=False, language="en", formality=Formality.INFORMAL
    )
    await uow.customers.note(CustomerFacts(customer, consent_surveys=True), NOW)
    assert (await uow.customers.get(customer)).consent_surveys is True


async def test_an_opt_out_is_kept_once_per_scope_even_for_an_unknown_customer(uow):
    customer = uuid.uuid4()
    assert await uow.customers.opt_out(customer, "nps", NOW) is True
    assert await uow.customers.opt_out(customer, "nps", NOW) is False
    assert await uow.customers.opt_out(customer, "all", NOW) is True
    assert await uow.customers.get(customer) == CustomerFacts(
        customer, opt_outs=frozenset({"nps", "all"})
    )


async def test_contacts_are_listed_oldest_first_per_customer(uow):
    customer, other = uuid.uuid4(), uuid.uuid4()
    later = Contact(at=NOW, reminder=True)
    earlier = Contact(at=NOW - timedelta(days=3))
    await uow.customers.add_contact(customer, uuid.uuid4(), later)
    await uow.customers.add_contact(customer, uuid.uuid4(), earlier)
    await uow.customers.add_contact(other, uuid.uuid4(), Contact(at=NOW))
    assert await uow.customers.contacts(customer) == [earlier, later]
    assert await uow.customers.contacts(uuid.uuid4()) == []


# --- invitations --------------------------------------------------------------------------------


async def test_an_added_invitation_is_found_by_its_token_hash_as_it_was(uow):
    invitation = issue(customer_id=uuid.uuid4(), language="en", formality=Formality.INFORMAL)
    assert await uow.invitations.add(invitation) is True
    assert await uow.invitations.by_token_hash(invitation.token_hash) == invitation
    assert await uow.invitations.by_token_hash(invitation.token_hash, for_update=True) == (
        invitation
    )
    assert await uow.invitations.by_token_hash("0" * 64) is None
    assert await uow.invitations.exists_for_case(invitation.case_id) is True
    assert await uow.invitations.exists_for_case(uuid.uuid4()) is False


async def test_a_case_is_surveyed_once_however_often_it_is_resolved(uow):
    # issue 12: at most one survey per case, whatever became of the first one
    first = issue()
    assert await uow.invitations.add(first) is True
    second = issue(first.case_id, now=NOW + timedelta(hours=1), trigger="closure")
    assert await uow.invitations.add(second) is False
    assert await uow.invitations.for_case(first.case_id) == [first]
    assert await uow.invitations.by_token_hash(second.token_hash) is None

    expired, _ = first.expire(NOW + TTL)
    await uow.invitations.save_status(expired)
    later = issue(first.case_id, now=NOW + TTL + timedelta(days=1))
    assert await uow.invitations.add(later) is False
    listed = await uow.invitations.for_case(first.case_id)
    assert [(i.id, i.status) for i in listed] == [(first.id, InvitationStatus.EXPIRED)]
    assert await uow.invitations.for_case(uuid.uuid4()) == []


async def test_a_sale_follow_up_is_not_held_back_by_the_case_s_survey(uow):
    first = issue()
    await uow.invitations.add(first)
    sale = issue(first.case_id, now=NOW + timedelta(hours=1), trigger="sale")
    assert await uow.invitations.add(sale) is True
    listed = await uow.invitations.for_case(first.case_id)
    assert [i.id for i in listed] == [first.id, sale.id]


async def test_status_reminders_and_draft_are_saved(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    drafted = invitation.save_draft({"satisfaction": 2}, NOW).remind()
    await uow.invitations.save_status(drafted)
    stored = await uow.invitations.by_token_hash(invitation.token_hash)
    assert (stored.status, stored.reminders, stored.draft) == (
        InvitationStatus.PENDING,
        1,
        {"satisfaction": 2},
    )
    declined, _ = stored.decline(NOW)
    await uow.invitations.save_status(declined)
    stored = await uow.invitations.by_token_hash(invitation.token_hash)
    assert (stored.status, stored.draft) == (InvitationStatus.DECLINED, {})


async def test_the_reminder_token_hash_is_kept_and_opens_the_invitation(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    reminded, token = invitation.remind_with_link()
    await uow.invitations.save_status(reminded)
    stored = await uow.invitations.by_token_hash(hash_token(token), for_update=True)
    assert stored == reminded
    assert await uow.invitations.by_token_hash(invitation.token_hash) == reminded
    # a later status change (no reminder token in hand) keeps the reminder's link working
    drafted = stored.save_draft({"satisfaction": 2}, NOW)
    await uow.invitations.save_status(replace(drafted, reminder_token_hash=None))
    again = await uow.invitations.by_token_hash(hash_token(token))
    assert (again.reminder_token_hash, again.draft) == (hash_token(token), {"satisfaction": 2})


async def test_an_answer_is_stored_once(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    later = NOW + timedelta(hours=3)
    answered, _, _ = invitation.respond(CSAT, {"satisfaction": 4, "comment": "Muy amables"}, later)
    await uow.invitations.save_response(answered)
    stored = await uow.invitations.by_token_hash(invitation.token_hash)
    assert stored == answered
    assert (stored.status, stored.answers, stored.scores, stored.answered_at) == (
        InvitationStatus.ANSWERED,
        {"satisfaction": 4, "comment": "Muy amables"},
        {"csat": 4.0},
        later,
    )

    again, _, _ = invitation.respond(CSAT, {"satisfaction": 1}, later + timedelta(minutes=1))
    with pytest.raises(Exception):  # the responses primary key
        await uow.invitations.save_response(again)
    assert (await uow.invitations.by_token_hash(invitation.token_hash)).answers == {
        "satisfaction": 4,
        "comment": "Muy amables",
    }


async def test_an_answer_without_a_comment_is_stored_without_one(uow):
    invitation = issue()
    await uow.invitations.add(invitation)
    answered, _, _ = invitation.respond(CSAT, {"satisfaction": 2}, NOW)
    await uow.invitations.save_response(answered)
    (stored,) = await uow.invitations.for_case(invitation.case_id)
    assert stored.answers == {"satisfaction": 2}


async def test_overdue_and_reminder_candidates_are_pending_ones(uow):
    overdue = issue(now=NOW - TTL - timedelta(days=1))
    fresh = issue(now=NOW - timedelta(days=4))
    recent = issue(now=NOW - timedelta(hours=1))
    reminded = issue(now=NOW - timedelta(days=5))
    for invitation in (overdue, fresh, recent, reminded):
        await uow.invitations.add(invitation)
    await uow.invitations.save_status(reminded.remind())
    assert [i.id for i in await uow.invitations.overdue(NOW, 10)] == [overdue.id]
    assert [i.id for i in await uow.invitations.to_remind(NOW - timedelta(days=3), 10)] == [
        fresh.id
    ]
    await uow.invitations.save_status(overdue.expire(NOW)[0])
    assert await uow.invitations.overdue(NOW, 10) == []


async def test_answered_invitations_are_filtered_for_results(uow):
    team_a = issue(agent_id="agent-1", team="a", customer_id=uuid.uuid4())
    team_b = issue(agent_id="agent-2", team="b")
    pending = issue(team="a")
    for invitation in (team_a, team_b, pending):
        await uow.invitations.add(invitation)
    for invitation, at in ((team_a, NOW + timedelta(hours=1)), (team_b, NOW + timedelta(hours=2))):
        answered, _, _ = invitation.respond(CSAT, {"satisfaction": 5}, at)
        await uow.invitations.save_response(answered)

    async def ids(**where):
        return [i.id for i in await uow.invitations.answered(ResultFilter(**where))]

    assert await ids() == [team_a.id, team_b.id]
    assert await ids(team="a") == [team_a.id]
    assert await ids(agent_id="agent-2") == [team_b.id]
    assert await ids(customer_id=team_a.customer_id) == [team_a.id]
    assert await ids(case_id=team_b.case_id) == [team_b.id]
    assert await ids(questionnaire_id="nps") == []
    assert await ids(since=NOW + timedelta(hours=2)) == [team_b.id]
    assert await ids(until=NOW + timedelta(hours=2)) == [team_a.id]


# --- questionnaires, the timer, suppressions ----------------------------------------------------


async def test_the_stock_questionnaire_stands_until_a_new_version_is_stored(uow):
    assert await uow.questionnaires.latest("csat") == CSAT
    assert await uow.questionnaires.version("csat", 1) == CSAT
    assert await uow.questionnaires.version("csat", 2) is None
    assert await uow.questionnaires.latest("nope") is None
    v2 = Questionnaire(
        id="csat", version=2, kind=CSAT.kind, title=CSAT.title, questions=CSAT.questions[:1]
    )
    custom = Questionnaire(
        id="mine", version=1, kind=CSAT.kind, title={"es": "Mía"}, questions=CSAT.questions[:1]
    )
    await uow.questionnaires.add(v2, "sup@example.com")
    await uow.questionnaires.add(custom, None)
    assert await uow.questionnaires.published_by(v2.id, v2.version) == "sup@example.com"
    assert await uow.questionnaires.published_by(custom.id, custom.version) is None
    assert await uow.questionnaires.latest("csat") == v2
    assert await uow.questionnaires.version("csat", 2) == v2
    assert await uow.questionnaires.version("csat", 1) == CSAT  # earlier invitations keep it
    assert await uow.questionnaires.ids() == sorted({*STOCK, "mine"})


async def test_due_invitations_are_claimed_once_done(uow):
    assert await uow.schedule.next_due() is None

    def due(at):
        return Due(uuid.uuid4(), uuid.uuid4(), "AT-1", None, "resolution", "csat", None, None, at)

    soon, later = due(NOW - timedelta(minutes=1)), due(NOW + timedelta(hours=1))
    await uow.schedule.add(later)
    await uow.schedule.add(soon)
    assert await uow.schedule.next_due() == soon.due_at
    assert await uow.schedule.claim_due(NOW, 10) == [soon]
    await uow.schedule.done(soon.id, NOW)
    assert await uow.schedule.claim_due(NOW, 10) == []
    assert await uow.schedule.next_due() == later.due_at
    assert await uow.schedule.claim_due(NOW + timedelta(hours=2), 10) == [later]


async def test_suppressions_are_listed_by_customer_and_case(uow):
    customer = uuid.uuid4()

    def suppression(case_id, at, who=customer):
        return Suppression(uuid.uuid4(), who, case_id, "csat", "resolution", "no_consent", "x", at)

    first = suppression(uuid.uuid4(), NOW - timedelta(hours=1))
    second = suppression(uuid.uuid4(), NOW)
    stranger = suppression(uuid.uuid4(), NOW, uuid.uuid4())
    for s in (second, first, stranger):
        await uow.suppressions.add(s)
    assert await uow.suppressions.list(customer_id=customer) == [first, second]
    assert await uow.suppressions.list(case_id=second.case_id) == [second]
    assert len(await uow.suppressions.list()) == 3


# --- campaigns ----------------------------------------------------------------------------------


async def test_a_segment_is_read_from_the_customer_and_their_latest_case(uow):
    async def known(language, tier, days_ago, *, own_language=None, older=None):
        customer_id = uuid.uuid4()
        await uow.customers.note(CustomerFacts(customer_id, language=own_language), NOW)
        if older is not None:  # an older case with another tier: the latest one counts
            await uow.cases.remember(
                CaseFacts(
                    uuid.uuid4(),
                    "AT-0",
                    customer_id,
                    language,
                    NOW - timedelta(days=500),
                    tier=older,
                )
            )
        await uow.cases.remember(
            CaseFacts(
                uuid.uuid4(),
                "AT-1",
                customer_id,
                language,
                NOW - timedelta(days=days_ago),
                tier=tier,
            )
        )
        return customer_id

    gold_en = await known("en", "gold", 5)
    gold_es_old = await known("es", "gold", 200)
    silver_now = await known("es", "silver", 1, older="gold")
    speaks_en = await known("es", "gold", 3, own_language="en")
    assert await uow.customers.in_segment(Segment(tier="gold"), NOW) == sorted(
        [gold_en, gold_es_old, speaks_en]
    )
    assert await uow.customers.in_segment(
        Segment(tier="gold", contacted_within_days=30), NOW
    ) == sorted([gold_en, speaks_en])
    assert await uow.customers.in_segment(Segment(language="en"), NOW) == sorted(
        [gold_en, speaks_en]
    )
    assert silver_now in await uow.customers.in_segment(Segment(), NOW)
    assert await uow.customers.in_segment(Segment(language="en", tier="silver"), NOW) == []


async def test_a_campaign_and_its_scheduled_invitations_are_kept(uow):
    campaign = Campaign(
        id=uuid.uuid4(),
        questionnaire_id="periodic",
        segment=Segment(language="es", tier=None, contacted_within_days=90),
        send_from=NOW,
        send_until=NOW + timedelta(days=7),
        created_at=NOW,
        scheduled=1,
        created_by="sup@example.com",
    )
    await uow.campaigns.add(campaign)
    assert await uow.campaigns.get(campaign.id) == campaign
    assert await uow.campaigns.get(uuid.uuid4()) is None
    case_id, number = campaign.subject_of(uuid.uuid4())
    due = Due(
        uuid.uuid4(),
        case_id,
        number,
        uuid.uuid4(),
        "periodic",
        "periodic",
        None,
        None,
        NOW,
        campaign_id=campaign.id,
        not_after=campaign.send_until,
    )
    await uow.schedule.add(due)
    assert await uow.schedule.claim_due(NOW, 10) == [due]
