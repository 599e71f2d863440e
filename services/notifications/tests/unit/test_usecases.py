"""Notifications' use cases on the in-memory unit of work: recording deliveries from consumed
events, and dispatch rounds (sent, retried then failed, refused for good)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import CaseOpened, NotificationFailed, NotificationSent, SurveyInvited
from atiende_notifications import usecases
from atiende_notifications.domain import (
    DeliveryStatus,
    RetryPolicy,
    Template,
    UnknownRecipient,
    delivery_id_for,
    idempotency_key,
)
from atiende_notifications.usecases import Outcome

from ..fakes import FakeClock, FakeMailer, FakeUnitOfWork, fake_render

POLICY = RetryPolicy(
    max_attempts=3, base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5)
)


def case_opened(email: str | None = "ana@example.com", language: str = "es") -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number="AT-2026-000123",
        customer_id=uuid.uuid4(),
        customer_name="Ana Pérez",
        customer_email=email,
        type="complaint",
        channel="phone",
        description="The invoice is wrong",
        opened_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
        language=language,
    )


def survey_invited(opened: CaseOpened) -> SurveyInvited:
    return SurveyInvited(
        invitation_id=uuid.uuid4(),
        case_id=opened.case_id,
        case_number=opened.case_number,
        survey_url="https://surveys.example/s/abc",
        expires_at=datetime(2026, 3, 19, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


async def acknowledge(uow, clock, **event):
    opened = case_opened(**event)
    delivery = await usecases.acknowledge_case(uow, opened, render=fake_render, clock=clock)
    return opened, delivery


async def dispatch(uow, mailer, clock, batch_size=20):
    return await usecases.dispatch_due(uow, mailer, POLICY, batch_size=batch_size, clock=clock)


# --- recording -------------------------------------------------------------------------------


async def test_case_opened_remembers_the_recipient_and_records_a_pending_acknowledgement(
    uow, clock
):
    opened, delivery = await acknowledge(uow, clock, language="en-GB")

    recipient = await uow.recipients.get(opened.case_id)
    assert recipient is not None
    assert (recipient.customer_email, recipient.language) == ("ana@example.com", "en")
    assert delivery is not None
    assert delivery.id == delivery_id_for(
        idempotency_key(Template.CASE_ACKNOWLEDGEMENT, opened.case_id)
    )
    assert uow.deliveries.stored(delivery.id) == delivery
    assert delivery.status is DeliveryStatus.PENDING
    assert (delivery.attempts, delivery.next_attempt_at) == (0, clock.now)
    assert delivery.subject == "[AT-2026-000123] We have received your case"
    assert delivery.body_text.startswith(delivery.subject)
    assert uow.emitted == []  # recording announces nothing; sending does


async def test_the_same_case_opened_again_records_no_second_delivery(uow, clock):
    opened, first = await acknowledge(uow, clock)
    again = await usecases.acknowledge_case(uow, opened, render=fake_render, clock=clock)
    assert first is not None
    assert again is None
    assert list(uow.deliveries.rows) == [first.id]


async def test_a_customer_without_any_address_is_remembered_and_the_message_suppressed(uow, clock):
    """Issue 13: no address on any allowed channel is recorded as suppressed, not lost (it was
    skipped silently before)."""
    opened, delivery = await acknowledge(uow, clock, email=None)
    assert delivery is not None
    assert (delivery.status, delivery.reason) == (DeliveryStatus.SUPPRESSED, "no_address")
    assert [type(e).__name__ for e in uow.emitted] == ["NotificationSuppressed"]
    assert await uow.deliveries.claim_due(10, clock.now + timedelta(days=1)) == []
    recipient = await uow.recipients.get(opened.case_id)
    assert recipient is not None
    assert recipient.customer_email is None


async def test_survey_invitation_goes_to_the_known_recipient_in_their_language(uow, clock):
    opened, _ = await acknowledge(uow, clock, language="es-MX")
    invited = survey_invited(opened)

    delivery = await usecases.invite_to_survey(uow, invited, render=fake_render, clock=clock)

    assert delivery is not None
    assert delivery.idempotency_key == f"survey_invitation:{invited.invitation_id}"
    assert delivery.recipient == "ana@example.com"
    assert delivery.subject == "[AT-2026-000123] ¿Cómo le atendimos?"
    assert "https://surveys.example/s/abc" in delivery.body_text
    assert "19 de marzo de 2026" in delivery.body_text
    assert len(uow.deliveries.rows) == 2


async def test_survey_invitation_for_an_unknown_case_is_refused_and_records_nothing(uow, clock):
    with pytest.raises(UnknownRecipient, match="AT-2026-000123"):
        await usecases.invite_to_survey(
            uow, survey_invited(case_opened()), render=fake_render, clock=clock
        )
    assert uow.deliveries.rows == {}


async def test_a_survey_about_no_case_of_ours_goes_to_the_customers_latest_address(uow, clock):
    opened, _ = await acknowledge(uow, clock)
    campaign = SurveyInvited(
        invitation_id=uuid.uuid4(),
        case_id=uuid.uuid4(),  # a periodic campaign's own id: notifications never saw it opened
        case_number="campaign-1a2b3c4d",
        customer_id=opened.customer_id,
        survey_url="https://surveys.example/s/xyz",
        expires_at=datetime(2026, 3, 19, 9, 0, tzinfo=UTC),
    )

    delivery = await usecases.invite_to_survey(uow, campaign, render=fake_render, clock=clock)

    assert delivery is not None
    assert delivery.recipient == "ana@example.com"
    assert delivery.case_id == campaign.case_id
    assert "https://surveys.example/s/xyz" in delivery.body_text


async def test_a_survey_for_a_customer_never_written_to_is_recorded_as_suppressed(uow, clock):
    sale = SurveyInvited(
        invitation_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        case_number="sale-1",
        customer_id=uuid.uuid4(),
        survey_url="https://surveys.example/s/xyz",
        expires_at=datetime(2026, 3, 19, 9, 0, tzinfo=UTC),
    )

    delivery = await usecases.invite_to_survey(uow, sale, render=fake_render, clock=clock)

    assert delivery is not None
    stored = uow.deliveries.stored(delivery.id)
    assert (stored.status, stored.reason) == (DeliveryStatus.SUPPRESSED, "no_address")


# --- dispatching -----------------------------------------------------------------------------


async def test_a_due_delivery_is_sent_recorded_and_announced(uow, clock, mailer):
    opened, delivery = await acknowledge(uow, clock)
    assert delivery is not None
    clock.advance(2)

    [attempt] = await dispatch(uow, mailer, clock)

    assert attempt.outcome is Outcome.SENT
    assert [d.id for d in mailer.sent] == [delivery.id]
    stored = uow.deliveries.stored(delivery.id)
    assert (stored.status, stored.attempts, stored.sent_at) == (DeliveryStatus.SENT, 1, clock.now)
    [event] = uow.emitted
    assert isinstance(event, NotificationSent)
    assert (event.delivery_id, event.case_id, event.sent_at) == (
        delivery.id,
        opened.case_id,
        clock.now,
    )
    assert uow.subjects == [opened.case_id]
    assert await dispatch(uow, mailer, clock) == []  # a sent delivery is not sent again


async def test_a_refused_attempt_is_retried_after_the_backoff_then_fails_after_the_last(
    uow, clock, mailer
):
    _, delivery = await acknowledge(uow, clock)
    assert delivery is not None
    mailer.refuse("SMTPConnectError: connection refused", times=3)

    [first] = await dispatch(uow, mailer, clock)
    assert first.outcome is Outcome.RETRY
    stored = uow.deliveries.stored(delivery.id)
    assert (stored.status, stored.attempts) == (DeliveryStatus.PENDING, 1)
    assert stored.last_error == "SMTPConnectError: connection refused"
    assert stored.next_attempt_at == clock.now + timedelta(seconds=30)
    assert await dispatch(uow, mailer, clock) == []  # not due before its retry time

    clock.advance(30)
    [second] = await dispatch(uow, mailer, clock)
    assert second.outcome is Outcome.RETRY
    assert uow.deliveries.stored(delivery.id).next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(60)
    [third] = await dispatch(uow, mailer, clock)
    assert third.outcome is Outcome.FAILED
    stored = uow.deliveries.stored(delivery.id)
    assert (stored.status, stored.attempts) == (DeliveryStatus.FAILED, 3)
    [event] = uow.emitted
    assert isinstance(event, NotificationFailed)
    assert (event.delivery_id, event.attempts, event.failed_at) == (delivery.id, 3, clock.now)
    assert event.error == "SMTPConnectError: connection refused"
    assert mailer.sent == []
    assert [d.id for d in mailer.attempts] == [delivery.id] * 3
    clock.advance(3600)
    assert await dispatch(uow, mailer, clock) == []  # nothing disappears, nothing repeats


async def test_a_permanent_refusal_fails_the_delivery_at_the_first_attempt(uow, clock, mailer):
    _, delivery = await acknowledge(uow, clock)
    assert delivery is not None
    mailer.refuse("recipient refused: ana@example.com: 550 no such user", permanent=True)

    [attempt] = await dispatch(uow, mailer, clock)

    assert attempt.outcome is Outcome.FAILED
    stored = uow.deliveries.stored(delivery.id)
    assert (stored.status, stored.attempts) == (DeliveryStatus.FAILED, 1)
    [event] = uow.emitted
    assert isinstance(event, NotificationFailed)
    assert event.attempts == 1
    assert "550" in event.error


async def test_a_round_claims_at_most_a_batch_and_the_rest_waits_for_the_next(uow, clock, mailer):
    for _ in range(3):
        await acknowledge(uow, clock)
    assert len(await dispatch(uow, mailer, clock, batch_size=2)) == 2
    assert len(await dispatch(uow, mailer, clock, batch_size=2)) == 1
    assert len(mailer.sent) == 3
    assert len({d.id for d in mailer.sent}) == 3


async def test_one_refusal_does_not_hold_back_the_rest_of_the_round(uow, clock, mailer):
    for _ in range(2):
        await acknowledge(uow, clock)
    mailer.refuse("timed out")

    attempts = await dispatch(uow, mailer, clock)

    assert sorted(a.outcome for a in attempts) == [Outcome.RETRY, Outcome.SENT]
    assert [type(e) for e in uow.emitted] == [NotificationSent]


# --- reading ---------------------------------------------------------------------------------


async def test_deliveries_are_listed_newest_first_and_filtered(uow, clock, mailer):
    first, _ = await acknowledge(uow, clock)
    clock.advance(1)
    second, _ = await acknowledge(uow, clock)
    await dispatch(uow, mailer, clock, batch_size=1)  # the older one is sent

    listed = await usecases.list_deliveries(uow)
    assert [d.case_id for d in listed] == [second.case_id, first.case_id]
    assert [d.case_id for d in await usecases.list_deliveries(uow, case_id=first.case_id)] == [
        first.case_id
    ]
    pending = await usecases.list_deliveries(uow, status=DeliveryStatus.PENDING)
    assert [d.case_id for d in pending] == [second.case_id]
    assert len(await usecases.list_deliveries(uow, limit=1)) == 1
