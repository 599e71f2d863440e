import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import Audience, NotificationChannel
from atiende_notifications.domain import (
    TRANSITIONS,
    Delivery,
    DeliveryStateError,
    DeliveryStatus,
    Recipient,
    RetryPolicy,
    Template,
    acknowledgement,
    delivery_id_for,
    format_date,
    idempotency_key,
    subject_for,
    survey_invitation,
)
from atiende_runtime.languages import choose_language

NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=3, base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5)
)


def recipient(language: str = "es") -> Recipient:
    return Recipient(
        case_id=uuid.uuid4(),
        case_number="AT-2026-000123",
        customer_name="Ana Pérez",
        customer_email="ana@example.com",
        language=language,
    )


def pending_delivery() -> Delivery:
    return Delivery.pending(acknowledgement(recipient()), "text", "<p>html</p>", NOW)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("es", "es"),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("es-MX", "es"),
        ("fr", "es"),
        ("", "es"),
        (None, "es"),
    ],
)
def test_language_is_the_primary_subtag_we_have_templates_for_else_spanish(tag, language):
    assert choose_language(tag) == language


def test_subject_leads_with_the_case_number_in_the_customers_language():
    assert subject_for(Template.CASE_ACKNOWLEDGEMENT, "es", "AT-2026-000123") == (
        "[AT-2026-000123] Hemos recibido su caso"
    )
    assert subject_for(Template.CASE_ACKNOWLEDGEMENT, "en", "AT-2026-000123") == (
        "[AT-2026-000123] We have received your case"
    )
    assert subject_for(Template.SURVEY_INVITATION, "en", "AT-2026-000123").startswith(
        "[AT-2026-000123] "
    )


def test_dates_read_naturally_in_each_language():
    assert format_date(NOW, "es") == "12 de marzo de 2026"
    assert format_date(NOW, "en") == "12 March 2026"


def test_acknowledgement_is_keyed_by_the_case_so_a_reemitted_event_is_not_a_second_email():
    to = recipient("en")
    first, again = acknowledgement(to), acknowledgement(to)
    assert first.key == again.key == f"case_acknowledgement:{to.case_id}"
    assert first.template is Template.CASE_ACKNOWLEDGEMENT
    assert first.language == "en"
    assert "AT-2026-000123" in first.subject
    assert first.context == {"customer_name": "Ana Pérez", "case_number": "AT-2026-000123"}


def test_survey_invitation_is_keyed_by_the_invitation_and_carries_the_link_and_expiry():
    to = recipient()
    invitation_id = uuid.uuid4()
    notice = survey_invitation(to, invitation_id, "https://s.example/x?t=1", NOW)
    assert notice.key == f"survey_invitation:{invitation_id}"
    assert notice.context["survey_url"] == "https://s.example/x?t=1"
    assert notice.context["expires_on"] == "12 de marzo de 2026"
    assert survey_invitation(to, uuid.uuid4(), "u", NOW).key != notice.key


def test_keys_differ_by_template_and_delivery_ids_follow_the_key():
    about = uuid.uuid4()
    ack = idempotency_key(Template.CASE_ACKNOWLEDGEMENT, about)
    survey = idempotency_key(Template.SURVEY_INVITATION, about)
    assert ack != survey
    assert delivery_id_for(ack) == delivery_id_for(ack)
    assert delivery_id_for(ack) != delivery_id_for(survey)


def test_backoff_doubles_from_the_base_delay_up_to_the_cap():
    assert [POLICY.delay_after(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 300]
    with pytest.raises(ValueError, match="at least one attempt"):
        POLICY.delay_after(0)


def test_a_new_delivery_is_pending_due_now_and_named_after_its_key():
    notice = acknowledgement(recipient())
    delivery = Delivery.pending(notice, "text", None, NOW)
    assert delivery.id == delivery_id_for(notice.key)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.channel is NotificationChannel.EMAIL
    assert delivery.recipient == "ana@example.com"
    assert (delivery.attempts, delivery.next_attempt_at) == (0, NOW)


def test_a_sent_delivery_counts_the_attempt_and_announces_notification_sent():
    delivery = pending_delivery()
    later = NOW + timedelta(seconds=2)
    sent, event = delivery.mark_sent(later)
    assert (sent.status, sent.attempts, sent.sent_at) == (DeliveryStatus.SENT, 1, later)
    assert event.delivery_id == delivery.id
    assert event.case_id == delivery.case_id
    assert event.template == "case_acknowledgement"
    assert event.recipient == "ana@example.com"
    assert event.audience is Audience.CUSTOMER


def test_a_staff_notice_and_a_webhook_say_whom_they_were_for():
    delivery = pending_delivery()
    staff = replace(delivery, template=Template.STAFF_CASE_ASSIGNED)
    hook = replace(delivery, channel=NotificationChannel.WEBHOOK)
    assert staff.mark_sent(NOW)[1].audience is Audience.STAFF
    assert hook.mark_sent(NOW)[1].audience is Audience.INTEGRATION


def test_a_failed_attempt_is_retried_with_backoff_until_the_last_attempt():
    delivery = pending_delivery()
    first, event = delivery.record_failure("connection refused", NOW, POLICY)
    assert event is None
    assert (first.status, first.attempts, first.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "connection refused",
    )
    assert first.next_attempt_at == NOW + timedelta(seconds=30)

    second, event = first.record_failure("connection refused", NOW, POLICY)
    assert event is None
    assert second.next_attempt_at == NOW + timedelta(seconds=60)

    failed, event = second.record_failure("timed out", NOW, POLICY)
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.FAILED,
        3,
        "timed out",
    )
    assert event is not None
    assert (event.attempts, event.error, event.failed_at) == (3, "timed out", NOW)


def test_a_permanent_refusal_fails_the_delivery_at_once():
    failed, event = pending_delivery().record_failure(
        "550 no such user", NOW, POLICY, permanent=True
    )
    assert failed.status is DeliveryStatus.FAILED
    assert event is not None
    assert event.attempts == 1


def test_only_a_pending_delivery_can_be_attempted():
    sent, _ = pending_delivery().mark_sent(NOW)
    failed, _ = pending_delivery().record_failure("x", NOW, POLICY, permanent=True)
    for finished in (sent, failed):
        with pytest.raises(DeliveryStateError):
            finished.mark_sent(NOW)
        with pytest.raises(DeliveryStateError):
            finished.record_failure("x", NOW, POLICY)


def test_only_pending_moves_and_a_retry_stays_pending():
    assert TRANSITIONS[DeliveryStatus.PENDING] == {
        DeliveryStatus.PENDING,
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
    }
    assert TRANSITIONS[DeliveryStatus.SENT] == frozenset()
    assert TRANSITIONS[DeliveryStatus.FAILED] == frozenset()
