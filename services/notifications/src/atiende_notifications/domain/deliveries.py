"""A delivery's life (pending -> sent | failed, a retry staying pending) and when a failed
attempt is tried again."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from atiende_contracts import NotificationChannel, NotificationFailed, NotificationSent

from .errors import DeliveryStateError
from .notices import Notice, Template

DELIVERY_ID_NAMESPACE = uuid.UUID("6b1f3c52-9a4e-5d0b-8c7e-2f5a9d13e4b7")
"""uuid5 namespace of delivery ids: the same idempotency key always names the same delivery."""


def delivery_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(DELIVERY_ID_NAMESPACE, key)


def message_id(delivery: Delivery) -> str:
    """The email's Message-ID, from the delivery id (itself derived from the idempotency key), so
    every resend of a delivery is recognisably the same email."""
    return f"<{delivery.id}@atiende>"


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


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


TRANSITIONS: Mapping[DeliveryStatus, frozenset[DeliveryStatus]] = {
    # pending -> pending: a failed attempt that will be retried
    DeliveryStatus.PENDING: frozenset(
        {DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED}
    ),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.FAILED: frozenset(),
}
"""Where each status may go next: only a pending delivery is attempted."""


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

    def _require(self, status: DeliveryStatus) -> None:
        if status not in TRANSITIONS[self.status]:
            raise DeliveryStateError(f"delivery {self.id} is {self.status}, not pending")

    def mark_sent(self, at: datetime) -> tuple[Delivery, NotificationSent]:
        self._require(DeliveryStatus.SENT)
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
        """Count a failed attempt: retry later with backoff (staying pending, no event), or give
        up (after the last attempt, or at once when the receiving server refused the message for
        good) and say so."""
        attempts = self.attempts + 1
        if permanent or attempts >= policy.max_attempts:
            self._require(DeliveryStatus.FAILED)
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
        self._require(DeliveryStatus.PENDING)
        retry_at = at + policy.delay_after(attempts)
        return replace(self, attempts=attempts, last_error=error, next_attempt_at=retry_at), None
