"""The auto-reply and delivery-status classifiers on real-world shapes: which mail is no
customer's words, why, and what a bounce reports."""

from __future__ import annotations

import uuid

import pytest

from atiende_contracts import BounceKind
from atiende_intake.domain.feedback import FeedbackKind, read_feedback

from .. import mail_samples as samples

OURS = f"<{uuid.uuid4()}@atiende>"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (samples.exchange_out_of_office(OURS), "auto-submitted: auto-generated"),
        (samples.exchange_oof_without_auto_submitted(OURS), "x-auto-response-suppress: all"),
        (samples.gmail_vacation(OURS), "auto-submitted: auto-replied"),
        (samples.x_autorespond(OURS), "x-autorespond: hemos recibido su mensaje"),
        (samples.precedence_junk(OURS), "precedence: junk"),
    ],
    ids=["exchange-oof", "old-exchange-oof", "gmail-vacation", "x-autorespond", "precedence"],
)
def test_auto_replies_are_recognised_by_their_headers_and_name_what_they_answer(raw, reason):
    feedback = read_feedback(raw)

    assert feedback is not None
    assert feedback.kind is FeedbackKind.AUTO_REPLY
    assert feedback.reason == reason
    assert feedback.answers[0] == OURS
    assert feedback.bounce is None


def test_a_person_writing_auto_submitted_no_is_a_customer():
    assert read_feedback(samples.customer_reply(OURS)) is None


def test_a_message_from_the_null_sender_is_never_a_customer_even_without_headers():
    raw = samples.customer_reply(OURS)
    feedback = read_feedback(raw, null_sender=True)
    assert feedback is not None
    assert (feedback.kind, feedback.reason) == (FeedbackKind.AUTO_REPLY, "null sender")


def test_a_postfix_dsn_is_a_hard_bounce_of_the_returned_message():
    feedback = read_feedback(samples.postfix_dsn(OURS, "nadie@example.com"))

    assert feedback is not None
    assert feedback.kind is FeedbackKind.BOUNCE
    assert feedback.bounce is not None
    assert feedback.bounce.original_message_id == OURS
    [bounced] = feedback.bounce.recipients
    assert bounced.recipient == "nadie@example.com"
    assert bounced.kind is BounceKind.HARD
    assert bounced.status_code == "5.1.1"
    assert bounced.diagnostic is not None
    assert "User unknown" in bounced.diagnostic
    assert feedback.sender == "mailer-daemon@mx.atiende.example"


def test_an_exim_dsn_returns_the_whole_message_and_is_read_the_same():
    feedback = read_feedback(samples.exim_dsn(OURS, "ana@gone.example"))

    assert feedback is not None
    assert feedback.bounce is not None
    assert feedback.bounce.original_message_id == OURS
    [bounced] = feedback.bounce.recipients
    assert (bounced.recipient, bounced.kind, bounced.status_code) == (
        "ana@gone.example",
        BounceKind.HARD,
        "5.0.0",
    )
    assert bounced.diagnostic == "550 5.1.1 No such user here"


def test_a_full_mailbox_is_a_soft_bounce():
    feedback = read_feedback(samples.mailbox_full_dsn(OURS, "luis@full.example"))

    assert feedback is not None
    assert feedback.bounce is not None
    [bounced] = feedback.bounce.recipients
    assert (bounced.kind, bounced.status_code) == (BounceKind.SOFT, "4.2.2")
    assert feedback.answers[0] == OURS


def test_a_report_without_status_falls_back_on_the_diagnostic_then_the_action():
    raw = samples.mailbox_full_dsn(OURS).replace(b"Status: 4.2.2\r\n", b"")
    [bounced] = read_feedback(raw).bounce.recipients  # type: ignore[union-attr]
    assert (bounced.kind, bounced.status_code) == (BounceKind.SOFT, "4.2.2")

    raw = raw.replace(b"Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n", b"")
    raw = raw.replace(b"Action: delayed", b"Action: failed")
    [bounced] = read_feedback(raw).bounce.recipients  # type: ignore[union-attr]
    assert (bounced.kind, bounced.status_code) == (BounceKind.HARD, None)


def test_a_delivered_recipient_in_a_report_is_not_a_bounce():
    raw = samples.postfix_dsn(OURS).replace(b"Action: failed", b"Action: delivered")
    feedback = read_feedback(raw)
    assert feedback is not None
    assert feedback.bounce is not None
    assert feedback.bounce.recipients == ()
