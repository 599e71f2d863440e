"""A delivery's life (pending -> sent | failed, a retry staying pending) and when a failed
attempt is tried again."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from atiende_contracts import (
    Audience,
    Formality,
    NotificationChannel,
    NotificationDeferred,
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
)

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


class Backoff(Protocol):
    @property
    def max_attempts(self) -> int: ...

    def delay_after(self, attempts: int) -> timedelta: ...


WEBHOOK_SCHEDULE: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s)
    for s in (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 86400)
)
"""Standard Webhooks' schedule: the n-th attempt waits this long after the previous one
(about three days in all)."""


@dataclass(frozen=True)
class RetrySchedule:
    """Attempts at fixed delays with +-`jitter` (a fraction), so that many deliveries failing
    together do not all come back at the same second. `delays[0]` is the first attempt's."""

    delays: tuple[timedelta, ...] = WEBHOOK_SCHEDULE
    jitter: float = 0.1
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    def delay_after(self, attempts: int) -> timedelta:
        if attempts < 1:
            raise ValueError("a delay follows at least one attempt")
        base = self.delays[min(attempts, len(self.delays) - 1)]
        return base * (1 + self.rng.uniform(-self.jitter, self.jitter))

    @classmethod
    def of_seconds(cls, seconds: Sequence[float], jitter: float = 0.1) -> RetrySchedule:
        return cls(tuple(timedelta(seconds=s) for s in seconds), jitter)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    """Never attempted: an opt-out, no address on an allowed channel... (`reason` says which)."""


TRANSITIONS: Mapping[DeliveryStatus, frozenset[DeliveryStatus]] = {
    # pending -> pending: a failed attempt that will be retried
    DeliveryStatus.PENDING: frozenset(
        {DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED}
    ),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.FAILED: frozenset(),
    DeliveryStatus.SUPPRESSED: frozenset(),
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
    customer_id: uuid.UUID | None = None
    language: str | None = None
    register: Formality | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    """Why it was suppressed or deferred."""
    endpoint_id: uuid.UUID | None = None
    """A webhook delivery's endpoint (its recipient is the endpoint's URL)."""
    thread: str | None = None
    """Message-ID this email answers (In-Reply-To/References): the case's acknowledgement."""

    @classmethod
    def pending(
        cls,
        notice: Notice,
        body_text: str,
        body_html: str | None,
        at: datetime,
        *,
        channel: NotificationChannel = NotificationChannel.EMAIL,
        address: str | None = None,
        subject: str | None = None,
        key: str | None = None,
    ) -> Delivery:
        to = notice.recipient
        if address is None:
            address = notice.staff.email if notice.staff else to.customer_email
        if address is None:
            raise ValueError(f"case {to.case_number} has no email address")
        key = key or notice.key
        thread = None
        if channel is NotificationChannel.EMAIL and notice.staff is None:
            root = delivery_id_for(f"case_acknowledgement:{to.case_id}")
            if root != delivery_id_for(key):
                thread = f"<{root}@atiende>"
        return cls(
            id=delivery_id_for(key),
            idempotency_key=key,
            case_id=to.case_id,
            case_number=to.case_number,
            template=notice.template,
            channel=channel,
            recipient=address,
            recipient_name=(notice.staff.name if notice.staff else to.customer_name),
            subject=subject or notice.subject,
            body_text=body_text,
            body_html=body_html,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=at,
            created_at=at,
            customer_id=None if notice.staff else to.customer_id,
            language=str(notice.language),
            register=notice.register,
            context=dict(notice.context),
            thread=thread,
        )

    def suppressed(self, reason: str, at: datetime) -> tuple[Delivery, NotificationSuppressed]:
        """Recorded but never attempted, with its reason."""
        return replace(self, status=DeliveryStatus.SUPPRESSED, reason=reason), (
            NotificationSuppressed(
                delivery_id=self.id,
                case_id=self.case_id,
                template=self.template.value,
                channel=self.channel,
                reason=reason,
                suppressed_at=at,
            )
        )

    def deferred(
        self, reason: str, until: datetime, at: datetime
    ) -> tuple[Delivery, NotificationDeferred]:
        """Held until `until` (the end of the customer's quiet hours)."""
        return replace(self, next_attempt_at=until, reason=reason), NotificationDeferred(
            delivery_id=self.id,
            case_id=self.case_id,
            template=self.template.value,
            channel=self.channel,
            reason=reason,
            until=until,
            deferred_at=at,
        )

    def replayed(self, at: datetime) -> Delivery:
        """An operator's replay (or a soft bounce): a finished delivery is attempted again,
        with the same id (so the same Message-ID / webhook-id: the receiver can deduplicate)."""
        if self.status is DeliveryStatus.SUPPRESSED:
            raise DeliveryStateError(f"delivery {self.id} was suppressed; it has no address")
        return replace(
            self, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=at, sent_at=None
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
            audience=self.audience,
        )

    @property
    def audience(self) -> Audience:
        if self.channel is NotificationChannel.WEBHOOK:
            return Audience.INTEGRATION
        return Audience.STAFF if self.template.for_staff else Audience.CUSTOMER

    def record_failure(
        self,
        error: str,
        at: datetime,
        policy: Backoff,
        *,
        permanent: bool = False,
        retry_after: timedelta | None = None,
    ) -> tuple[Delivery, NotificationFailed | None]:
        """Count a failed attempt: retry later with backoff (staying pending, no event), or give
        up (after the last attempt, or at once when the receiving server refused the message for
        good) and say so."""
        attempts = self.attempts + 1
        if permanent or attempts >= policy.max_attempts:
            return self.failed(error, at, attempts)
        self._require(DeliveryStatus.PENDING)
        # a receiver's Retry-After (429/503) is honoured when it asks for longer than we would
        delay = max(policy.delay_after(attempts), retry_after or timedelta(0))
        retry_at = at + delay
        return replace(self, attempts=attempts, last_error=error, next_attempt_at=retry_at), None

    def failed(
        self, error: str, at: datetime, attempts: int | None = None, *, bounce: bool = False
    ) -> tuple[Delivery, NotificationFailed]:
        """Given up on (after the last attempt, a permanent refusal, or a hard bounce)."""
        attempts = self.attempts + 1 if attempts is None else attempts
        if not (bounce and self.status is DeliveryStatus.SENT):  # a hard bounce fails a sent one
            self._require(DeliveryStatus.FAILED)
        failed = replace(self, status=DeliveryStatus.FAILED, attempts=attempts, last_error=error)
        return failed, NotificationFailed(
            delivery_id=self.id,
            case_id=self.case_id,
            template=self.template.value,
            channel=self.channel,
            attempts=attempts,
            error=error,
            failed_at=at,
        )
