"""Notifications' event handlers: thin, each runs inside the inbox transaction and only records
a pending delivery. No SMTP here: the dispatcher sends once the transaction has committed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from opentelemetry import propagate

from atiende_contracts import CaseOpened, SurveyInvited
from atiende_runtime.inbox import Consumers, HandlerContext

from . import domain
from .domain import Delivery, Notice, Recipient
from .mail import render
from .repository import NotificationsRepository

log = logging.getLogger(__name__)

consumers = Consumers()


class UnknownRecipient(Exception):
    """An event names a case whose case.opened this service has not handled."""


async def _add_delivery(repo: NotificationsRepository, notice: Notice) -> None:
    if notice.recipient.customer_email is None:
        log.info(
            "no email address for this case; email notice skipped",
            extra={"template": notice.template.value, "case_number": notice.recipient.case_number},
        )
        return
    body = render(notice)
    delivery = Delivery.pending(notice, body.text, body.html, datetime.now(UTC))
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)  # the dispatcher's send joins this handler's trace
    if not await repo.add_delivery(delivery, trace_headers):
        log.info(
            "delivery already recorded; not sending it again",
            extra={"idempotency_key": notice.key, "template": notice.template.value},
        )


@consumers.on(CaseOpened, name="acknowledge-case")
async def acknowledge_case(ctx: HandlerContext, event: CaseOpened) -> None:
    repo = NotificationsRepository(ctx.conn)
    recipient = Recipient(
        case_id=event.case_id,
        case_number=event.case_number,
        customer_name=event.customer_name,
        customer_email=event.customer_email,
        language=domain.choose_language(event.language),
    )
    await repo.save_recipient(recipient)
    await _add_delivery(repo, domain.acknowledgement(recipient))


@consumers.on(SurveyInvited, name="send-survey-invitation")
async def send_survey_invitation(ctx: HandlerContext, event: SurveyInvited) -> None:
    repo = NotificationsRepository(ctx.conn)
    recipient = await repo.recipient(event.case_id)
    if recipient is None:
        # Events of a case are published in order, so this means case.opened was lost or parked
        # here. Failing makes the broker redeliver it, then park it for an operator to replay.
        log.warning(
            "survey invitation for a case with no known recipient; it will be retried, then parked",
            extra={"case_id": str(event.case_id), "invitation_id": str(event.invitation_id)},
        )
        raise UnknownRecipient(f"no recipient known for case {event.case_id} ({event.case_number})")
    notice = domain.survey_invitation(
        recipient, event.invitation_id, event.survey_url, event.expires_at
    )
    await _add_delivery(repo, notice)
