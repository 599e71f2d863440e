"""What notifications decides, with no I/O: which email a customer gets and in which language,
its subject and idempotency key, when a failed attempt is retried, and a delivery's life
(pending -> sent | failed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from atiende_contracts import NotificationChannel, NotificationFailed, NotificationSent

SUPPORTED_LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"

DELIVERY_ID_NAMESPACE = uuid.UUID("6b1f3c52-9a4e-5d0b-8c7e-2f5a9d13e4b7")
"""uuid5 namespace of delivery ids: the same idempotency key always names the same delivery."""


class Template(StrEnum):
    CASE_ACKNOWLEDGEMENT = "case_acknowledgement"
    SURVEY_INVITATION = "survey_invitation"


SUBJECTS: dict[tuple[Template, str], str] = {
    (Template.CASE_ACKNOWLEDGEMENT, "es"): "Hemos recibido su caso",
    (Template.CASE_ACKNOWLEDGEMENT, "en"): "We have received your case",
    (Template.SURVEY_INVITATION, "es"): "¿Cómo le atendimos?",
    (Template.SURVEY_INVITATION, "en"): "How did we do?",
}

_MONTHS = {
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def choose_language(tag: str | None) -> str:
    """The language to write in: the primary subtag of a BCP 47 tag we have templates for
    ("en-GB" -> "en"), else Spanish."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def subject_for(template: Template, language: str, case_number: str) -> str:
    """Subjects lead with the case number, so the customer can find and quote it."""
    return f"[{case_number}] {SUBJECTS[(template, language)]}"


def format_date(value: datetime, language: str) -> str:
    """A date as people write it: "12 de marzo de 2026", "12 March 2026"."""
    month = _MONTHS[language][value.month - 1]
    if language == "es":
        return f"{value.day} de {month} de {value.year}"
    return f"{value.day} {month} {value.year}"


def idempotency_key(template: Template, about: uuid.UUID) -> str:
    """One email of a template per thing it is about (a case, a survey invitation), whatever
    event ids the producer used: a re-emitted event must not write to the customer twice."""
    return f"{template.value}:{about}"


def delivery_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(DELIVERY_ID_NAMESPACE, key)


@dataclass(frozen=True)
class Recipient:
    """Notifications' own copy of whom a case's emails go to, learnt from case.opened."""

    case_id: uuid.UUID
    case_number: str
    customer_name: str
    customer_email: str | None
    language: str


@dataclass(frozen=True)
class Notice:
    """A decided email, before rendering: the template, its language, and what it says."""

    template: Template
    language: str
    key: str
    recipient: Recipient
    subject: str
    context: dict[str, Any]


def acknowledgement(recipient: Recipient) -> Notice:
    template = Template.CASE_ACKNOWLEDGEMENT
    return Notice(
        template=template,
        language=recipient.language,
        key=idempotency_key(template, recipient.case_id),
        recipient=recipient,
        subject=subject_for(template, recipient.language, recipient.case_number),
        context={"customer_name": recipient.customer_name, "case_number": recipient.case_number},
    )


def survey_invitation(
    recipient: Recipient, invitation_id: uuid.UUID, survey_url: str, expires_at: datetime
) -> Notice:
    template = Template.SURVEY_INVITATION
    return Notice(
        template=template,
        language=recipient.language,
        key=idempotency_key(template, invitation_id),
        recipient=recipient,
        subject=subject_for(template, recipient.language, recipient.case_number),
        context={
            "customer_name": recipient.customer_name,
            "case_number": recipient.case_number,
            "survey_url": survey_url,
            "expires_on": format_date(expires_at, recipient.language),
        },
    )


# --- retries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay: timedelta
    max_delay: timedelta

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff: base, 2*base, 4*base... after the 1st, 2nd, 3rd failed attempt,
        capped at max_delay."""
        if attempts < 1:
            raise ValueError("a delay follows at least one attempt")
        return min(self.base_delay * (1 << (attempts - 1)), self.max_delay)


# --- deliveries -----------------------------------------------------------------------------


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DeliveryStateError(Exception):
    """A transition a delivery's current status does not allow."""


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    idempotency_key: str
    case_id: uuid.UUID | None
    case_number: str | None
    template: Template
    channel: NotificationChannel
    recipient: str
    recipient_name: str | None
    subject: str
    body_text: str
    body_html: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None

    @classmethod
    def pending(
        cls, notice: Notice, body_text: str, body_html: str | None, at: datetime
    ) -> Delivery:
        if notice.recipient.customer_email is None:
            raise ValueError(f"case {notice.recipient.case_number} has no email address")
        return cls(
            id=delivery_id_for(notice.key),
            idempotency_key=notice.key,
            case_id=notice.recipient.case_id,
            case_number=notice.recipient.case_number,
            template=notice.template,
            channel=NotificationChannel.EMAIL,
            recipient=notice.recipient.customer_email,
            recipient_name=notice.recipient.customer_name,
            subject=notice.subject,
            body_text=body_text,
            body_html=body_html,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )

    def _require_pending(self) -> None:
        if self.status is not DeliveryStatus.PENDING:
            raise DeliveryStateError(f"delivery {self.id} is {self.status}, not pending")

    def mark_sent(self, at: datetime) -> tuple[Delivery, NotificationSent]:
        self._require_pending()
        sent = replace(
            self,
            status=DeliveryStatus.SENT,
            attempts=self.attempts + 1,
            sent_at=at,
            last_error=None,
        )
        return sent, NotificationSent(
            delivery_id=self.id,
            case_id=self.case_id,
            template=self.template.value,
            channel=self.channel,
            recipient=self.recipient,
            sent_at=at,
        )

    def record_failure(
        self, error: str, at: datetime, policy: RetryPolicy, *, permanent: bool = False
    ) -> tuple[Delivery, NotificationFailed | None]:
        """Count a failed attempt: retry later with backoff, or give up (after the last attempt,
        or at once when the receiving server refused the message for good) and say so."""
        self._require_pending()
        attempts = self.attempts + 1
        if permanent or attempts >= policy.max_attempts:
            failed = replace(
                self, status=DeliveryStatus.FAILED, attempts=attempts, last_error=error
            )
            return failed, NotificationFailed(
                delivery_id=self.id,
                case_id=self.case_id,
                template=self.template.value,
                channel=self.channel,
                attempts=attempts,
                error=error,
                failed_at=at,
            )
        retry_at = at + policy.delay_after(attempts)
        return replace(self, attempts=attempts, last_error=error, next_attempt_at=retry_at), None
