"""The periodic survey of a segment on the in-memory unit of work: who is in the segment, one
scheduled invitation each, decided through the one budget, nothing sent after the window."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import SurveyInvited, SurveySuppressed
from atiende_surveys import usecases
from atiende_surveys.domain import (
    Campaign,
    CampaignNotFound,
    CaseFacts,
    Contact,
    CustomerFacts,
    InvalidCampaign,
    Segment,
)
from atiende_surveys.usecases import SurveyConfig

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CONFIG = SurveyConfig(base_url="https://encuestas.example.test")
WEEK = timedelta(days=7)


async def customer(uow, *, language="es", tier="gold", last_case_days_ago=10, consent=True):
    customer_id = uuid.uuid4()
    opened = NOW - timedelta(days=last_case_days_ago)
    await usecases.remember_case(
        uow,
        CaseFacts(uuid.uuid4(), "AT-2026-000001", customer_id, language, opened, tier=tier),
        consent_surveys=consent,
    )
    # the customer's cases are closed: an open complaint would hold the survey back
    for case in list(uow.cases.rows.values()):
        if case.customer_id == customer_id:
            await uow.cases.set_open(case.case_id, False)
    return customer_id


def test_a_segment_matches_language_tier_and_recent_contact():
    segment = Segment(language="en", tier="gold", contacted_within_days=30)
    recent = NOW - timedelta(days=29)
    assert segment.matches(language="en", tier="gold", last_contact=recent, now=NOW)
    assert not segment.matches(language="es", tier="gold", last_contact=recent, now=NOW)
    assert not segment.matches(language="en", tier="silver", last_contact=recent, now=NOW)
    old = NOW - timedelta(days=31)
    assert not segment.matches(language="en", tier="gold", last_contact=old, now=NOW)
    assert not segment.matches(language="en", tier="gold", last_contact=None, now=NOW)
    assert Segment().matches(language=None, tier=None, last_contact=None, now=NOW)


@pytest.mark.parametrize(
    ("send_from", "send_until", "field"),
    [
        (NOW, NOW, "send_until"),
        (NOW - 2 * WEEK, NOW - WEEK, "send_until"),
    ],
)
def test_a_campaign_window_must_be_open_and_not_over(send_from, send_until, field):
    with pytest.raises(InvalidCampaign) as raised:
        Campaign.plan(
            questionnaire_id="periodic",
            segment=Segment(),
            send_from=send_from,
            send_until=send_until,
            now=NOW,
        )
    assert list(raised.value.by_field()) == [field]


async def test_an_unknown_questionnaire_is_refused_and_nothing_is_scheduled():
    uow = FakeUnitOfWork()
    await customer(uow)
    with pytest.raises(InvalidCampaign) as raised:
        await usecases.start_campaign(
            uow,
            questionnaire_id="nope",
            segment=Segment(),
            send_from=NOW,
            send_until=NOW + WEEK,
            now=NOW,
            config=CONFIG,
        )
    assert list(raised.value.by_field()) == ["questionnaire_id"]
    assert uow.schedule.rows == {}
    assert uow.campaigns.rows == {}
    with pytest.raises(CampaignNotFound):
        await usecases.campaign_by_id(uow, uuid.uuid4())


async def test_the_segment_is_scheduled_and_decided_through_the_budget():
    uow = FakeUnitOfWork()
    asked = await customer(uow, tier="gold")
    refused = await customer(uow, tier="gold", consent=False)
    recently_asked = await customer(uow, tier="gold")
    await uow.customers.add_contact(recently_asked, uuid.uuid4(), Contact(at=NOW - WEEK))
    await customer(uow, tier="silver")  # not in the segment
    await customer(uow, tier="gold", last_case_days_ago=400)  # not contacted lately
    started = await usecases.start_campaign(
        uow,
        questionnaire_id="periodic",
        segment=Segment(tier="gold", contacted_within_days=90),
        send_from=NOW,
        send_until=NOW + WEEK,
        now=NOW,
        config=CONFIG,
        actor="sup@example.com",
    )
    assert (started.scheduled, started.created_by) == (3, "sup@example.com")
    assert await usecases.campaign_by_id(uow, started.id) == started
    dues = list(uow.schedule.rows.values())
    assert sorted(d.customer_id for d in dues) == sorted([asked, refused, recently_asked])
    assert {(d.trigger, d.campaign_id, d.not_after) for d in dues} == {
        ("periodic", started.id, NOW + WEEK)
    }

    assert await usecases.send_due(uow, NOW, CONFIG) == 3
    (invited,) = [e for e in uow.emitted if isinstance(e, SurveyInvited)]
    assert invited.customer_id == asked
    assert invited.questionnaire_kind == "periodic"
    assert invited.case_id == started.subject_of(asked)[0]
    suppressed = {e.customer_id: e.reason for e in uow.emitted if isinstance(e, SurveySuppressed)}
    assert suppressed == {refused: "no_consent", recently_asked: "too_soon_after_last"}
    # the invitation spent the customer's budget like any other survey
    assert [c.reminder for c in await uow.customers.contacts(asked)] == [False]


async def test_nothing_is_sent_after_the_window_closes():
    uow = FakeUnitOfWork()
    late = await customer(uow)
    await usecases.start_campaign(
        uow,
        questionnaire_id="periodic",
        segment=Segment(),
        send_from=NOW,
        send_until=NOW + WEEK,
        now=NOW,
        config=CONFIG,
    )
    # the timer was down for the whole window
    await usecases.send_due(uow, NOW + 2 * WEEK, CONFIG)
    assert [e for e in uow.emitted if isinstance(e, SurveyInvited)] == []
    (suppressed,) = [e for e in uow.emitted if isinstance(e, SurveySuppressed)]
    assert (suppressed.customer_id, suppressed.reason) == (late, "send_window_closed")
    assert await uow.customers.contacts(late) == []


async def test_the_language_of_the_segment_is_the_customer_s_known_one():
    uow = FakeUnitOfWork()
    english = await customer(uow, language="en")
    spanish_now = await customer(uow, language="en")
    await uow.customers.note(CustomerFacts(spanish_now, language="es"), NOW)
    assert await uow.customers.in_segment(Segment(language="en"), NOW) == [english]
