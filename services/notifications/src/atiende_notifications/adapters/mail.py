"""How a delivery becomes a MIME message, and how that message goes out over SMTP (aiosmtplib).
`render` renders a notice with the shipped templates only (no administrator's versions): the
use cases render with the template store.
"""

from __future__ import annotations

import email.errors
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from atiende_contracts import NotificationChannel

from ..domain import Body, Delivery, Notice, message_id
from ..domain.templating import TemplateKey, select
from ..domain.templating import render as render_template
from ..settings import NotificationsSettings
from ..usecases import SendFailure


def render(notice: Notice) -> Body:
    """The notice's shipped email template in its language and register."""
    key = TemplateKey(notice.template, NotificationChannel.EMAIL, notice.language, notice.register)
    _, text = select(key, {})
    rendered = render_template(
        text, notice.context, str(notice.language), emphasise=notice.recipient.case_number
    )
    return Body(text=rendered.text, html=rendered.html, subject=rendered.subject)


def build_message(delivery: Delivery, sender: str) -> EmailMessage:
    """A delivery as an email. The Message-ID and X-Atiende-Delivery come from the delivery id
    (itself derived from the idempotency key), so every resend of it is recognisably the same.

    Raises ValueError or email.errors.MessageError if the recipient address cannot be used.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(
        display_name=delivery.recipient_name or "", addr_spec=delivery.recipient
    )
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = message_id(delivery)
    if delivery.thread:
        # every email of a case answers its acknowledgement, so the customer's client threads
        # them and a reply to any of them finds the case in intake
        message["In-Reply-To"] = delivery.thread
        message["References"] = delivery.thread
    message["X-Atiende-Delivery"] = str(delivery.id)
    if delivery.case_number:
        message["X-Atiende-Case"] = delivery.case_number
    # No auto-replies ("out of office") back to a no-reply sender (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange/Outlook
    message.set_content(delivery.body_text)
    if delivery.body_html:
        message.add_alternative(delivery.body_html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpMailer:
    """The Mailer port over SMTP."""

    host: str
    port: int
    sender: str
    timeout: float
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    start_tls: bool | None = None  # None: use STARTTLS when the server offers it

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpMailer:
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            start_tls=settings.smtp_start_tls,
        )

    async def send(self, delivery: Delivery) -> None:
        """Hand the delivery's email to the SMTP server; raises SendFailure if not accepted."""
        try:
            message = build_message(delivery, self.sender)
        except (ValueError, email.errors.MessageError) as exc:
            error = f"unusable recipient {delivery.recipient!r}: {exc}"
            raise SendFailure(error, permanent=True) from exc
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                timeout=self.timeout,
                username=self.username,
                password=self.password,
                start_tls=self.start_tls,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusals = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise SendFailure(
                f"recipient refused: {refusals}",
                permanent=all(r.code >= 500 for r in exc.recipients),
            ) from exc
        except aiosmtplib.SMTPDataError as exc:
            error = f"message refused: {exc.code} {exc.message}"
            raise SendFailure(error, permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # connection refused or lost, timeouts, sender or authentication refused: the server
            # or our configuration may be fixed meanwhile, so these are retried
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc


__all__ = ["SendFailure", "SmtpMailer", "build_message", "message_id", "render"]
