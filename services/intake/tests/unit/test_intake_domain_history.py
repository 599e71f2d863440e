"""What other services said about a case becomes a line of the customer's history, unless it was
not said to the customer (a staff notice, a webhook to an integration)."""

import uuid
from datetime import UTC, datetime

import pytest

from atiende_contracts import Audience, NotificationChannel, NotificationSent
from atiende_intake.domain.history import case_fact, to_the_customer

CASE = uuid.uuid4()


def sent(
    template: str, channel: NotificationChannel, audience: Audience | None = Audience.CUSTOMER
) -> NotificationSent:
    return NotificationSent(
        delivery_id=uuid.uuid4(),
        case_id=CASE,
        template=template,
        channel=channel,
        recipient="someone@example.com",
        sent_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        audience=audience,
    )


def test_an_acknowledgement_email_is_history() -> None:
    event = sent("case_acknowledgement", NotificationChannel.EMAIL)
    assert to_the_customer(event)
    fact = case_fact(uuid.uuid4(), event)
    assert fact is not None
    assert fact.case_id == CASE
    assert "case_acknowledgement" in fact.summary


def test_an_event_from_before_audience_existed_was_to_the_customer() -> None:
    assert to_the_customer(sent("survey_invitation", NotificationChannel.EMAIL, None))


@pytest.mark.parametrize(
    ("template", "channel", "audience"),
    [
        ("staff_case_assigned", NotificationChannel.EMAIL, Audience.STAFF),
        ("staff_sla_breached", NotificationChannel.SMS, Audience.STAFF),
        ("case.assigned", NotificationChannel.WEBHOOK, Audience.INTEGRATION),
    ],
)
def test_staff_notices_and_webhooks_are_not_the_customers_history(
    template: str, channel: NotificationChannel, audience: Audience
) -> None:
    event = sent(template, channel, audience)
    assert not to_the_customer(event)
    assert case_fact(uuid.uuid4(), event) is None
