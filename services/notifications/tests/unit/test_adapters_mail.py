"""The templates shipped in the package and the emails built from them (no SMTP here)."""

import uuid
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import pytest

from atiende_notifications.adapters.mail import build_message, render
from atiende_notifications.domain import (
    Delivery,
    Recipient,
    acknowledgement,
    survey_invitation,
)
from atiende_runtime.languages import LANGUAGE_CODES

NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
SURVEY_URL = "https://surveys.example/s/abc?token=x&y=1"


def recipient(language: str, name: str = "Ana Pérez") -> Recipient:
    return Recipient(uuid.uuid4(), "AT-2026-000123", name, "ana@example.com", language)


def notices(language: str, name: str = "Ana Pérez"):
    to = recipient(language, name)
    return [acknowledgement(to), survey_invitation(to, uuid.uuid4(), SURVEY_URL, NOW)]


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_every_template_renders_in_every_language_with_the_case_number(language):
    for notice in notices(language):
        body = render(notice)
        assert "AT-2026-000123" in body.text
        assert "AT-2026-000123" in body.html
        assert "Ana Pérez" in body.text
        assert f'<html lang="{language}">' in body.html


def test_survey_invitation_links_the_survey_and_says_answering_is_optional():
    for language, optional in (("es", "opcional"), ("en", "optional")):
        body = render(notices(language)[1])
        assert SURVEY_URL in body.text
        assert 'href="https://surveys.example/s/abc?token=x&amp;y=1"' in body.html
        assert optional in body.text


def test_spanish_is_formal_and_english_is_english():
    ack_es = render(notices("es")[0]).text
    ack_en = render(notices("en")[0]).text
    assert "Hemos recibido su caso" in ack_es
    assert "usted" in ack_es
    assert "We have received your case" in ack_en


def test_customer_text_is_escaped_in_html_but_not_in_plain_text():
    body = render(notices("es", name="<b>Ana</b>")[0])
    assert "&lt;b&gt;Ana&lt;/b&gt;" in body.html
    assert "<b>Ana</b>" not in body.html
    assert "<b>Ana</b>" in body.text


def test_an_email_carries_its_idempotency_headers_and_both_bodies():
    notice = notices("es")[0]
    body = render(notice)
    delivery = Delivery.pending(notice, body.text, body.html, NOW)

    message = build_message(delivery, "Atiende <no-reply@atiende.local>")

    assert message["Message-ID"] == f"<{delivery.id}@atiende>"
    assert message["X-Atiende-Delivery"] == str(delivery.id)
    assert message["X-Atiende-Case"] == "AT-2026-000123"
    assert message["Subject"] == "[AT-2026-000123] Hemos recibido su caso"
    assert parseaddr(str(message["To"])) == ("Ana Pérez", "ana@example.com")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "AT-2026-000123" in text.get_content()
    assert "<strong>AT-2026-000123</strong>" in html.get_content()


def test_an_unusable_address_is_refused_when_building_the_email():
    notice = notices("es")[0]
    delivery = Delivery.pending(notice, "text", None, NOW)
    broken = Delivery(**{**delivery.__dict__, "recipient": "not an address"})
    with pytest.raises(ValueError):
        build_message(broken, "Atiende <no-reply@atiende.local>")


def plain_message(delivery: Delivery, sender: str) -> EmailMessage:
    """The email as EmailMessage makes it with the standard policy and every header given as
    text: what build_message did before its header handling was made cheaper."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(
        display_name=delivery.recipient_name or "", addr_spec=delivery.recipient
    )
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = f"<{delivery.id}@atiende>"
    if delivery.thread:
        message["In-Reply-To"] = delivery.thread
        message["References"] = delivery.thread
    message["X-Atiende-Delivery"] = str(delivery.id)
    if delivery.case_number:
        message["X-Atiende-Case"] = delivery.case_number
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(delivery.body_text)
    if delivery.body_html:
        message.add_alternative(delivery.body_html, subtype="html")
    return message


def test_the_email_on_the_wire_is_what_the_standard_policy_makes():
    """build_message's cheaper header handling (classes made once, constant headers parsed and
    folded once) changes nothing on the wire: byte for byte what EmailMessage with the standard
    policy and text headers gives, for names and subjects that need RFC 2047 encoding and
    folding too."""
    from dataclasses import replace

    from aiosmtplib.email import flatten_message

    from atiende_notifications.adapters.mail import constant_header

    sender = "Atiende Atención <no-reply@atiende.local>"
    names = ["Ana Pérez", "O'Brien, Juan", 'José "Pepe" Núñez', "", "Li Wei 李伟", "Ñ" * 80]
    subjects = [
        "[AT-2026-000123] Hemos recibido su caso",
        "Asunto largo con acentos áéíóú que hay que plegar en varias líneas, ¿verdad? " * 2,
        "an ASCII subject long enough to need folding because it goes past seventy-eight chars",
    ]
    for i, (name, subject) in enumerate((n, s) for n in names for s in subjects):
        notice = notices("es", name=name)[i % 2]
        body = render(notice)
        delivery = replace(
            Delivery.pending(notice, body.text, body.html if i % 3 else None, NOW),
            subject=subject,
            thread="<root@atiende>" if i % 2 else None,
        )
        wires = []
        for message in (
            build_message(delivery, constant_header("From", sender)),
            plain_message(delivery, sender),
        ):
            if message.is_multipart():
                message.set_boundary("===boundary===")
            for utf8, cte in ((False, "8bit"), (False, "7bit"), (True, "8bit")):
                wires.append(flatten_message(message, utf8=utf8, cte_type=cte))
        assert wires[:3] == wires[3:], (name, subject)
