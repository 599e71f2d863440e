"""What notifications does: record the emails consumed events call for, send the due ones, and
show them.

Recording happens inside the consumer's inbox transaction and never touches SMTP: the dispatch
round sends once that transaction has committed. Each dispatch round is one transaction: claim
due deliveries (FOR UPDATE SKIP LOCKED), send them, record each outcome and its
notification.sent / notification.failed event, commit. Hence:
- two replicas never send the same delivery at once: SKIP LOCKED gives them different rows;
- a crash after the SMTP server accepted an email but before the commit leaves the row pending,
  so it is sent once more, with the same Message-ID (at-least-once; the receiver deduplicates);
- a failed attempt is retried with exponential backoff, and after the last one the delivery is
  marked failed and notification.failed says so: nothing disappears silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from atiende_contracts import CaseOpened, SurveyInvited
from atiende_runtime.languages import choose_language
from atiende_runtime.logs import current_case_id

from .domain import (
    Body,
    Delivery,
    DeliveryStatus,
    Notice,
    Recipient,
    RetryPolicy,
    UnknownRecipient,
    acknowledgement,
    message_id,
    survey_invitation,
)
from .repository import DueDelivery, UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("atiende.notifications.dispatcher")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- ports -----------------------------------------------------------------------------------


class SendFailure(Exception):
    """An email was not accepted. `permanent`: the server refused it for good (5xx), so trying
    again would only get the same answer."""

    def __init__(self, error: str, *, permanent: bool) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, delivery: Delivery) -> None:
        """Hand the delivery's email over; raises SendFailure if it is not accepted. Every
        attempt of one delivery carries the same Message-ID, derived from its id."""
        ...


class Renderer(Protocol):
    def __call__(self, notice: Notice) -> Body:
        """The notice's words in its language."""
        ...


# --- recording -------------------------------------------------------------------------------


async def acknowledge_case(
    uow: UnitOfWork, event: CaseOpened, *, render: Renderer, clock: Clock = utc_now
) -> Delivery | None:
    """Remember whom the case's emails go to and record its acknowledgement; returns the new
    delivery, or None when there is nothing new to send."""
    recipient = Recipient(
        case_id=event.case_id,
        case_number=event.case_number,
        customer_name=event.customer_name,
        customer_email=event.customer_email,
        language=choose_language(event.language),
    )
    await uow.recipients.save(recipient)
    return await _record(uow, acknowledgement(recipient), render, clock)


async def invite_to_survey(
    uow: UnitOfWork, event: SurveyInvited, *, render: Renderer, clock: Clock = utc_now
) -> Delivery | None:
    """Record the survey invitation email of a case this service knows; raises UnknownRecipient
    for a case whose case.opened it has not handled."""
    recipient = await uow.recipients.get(event.case_id)
    if recipient is None:
        # Events of a case are published in order, so this means case.opened was lost or parked
        # here. Failing makes the broker redeliver it, then park it for an operator to replay.
        log.warning(
            "survey invitation for a case with no known recipient; it will be retried, then parked",
            extra={"case_id": str(event.case_id), "invitation_id": str(event.invitation_id)},
        )
        raise UnknownRecipient(f"no recipient known for case {event.case_id} ({event.case_number})")
    notice = survey_invitation(recipient, event.invitation_id, event.survey_url, event.expires_at)
    return await _record(uow, notice, render, clock)


async def _record(
    uow: UnitOfWork, notice: Notice, render: Renderer, clock: Clock
) -> Delivery | None:
    if notice.recipient.customer_email is None:
        log.info(
            "no email address for this case; email notice skipped",
            extra={"template": notice.template.value, "case_number": notice.recipient.case_number},
        )
        return None
    body = render(notice)
    delivery = Delivery.pending(notice, body.text, body.html, clock())
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)  # the dispatcher's send joins this handler's trace
    if not await uow.deliveries.add(delivery, trace_headers):
        log.info(
            "delivery already recorded; not sending it again",
            extra={"idempotency_key": notice.key, "template": notice.template.value},
        )
        return None
    return delivery


# --- dispatching -----------------------------------------------------------------------------


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Attempt:
    """One delivery's send attempt in a dispatch round, as recorded."""

    delivery: Delivery
    outcome: Outcome


@contextlib.contextmanager
def _within(trace_headers: Mapping[str, Any], case_id: uuid.UUID | None) -> Iterator[None]:
    """Run in the trace of the handler that recorded the delivery, logging its case id."""
    trace_token = otel_context.attach(propagate.extract(dict(trace_headers)))
    case_token = current_case_id.set(str(case_id) if case_id else None)
    try:
        yield
    finally:
        current_case_id.reset(case_token)
        otel_context.detach(trace_token)


async def dispatch_due(
    uow: UnitOfWork,
    mailer: Mailer,
    policy: RetryPolicy,
    *,
    batch_size: int,
    clock: Clock = utc_now,
) -> list[Attempt]:
    """Claim, send and record one batch of due deliveries (inside `uow`'s transaction); returns
    each attempt with its outcome (as many as were claimed)."""
    due = await uow.deliveries.claim_due(batch_size, clock())
    if not due:
        return []
    # concurrently, so a hanging server holds the transaction for one timeout, not n
    failures = await asyncio.gather(*(_send(mailer, claimed) for claimed in due))
    attempts: list[Attempt] = []
    for claimed, failure in zip(due, failures, strict=True):
        with _within(claimed.trace_headers, claimed.delivery.case_id):
            attempts.append(await _record_attempt(uow, claimed.delivery, failure, policy, clock))
    return attempts


async def _send(mailer: Mailer, claimed: DueDelivery) -> SendFailure | None:
    delivery = claimed.delivery
    with (
        _within(claimed.trace_headers, delivery.case_id),
        tracer.start_as_current_span(
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={
                "atiende.delivery_id": str(delivery.id),
                "atiende.case_id": str(delivery.case_id or ""),
                "atiende.template": delivery.template.value,
                "atiende.attempt": delivery.attempts + 1,
            },
        ) as span,
    ):
        try:
            await mailer.send(delivery)
        except SendFailure as failure:
            span.set_status(Status(StatusCode.ERROR, failure.error))
            return failure
        return None


async def _record_attempt(
    uow: UnitOfWork,
    delivery: Delivery,
    failure: SendFailure | None,
    policy: RetryPolicy,
    clock: Clock,
) -> Attempt:
    """Store the attempt's outcome and emit its event."""
    now = clock()
    facts = {
        "delivery_id": str(delivery.id),
        "template": delivery.template.value,
        "attempt": delivery.attempts + 1,
    }
    if failure is None:
        sent, event = delivery.mark_sent(now)
        await uow.deliveries.save_attempt(sent)
        await uow.emit(event, subject=delivery.case_id)
        log.info("email sent", extra={**facts, "message_id": message_id(delivery)})
        return Attempt(sent, Outcome.SENT)
    updated, failed = delivery.record_failure(
        failure.error, now, policy, permanent=failure.permanent
    )
    await uow.deliveries.save_attempt(updated)
    if failed is None:
        retry_at = updated.next_attempt_at.isoformat()
        log.warning(
            "email not sent; will retry",
            extra={**facts, "error": failure.error, "retry_at": retry_at},
        )
        return Attempt(updated, Outcome.RETRY)
    await uow.emit(failed, subject=delivery.case_id)
    log.error(
        "email not sent; giving up",
        extra={**facts, "error": failure.error, "permanent": failure.permanent},
    )
    return Attempt(updated, Outcome.FAILED)


# --- reading ---------------------------------------------------------------------------------


async def list_deliveries(
    uow: UnitOfWork,
    *,
    case_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[Delivery]:
    return await uow.deliveries.find(case_id=case_id, status=status, limit=limit)
