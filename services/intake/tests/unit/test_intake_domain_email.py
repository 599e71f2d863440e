"""Reading customer emails: sender, case number, the text without quoted history, attachments."""

import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from atiende_contracts import Channel, ContactKind, Direction
from atiende_intake.domain.contacts import TEXT_MAX_LENGTH
from atiende_intake.domain.email import (
    MAX_ATTACHMENTS,
    UnusableEmail,
    html_to_text,
    latest_reply,
    parse_email,
)

PLAIN = b"""From: Marta Lopez <Marta.Lopez@Example.com>
To: atencion@atiende.example
Subject: Mi pedido no ha llegado
Date: Mon, 24 Nov 2026 10:00:00 +0100
Message-ID: <plain-1@example.com>
Content-Type: text/plain; charset=utf-8

Hice el pedido 4471 hace dos semanas y no ha llegado.
"""

HTML_ONLY = b"""From: ana@example.com
Subject: Factura
Message-ID: <html-1@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style><title>x</title></head>
<body><p>Me han cobrado <b>dos veces</b>
  la factura de noviembre.</p><p>Un saludo,<br>Ana</p>
<script>alert(1)</script></body></html>
"""

GMAIL_SPANISH_REPLY = """From: Marta <marta@example.com>
Subject: Re: [AT-2026-000123] Hemos recibido su caso
Message-ID: <CAF-reply-1@mail.gmail.com>
In-Reply-To: <0b0e8a34-1b2c-4d5e-8f90-123456789abc@atiende>
References: <0b0e8a34-1b2c-4d5e-8f90-123456789abc@atiende>
Content-Type: text/plain; charset=utf-8

Sigo sin recibir el pedido. ¿Pueden decirme algo hoy?

El lun, 24 nov 2026 a las 10:00, Atiende <atiende@example.com> escribió:

> Estimada Marta:
>
> Hemos recibido su caso y le hemos asignado el número AT-2026-000123.
""".encode()

OUTLOOK_REPLY = b"""From: John Smith <john@example.com>
Subject: RE: [AT-2026-000042] We have received your case
Message-ID: <DB9PR-outlook-1@eurprd.prod.outlook.com>
Content-Type: text/plain; charset=us-ascii

The parcel still has not arrived.

________________________________
From: Atiende <atiende@example.com>
Sent: Monday, November 24, 2026 10:00 AM
To: John Smith <john@example.com>
Subject: [AT-2026-000042] We have received your case

Dear John Smith,
We have received your case.
"""


def multipart_with_attachments(count: int = 2) -> bytes:
    message = EmailMessage()
    message["From"] = '"Pedro Ruiz" <pedro@example.com>'
    message["To"] = "atencion@atiende.example"
    message["Subject"] = "Producto defectuoso"
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Adjunto fotos del producto roto.")
    message.add_alternative("<p>Adjunto <i>fotos</i> del producto roto.</p>", subtype="html")
    for n in range(count):
        message.add_attachment(
            b"\x89PNG" + bytes(1000 + n),
            maintype="image",
            subtype="png",
            filename=f"foto {n}.png",
        )
    return message.as_bytes()


def test_a_plain_email_gives_sender_name_subject_text_and_message_id():
    email = parse_email(PLAIN)
    assert email.sender == "marta.lopez@example.com"
    assert email.sender_name == "Marta Lopez"
    assert email.subject == "Mi pedido no ha llegado"
    assert email.text == (
        "Mi pedido no ha llegado\n\nHice el pedido 4471 hace dos semanas y no ha llegado."
    )
    assert email.message_id == "<plain-1@example.com>"
    assert email.case_numbers == ()
    assert email.replied_deliveries == ()
    assert email.attachments == ()


def test_an_html_only_email_is_read_as_text_without_markup_styles_or_scripts():
    email = parse_email(HTML_ONLY)
    assert email.sender == "ana@example.com"
    assert email.sender_name is None
    assert email.text == (
        "Factura\n\nMe han cobrado dos veces la factura de noviembre.\n\nUn saludo,\nAna"
    )


def test_multipart_alternative_prefers_plain_text_and_records_attachments():
    email = parse_email(multipart_with_attachments())
    assert email.sender_name == "Pedro Ruiz"
    assert email.text == "Producto defectuoso\n\nAdjunto fotos del producto roto."
    assert [(a.name, a.size, a.content_type) for a in email.attachments] == [
        ("foto 0.png", 1004, "image/png"),
        ("foto 1.png", 1005, "image/png"),
    ]


def test_only_the_first_attachments_are_recorded_and_the_text_says_how_many_there_were():
    email = parse_email(multipart_with_attachments(MAX_ATTACHMENTS + 2))
    assert len(email.attachments) == MAX_ATTACHMENTS
    assert email.attachments[-1].name == f"foto {MAX_ATTACHMENTS - 1}.png"
    assert email.text.endswith(
        f"[{MAX_ATTACHMENTS + 2} attachments; only the first 50 are recorded]"
    )


def test_a_spanish_gmail_reply_keeps_only_what_the_customer_wrote():
    email = parse_email(GMAIL_SPANISH_REPLY)
    assert email.text == (
        "Re: [AT-2026-000123] Hemos recibido su caso\n\n"
        "Sigo sin recibir el pedido. ¿Pueden decirme algo hoy?"
    )
    assert email.case_numbers == ("AT-2026-000123",)
    assert email.replied_deliveries == (uuid.UUID("0b0e8a34-1b2c-4d5e-8f90-123456789abc"),)


def test_an_outlook_reply_loses_the_original_message_below_the_separator():
    email = parse_email(OUTLOOK_REPLY)
    assert email.text == (
        "RE: [AT-2026-000042] We have received your case\n\nThe parcel still has not arrived."
    )
    assert email.case_numbers == ("AT-2026-000042",)


def test_gmails_attribution_line_wrapped_over_two_lines_is_cut_too():
    text = (
        "Gracias, espero noticias.\n\n"
        "El lun, 24 nov 2026 a las 10:00, Atiende Servicio al Cliente (<\n"
        "atiende@example.com>) escribió:\n\n> Estimada Marta:\n"
    )
    assert latest_reply(text) == "Gracias, espero noticias."


def test_a_sentence_ending_in_escribio_without_a_date_is_the_customers_text():
    text = "El técnico me escribió:\nque vendría el martes, y no vino."
    assert latest_reply(text) == "El técnico me escribió:\nque vendría el martes, y no vino."


def test_a_message_that_is_only_a_quote_is_kept_whole():
    assert latest_reply("> Estimada Marta:\n> Hemos recibido su caso.") == (
        "> Estimada Marta:\n> Hemos recibido su caso."
    )


def test_html_quotes_from_gmail_and_blockquotes_are_dropped():
    html = (
        '<div dir="ltr">Sigue sin llegar.</div><div class="gmail_quote">'
        "<div>El lun, 24 nov 2026 escribió:</div><blockquote>Estimada Marta</blockquote></div>"
    )
    assert html_to_text(html) == "Sigue sin llegar."


def test_the_case_number_comes_from_the_header_when_the_subject_has_none():
    raw = PLAIN.replace(b"Message-ID:", b"X-Atiende-Case: AT-2026-000777\nMessage-ID:")
    assert parse_email(raw).case_numbers == ("AT-2026-000777",)


def test_a_malformed_case_header_is_ignored():
    raw = PLAIN.replace(b"Message-ID:", b"X-Atiende-Case: 777; drop table\nMessage-ID:")
    assert parse_email(raw).case_numbers == ()


def test_a_message_without_message_id_is_known_by_its_digest():
    raw = PLAIN.replace(b"Message-ID: <plain-1@example.com>\n", b"")
    first, again = parse_email(raw), parse_email(raw)
    assert first.message_id.startswith("sha256:")
    assert first.message_id == again.message_id


def test_a_long_email_is_cut_to_the_contact_limit_with_a_note():
    raw = PLAIN.replace(b"Hice el pedido", b"x" * 20_000 + b" Hice el pedido")
    email = parse_email(raw)
    assert len(email.text) == TEXT_MAX_LENGTH
    assert email.text.endswith("characters]")
    assert "text cut: the email had 20" in email.text


@pytest.mark.parametrize(
    "raw",
    [
        PLAIN.replace(b"From: Marta Lopez <Marta.Lopez@Example.com>\n", b""),
        PLAIN.replace(b"<Marta.Lopez@Example.com>", b"<not-an-address>"),
        b"",
        b"   \r\n",
    ],
    ids=["no From", "invalid From", "empty", "blank"],
)
def test_a_message_nobody_can_be_answered_at_is_rejected(raw):
    with pytest.raises(UnusableEmail):
        parse_email(raw)


def test_the_email_becomes_an_inbound_email_contact_at_the_email_touchpoint():
    email = parse_email(multipart_with_attachments(1))
    contact = email.contact(kind=ContactKind.CLAIM, case_number="AT-2026-000001")
    assert contact.channel is Channel.EMAIL
    assert contact.direction is Direction.INBOUND
    assert contact.kind is ContactKind.CLAIM
    assert contact.touchpoint == "EMAIL"
    assert contact.motive is None
    assert contact.case_number == "AT-2026-000001"
    assert contact.customer.email == "pedro@example.com"
    assert contact.customer.name == "Pedro Ruiz"
    assert contact.external_ref == email.message_id
    assert [a.name for a in contact.attachments] == ["foto 0.png"]
