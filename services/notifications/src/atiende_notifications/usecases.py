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
import json
import logging
import re
import time as monotonic_time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jinja2 import TemplateError
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from atiende_contracts import (
    AgentChanged,
    BounceKind,
    CaseAssigned,
    CaseEscalated,
    CaseOpened,
    CaseResolved,
    CaseSlaBreached,
    CaseSlaWarning,
    CaseStatus,
    CaseStatusChanged,
    CommitmentDueSoon,
    CommitmentMade,
    CommitmentMissed,
    CompensationGranted,
    CompensationRequested,
    CustomerErased,
    CustomerProfileChanged,
    CustomerSurveyOptOut,
    EmailBounced,
    Envelope,
    Formality,
    NotificationChannel,
    ProblemResolved,
    SurveyInvited,
    SurveyReminded,
    WebhookEndpointDisabled,
)
from atiende_runtime.erasure import ERASED
from atiende_runtime.errors import Invalid, NotFound
from atiende_runtime.languages import DEFAULT_LANGUAGE, Language, choose_language
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
from .domain.deliveries import Backoff, RetrySchedule, delivery_id_for
from .domain.notices import (
    StaffAddress,
    Template,
    customer_notice,
    format_date,
    format_moment,
    format_money,
    staff_notice,
)
from .domain.preferences import (
    CustomerPreferences,
    StaffMember,
    choose_channel,
    quiet_until,
    time_zone_of,
)
from .domain.templating import (
    SAMPLE,
    StoredTemplate,
    TemplateKey,
    TemplateText,
    check,
    render,
    select,
)
from .domain.webhooks import Endpoint, EndpointSecret, check_url, new_secret
from .repository import AttemptLog, DueDelivery, UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("atiende.notifications.dispatcher")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- ports -----------------------------------------------------------------------------------


class SendFailure(Exception):
    """A message was not accepted. `permanent`: the server refused it for good (5xx), so trying
    again would only get the same answer; `gone`: a webhook endpoint answered 410 (disable it);
    `retry_after`: the receiver asked us to wait (429/503)."""

    def __init__(
        self,
        error: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        retry_after: timedelta | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after
        self.gone = gone


class Mailer(Protocol):
    async def send(self, delivery: Delivery) -> None:
        """Hand the delivery's email over; raises SendFailure if it is not accepted. Every
        attempt of one delivery carries the same Message-ID, derived from its id."""
        ...


class WebhookSender(Protocol):
    async def send(self, delivery: Delivery, secrets: list[str]) -> int:
        """POST the delivery's body, signed with every secret; returns the status code or
        raises SendFailure."""
        ...


@dataclass(frozen=True)
class Senders:
    """The way out for each channel (a missing one: that channel's deliveries wait)."""

    email: Mailer | None = None
    sms: Mailer | None = None
    webhook: WebhookSender | None = None


@dataclass(frozen=True)
class Options:
    """What recording needs besides the unit of work: the zone for customers with none known."""

    default_time_zone: str = "Europe/Madrid"


class Renderer(Protocol):
    def __call__(self, notice: Notice) -> Body:
        """The notice's words in its language."""
        ...


# --- recording -------------------------------------------------------------------------------


async def acknowledge_case(
    uow: UnitOfWork,
    event: CaseOpened,
    *,
    render: Renderer | None = None,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    """Remember whom the case's messages go to (and the customer's consents and preferred
    channel) and record its acknowledgement; returns the new delivery, or None when there is
    nothing new to send."""
    recipient = Recipient(
        case_id=event.case_id,
        case_number=event.case_number,
        customer_name=event.customer_name,
        customer_email=event.customer_email,
        language=choose_language(event.language),
        customer_id=event.customer_id,
        formality=event.formality or Formality.FORMAL,
        customer_phone=event.customer_phone,
        region=event.region,
    )
    if await uow.preferences.is_erased(event.customer_id):
        # a case.opened older than the erasure: keep the case, not the person; send nothing
        await uow.recipients.save(
            replace(recipient, customer_name=ERASED, customer_email=None, customer_phone=None)
        )
        return None
    await uow.recipients.save(recipient)
    known = await uow.preferences.get(event.customer_id)
    prefs = known or CustomerPreferences(event.customer_id)
    changes: dict[str, Any] = {}
    if event.preferred_channel is not None:
        changes["preferred_channel"] = event.preferred_channel
    if event.consent_surveys is not None:
        changes["consent_surveys"] = event.consent_surveys
    if event.consent_marketing is not None:
        changes["consent_marketing"] = event.consent_marketing
    prefs = replace(prefs, **changes)
    if known is None or prefs != known:
        await uow.preferences.save(prefs)
    # recorded with the preferences just decided: reading them back would be the same row
    return await _record(uow, acknowledgement(recipient), render, clock, options, prefs=prefs)


async def invite_to_survey(
    uow: UnitOfWork,
    event: SurveyInvited,
    *,
    render: Renderer | None = None,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    """Record the survey invitation of a case this service knows; raises UnknownRecipient for a
    case whose case.opened it has not handled."""
    recipient = await _survey_recipient(uow, event.case_id, event.case_number, event.customer_id)
    notice = survey_invitation(recipient, event.invitation_id, event.survey_url, event.expires_at)
    return await _record(uow, notice, render, clock, options)


async def remind_survey(
    uow: UnitOfWork, event: SurveyReminded, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    """Surveys' one reminder (surveys decided it is due and within the contact budget)."""
    recipient = await _survey_recipient(uow, event.case_id, event.case_number, event.customer_id)
    notice = customer_notice(
        Template.SURVEY_REMINDER,
        recipient,
        event.invitation_id,
        survey_url=event.survey_url,
        expires_on=format_date(event.expires_at, recipient.language),
    )
    return await _record(uow, notice, None, clock, options)


async def survey_opt_out(uow: UnitOfWork, event: CustomerSurveyOptOut) -> None:
    """A customer who opts out of surveys (all of them) gets no survey messages."""
    if event.scope != "all":
        return  # one questionnaire kind: surveys itself stops inviting to it
    prefs = await uow.preferences.get(event.customer_id) or CustomerPreferences(event.customer_id)
    await uow.preferences.save(replace(prefs, consent_surveys=False))


async def _recipient(uow: UnitOfWork, case_id: uuid.UUID, case_number: str) -> Recipient:
    recipient = await uow.recipients.get(case_id)
    if recipient is None:
        # Events of a case are published in order, so this means case.opened was lost or parked
        # here. Failing makes the broker redeliver it, then park it for an operator to replay.
        log.warning(
            "event for a case with no known recipient; it will be retried, then parked",
            extra={"case_id": str(case_id)},
        )
        raise UnknownRecipient(f"no recipient known for case {case_id} ({case_number})")
    return recipient


async def _survey_recipient(
    uow: UnitOfWork, case_id: uuid.UUID, case_number: str, customer_id: uuid.UUID | None
) -> Recipient:
    """Whom a survey message goes to. A survey about no case of ours (after a sale, a periodic
    campaign) goes to the address of the customer's most recent case; a customer we never wrote to
    gets a recipient without an address, so the message is recorded as suppressed (no address)
    instead of being retried and parked."""
    known = await uow.recipients.get(case_id)
    if known is not None or customer_id is None:
        return await _recipient(uow, case_id, case_number)
    earlier = await uow.recipients.of_customer(customer_id)
    if earlier:
        return replace(earlier[-1], case_id=case_id, case_number=case_number)
    return Recipient(
        case_id=case_id,
        case_number=case_number,
        customer_name="",
        customer_email=None,
        language=DEFAULT_LANGUAGE,
        customer_id=customer_id,
    )


def _local(at: datetime, recipient: Recipient, options: Options) -> datetime:
    return at.astimezone(ZoneInfo(time_zone_of(recipient.region, options.default_time_zone)))


async def commitment_made(
    uow: UnitOfWork, event: CommitmentMade, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    """Tell the customer what we promised and by when; urgent if quiet hours would hold it past
    the promise."""
    recipient = await _recipient(uow, event.case_id, event.case_number)
    due = _local(event.due_at, recipient, options)
    notice = customer_notice(
        Template.COMMITMENT_MADE,
        recipient,
        event.commitment_id,
        commitment=event.description,
        due=format_moment(due, recipient.language),
    )
    notice = replace(notice, urgent_before=event.due_at)
    return await _record(uow, notice, None, clock, options)


async def status_changed(
    uow: UnitOfWork,
    event: CaseStatusChanged,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    """Waiting on the customer is the status change they must know (resolution has its own
    event)."""
    if event.to_status is not CaseStatus.WAITING_ON_CUSTOMER:
        return None
    recipient = await _recipient(uow, event.case_id, event.case_number)
    about = f"{event.case_id}:{event.changed_at.isoformat()}"
    notice = customer_notice(Template.WAITING_ON_YOU, recipient, about, note=event.note or "")
    return await _record(uow, notice, None, clock, options)


async def case_resolved(
    uow: UnitOfWork, event: CaseResolved, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    recipient = await _recipient(uow, event.case_id, event.case_number)
    about = f"{event.case_id}:{event.resolved_at.isoformat()}"
    notice = customer_notice(Template.CASE_RESOLVED, recipient, about, resolution=event.resolution)
    return await _record(uow, notice, None, clock, options)


async def problem_resolved(
    uow: UnitOfWork, event: ProblemResolved, *, clock: Clock = utc_now, options: Options = Options()
) -> list[Delivery]:
    """Every customer whose case is still open about a problem hears that its cause is fixed:
    one message per case, in the customer's language and register."""
    recorded: list[Delivery] = []
    for linked in event.open_cases:
        recipient = await uow.recipients.get(linked.case_id)
        if recipient is None:
            # one case we never heard of must not keep every other customer from being told
            log.warning(
                "problem resolved for a case with no known recipient; that customer is not told",
                extra={"case_id": str(linked.case_id), "problem": event.problem_number},
            )
            continue
        notice = customer_notice(
            Template.PROBLEM_RESOLVED,
            recipient,
            f"{event.problem_id}:{linked.case_id}",
            problem=event.title,
        )
        delivery = await _record(uow, notice, None, clock, options)
        if delivery is not None:
            recorded.append(delivery)
    return recorded


async def _staff_address(
    uow: UnitOfWork, agent_id: str | None, email: str | None, name: str | None = None
) -> StaffAddress:
    member = await uow.staff.get(agent_id) if agent_id else None
    if member is not None:
        if NotificationChannel.EMAIL not in member.channels or not member.active:
            return StaffAddress(agent_id, None, member.name)
        return StaffAddress(agent_id, email or member.email, name or member.name)
    return StaffAddress(agent_id, email, name)


async def _tell_staff(
    uow: UnitOfWork,
    template: Template,
    case_id: uuid.UUID,
    case_number: str,
    staff: StaffAddress,
    about: str,
    clock: Clock,
    options: Options,
    **context: Any,
) -> Delivery | None:
    recipient = await uow.recipients.get(case_id) or Recipient(
        case_id, case_number, "", None, DEFAULT_LANGUAGE
    )
    notice = staff_notice(template, recipient, staff, about, DEFAULT_LANGUAGE, **context)
    return await _record(uow, notice, None, clock, options)


def _when(at: datetime, options: Options) -> str:
    return format_moment(at.astimezone(ZoneInfo(options.default_time_zone)), DEFAULT_LANGUAGE)


async def case_assigned(
    uow: UnitOfWork, event: CaseAssigned, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    if event.agent_id is None and event.agent_email is None:
        return None  # assigned to a team only: nobody in particular to tell
    staff = await _staff_address(uow, event.agent_id, event.agent_email, event.agent_name)
    return await _tell_staff(
        uow,
        Template.STAFF_CASE_ASSIGNED,
        event.case_id,
        event.case_number,
        staff,
        f"{event.case_id}:{event.agent_id}:{event.assigned_at.isoformat()}",
        clock,
        options,
        team=event.team,
        priority=event.priority or "normal",
        reason=event.reason or "",
    )


async def sla_warning(
    uow: UnitOfWork, event: CaseSlaWarning, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    if event.agent_id is None:
        return None
    staff = await _staff_address(uow, event.agent_id, None)
    return await _tell_staff(
        uow,
        Template.STAFF_SLA_WARNING,
        event.case_id,
        event.case_number,
        staff,
        f"{event.case_id}:{event.clock}:{event.threshold}:{event.due_at.isoformat()}",
        clock,
        options,
        target=event.clock.value,
        threshold=event.threshold,
        due=_when(event.due_at, options),
    )


async def sla_breached(
    uow: UnitOfWork,
    event: CaseSlaBreached,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    if event.agent_id is None:
        return None
    staff = await _staff_address(uow, event.agent_id, None)
    return await _tell_staff(
        uow,
        Template.STAFF_SLA_BREACHED,
        event.case_id,
        event.case_number,
        staff,
        f"{event.case_id}:{event.clock}:{event.due_at.isoformat()}",
        clock,
        options,
        target=event.clock.value,
        due=_when(event.due_at, options),
    )


async def commitment_due_soon(
    uow: UnitOfWork,
    event: CommitmentDueSoon,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    staff = await _staff_address(uow, event.owner_id, event.owner_email)
    return await _tell_staff(
        uow,
        Template.STAFF_COMMITMENT_DUE_SOON,
        event.case_id,
        event.case_number,
        staff,
        str(event.commitment_id),
        clock,
        options,
        commitment=event.description,
        due=_when(event.due_at, options),
    )


async def commitment_missed(
    uow: UnitOfWork,
    event: CommitmentMissed,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    staff = await _staff_address(uow, event.owner_id, None)
    return await _tell_staff(
        uow,
        Template.STAFF_COMMITMENT_MISSED,
        event.case_id,
        event.case_number,
        staff,
        str(event.commitment_id),
        clock,
        options,
        due=_when(event.due_at, options),
    )


async def case_escalated(
    uow: UnitOfWork, event: CaseEscalated, *, clock: Clock = utc_now, options: Options = Options()
) -> Delivery | None:
    if event.responsible_id is None and event.responsible_email is None:
        return None
    staff = await _staff_address(uow, event.responsible_id, event.responsible_email)
    return await _tell_staff(
        uow,
        Template.STAFF_ESCALATED,
        event.case_id,
        event.case_number,
        staff,
        f"{event.case_id}:{event.level}:{event.escalated_at.isoformat()}",
        clock,
        options,
        level=event.level.value,
        reason=event.reason.value,
        note=event.note or "",
    )


async def compensation_granted(
    uow: UnitOfWork,
    event: CompensationGranted,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    """Tell the customer what they get, in the catalogue's words in their language (and their
    register, through the template), with the amount."""
    recipient = await _recipient(uow, event.case_id, event.case_number)
    words = (
        event.descriptions.get(recipient.language.value)
        or event.descriptions.get(DEFAULT_LANGUAGE.value)
        or next(iter(event.descriptions.values()), event.kind.value.replace("_", " "))
    )
    money = format_money(event.amount, event.currency, recipient.language)
    notice = customer_notice(
        Template.COMPENSATION_GRANTED, recipient, event.grant_id, compensation=f"{words} ({money})"
    )
    return await _record(uow, notice, None, clock, options)


async def compensation_requested(
    uow: UnitOfWork,
    event: CompensationRequested,
    *,
    admins: Sequence[str] = (),
    clock: Clock = utc_now,
    options: Options = Options(),
) -> list[Delivery]:
    """Ask the people who may approve it: every emailable staff member of the rank asked (known
    from agent.changed). When we know nobody of that rank, the administrators
    (ATIENDE_ADMIN_EMAILS) are asked instead, so a request never waits unseen."""
    members = await uow.staff.of_ranks([event.approver_rank.value])
    approvers = [StaffAddress(m.agent_id, m.email, m.name) for m in members if m.emailable]
    if not approvers:
        approvers = [StaffAddress(None, a.strip(), None) for a in admins if a.strip()]
    if not approvers:
        log.warning(
            "nobody to ask for a compensation approval",
            extra={"case_id": str(event.case_id), "rank": event.approver_rank.value},
        )
        return []
    money = format_money(event.amount, event.currency, DEFAULT_LANGUAGE)
    what = f"{event.catalogue_code} ({event.kind.value.replace('_', ' ')}): {money}"
    if event.reason:
        what = f"{what}\n{event.reason}"
    recorded: list[Delivery] = []
    for approver in approvers:
        delivery = await _tell_staff(
            uow,
            Template.STAFF_APPROVAL_REQUESTED,
            event.case_id,
            event.case_number,
            approver,
            f"{event.request_id}:{approver.agent_id or approver.email}",
            clock,
            options,
            what=what,
            requested_by=event.requested_by or "",
        )
        if delivery is not None:
            recorded.append(delivery)
    return recorded


async def agent_changed(uow: UnitOfWork, event: AgentChanged) -> None:
    """Keep staff addresses; the channels a member chose stay theirs."""
    known = await uow.staff.get(event.agent_id)
    channels = known.channels if known else (NotificationChannel.EMAIL,)
    await uow.staff.save(
        StaffMember(
            agent_id=event.agent_id,
            name=event.name,
            email=event.email,
            phone=known.phone if known else None,
            channels=channels,
            active=event.active,
            rank=event.rank.value,
        )
    )


async def profile_changed(uow: UnitOfWork, event: CustomerProfileChanged) -> None:
    known = await uow.preferences.get(event.customer_id)
    prefs = known or CustomerPreferences(event.customer_id)
    changed = replace(
        prefs,
        preferred_channel=event.preferred_channel or prefs.preferred_channel,
        consent_surveys=event.consent_surveys,
        consent_marketing=event.consent_marketing,
    )
    if known is None or changed != known:
        # an event repeating what is stored writes nothing (case.opened usually stored it
        # already): no row lock taken, and who last set them stays who did
        await uow.preferences.save(changed)
    # the customer's cases speak their language and register from now on (a message held
    # for quiet hours included: it is rendered again when it goes out)
    language = choose_language(event.language)
    for recipient in await uow.recipients.of_customer(event.customer_id):
        if (recipient.language, recipient.formality) != (language, event.formality):
            await uow.recipients.save(
                replace(recipient, language=language, formality=event.formality)
            )


async def _saved_templates(
    uow: UnitOfWork, template: Template, channel: NotificationChannel
) -> dict[TemplateKey, TemplateText]:
    return {s.key: s.text for s in await uow.templates.current(template, channel) if s.active}


async def _render_for(uow: UnitOfWork, notice: Notice, channel: NotificationChannel) -> Body:
    key = TemplateKey(notice.template, channel, notice.language, notice.register)
    _, text = select(key, await _saved_templates(uow, notice.template, channel))
    context = {**notice.context}
    rendered = render(text, context, str(notice.language), emphasise=notice.recipient.case_number)
    html = rendered.html if channel is NotificationChannel.EMAIL else None
    return Body(text=rendered.text, html=html, subject=rendered.subject)


async def _record(
    uow: UnitOfWork,
    notice: Notice,
    render_with: Renderer | None,
    clock: Clock,
    options: Options,
    *,
    exclude: frozenset[NotificationChannel] = frozenset(),
    key: str | None = None,
    prefs: CustomerPreferences | None = None,
) -> Delivery | None:
    """Decide the channel (or suppress, saying why), render, hold for quiet hours (or not), and
    store the delivery with its event: one transaction, nothing lost. `prefs`: the customer's
    preferences when the caller has them in hand (else they are read)."""
    now = clock()
    to = notice.recipient
    reason: str | None = None
    channel: NotificationChannel | None = NotificationChannel.EMAIL
    address: str | None = None
    if notice.staff is not None:
        address = notice.staff.email
        if address is None:
            reason = "no_address"
    else:
        if prefs is None and to.customer_id is not None:
            prefs = await uow.preferences.get(to.customer_id)
        addresses = {
            NotificationChannel.EMAIL: to.customer_email,
            NotificationChannel.SMS: to.customer_phone,
        }
        choice = choose_channel(notice, prefs, addresses, exclude=exclude)
        channel, reason = choice.channel, choice.reason
        address = addresses.get(channel) if channel else None
    facts = {"template": notice.template.value, "case_number": to.case_number}
    if channel is None or address is None or reason is not None:
        blank = Delivery.pending(
            notice, "", None, now, channel=channel or NotificationChannel.EMAIL, address="", key=key
        )
        suppressed, event = blank.suppressed(reason or "no_address", now)
        if not await uow.deliveries.add(suppressed, {}):
            return None
        await uow.emit(event, subject=to.case_id)
        log.info("message suppressed", extra={**facts, "reason": event.reason})
        return suppressed
    if render_with is not None and channel is NotificationChannel.EMAIL:
        body = render_with(notice)
    else:
        body = await _render_for(uow, notice, channel)
    delivery = Delivery.pending(
        notice,
        body.text,
        body.html,
        now,
        channel=channel,
        address=address,
        subject=body.subject,
        key=key,
    )
    deferred_event = None
    until = quiet_until(notice, prefs, now, options.default_time_zone)
    if until is not None:
        delivery, deferred_event = delivery.deferred("quiet_hours", until, now)
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)  # the dispatcher's send joins this handler's trace
    if not await uow.deliveries.add(delivery, trace_headers):
        log.info(
            "delivery already recorded; not sending it again",
            extra={"idempotency_key": delivery.idempotency_key, **facts},
        )
        return None
    if deferred_event is not None:
        await uow.emit(deferred_event, subject=to.case_id)
    return delivery


# --- the mail loop and privacy ---------------------------------------------------------------

_MESSAGE_ID_UUID = re.compile(r"<?([0-9a-fA-F-]{36})@atiende>?")


async def email_bounced(
    uow: UnitOfWork,
    event: EmailBounced,
    policy: RetryPolicy,
    *,
    clock: Clock = utc_now,
    options: Options = Options(),
) -> Delivery | None:
    """A hard bounce fails the delivery with its status code, flags the customer's email
    undeliverable and tries another allowed channel; a soft bounce sends it again later."""
    match = _MESSAGE_ID_UUID.search(event.message_id)
    if match is None:
        return None
    delivery = await uow.deliveries.get(uuid.UUID(match[1]))
    if delivery is None or delivery.status is not DeliveryStatus.SENT:
        return None
    now = clock()
    detail = " ".join(p for p in (event.status_code, event.diagnostic) if p)
    if event.kind is BounceKind.SOFT:
        again = replace(
            delivery.replayed(now),
            attempts=delivery.attempts,
            next_attempt_at=now + policy.delay_after(max(delivery.attempts, 1)),
            last_error=f"soft bounce {detail}".strip(),
        )
        await uow.deliveries.save_attempt(again)
        return again
    failed, failed_event = delivery.failed(f"hard bounce {detail}".strip(), now, bounce=True)
    failed = replace(failed, attempts=delivery.attempts)
    await uow.deliveries.save_attempt(failed)
    await uow.emit(failed_event, subject=delivery.case_id)
    customer_id = delivery.customer_id
    if customer_id is None:
        return None
    prefs = await uow.preferences.get(customer_id) or CustomerPreferences(customer_id)
    await uow.preferences.save(
        replace(prefs, undeliverable=prefs.undeliverable | {NotificationChannel.EMAIL})
    )
    recipient = await uow.recipients.get(delivery.case_id) if delivery.case_id else None
    if recipient is None or delivery.template is Template.WEBHOOK_EVENT:
        return None
    notice = Notice(
        template=delivery.template,
        language=Language(delivery.language or DEFAULT_LANGUAGE),
        key=delivery.idempotency_key,
        recipient=recipient,
        subject=delivery.subject,
        context=dict(delivery.context),
        register=delivery.register or Formality.FORMAL,
        urgent=True,  # it is late already
    )
    return await _record(
        uow,
        notice,
        None,
        clock,
        options,
        exclude=frozenset({NotificationChannel.EMAIL}),
        key=f"{delivery.idempotency_key}:after-bounce",
    )


ERASABLE_FIELDS = frozenset(
    {"recipient", "recipient_name", "customer_name", "customer_email", "customer_phone"}
)
"""Keys of notifications' events and stored responses naming the customer or their address:
scrubbed in the outbox and Idempotency-Key rows about an erased customer."""


async def customer_erased(uow: UnitOfWork, event: CustomerErased) -> int:
    """Pseudonymise the customer's deliveries (address, name, bodies; pending ones are not
    sent), the mentions of them in messages to staff and integrations, the attempt logs, the
    outbox; keep the rows (counts). Remembers the customer, so a late case.opened is not
    stored in clear."""
    case_ids = list(event.case_ids)
    known = await uow.recipients.of_customer(event.customer_id)
    for case_id in case_ids:
        if (recipient := await uow.recipients.get(case_id)) is not None:
            known.append(recipient)
    values = sorted(
        {
            value
            for r in known
            for value in (r.customer_name, r.customer_email, r.customer_phone)
            if value and value != ERASED
        }
    )
    await uow.preferences.forget(event.customer_id, event.erased_at)
    count = await uow.deliveries.erase(event.customer_id, case_ids)
    await uow.deliveries.scrub_mentions(event.customer_id, case_ids, values)
    await uow.recipients.erase(case_ids, event.customer_id)
    await uow.preferences.delete(event.customer_id)
    await uow.scrub_copies(
        subjects=[event.customer_id, *case_ids], values=values, free_text=ERASABLE_FIELDS
    )
    return count


# --- webhooks: fan-out and administration ------------------------------------------------------


def webhook_body(envelope: Envelope, event_type: str) -> str:
    """The Standard Webhooks payload: type, timestamp, data (exactly the bytes signed)."""
    return json.dumps(
        {
            "type": event_type,
            "timestamp": envelope.time.isoformat(),
            "data": envelope.data,
            "event_id": str(envelope.id),
        },
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


async def fan_out(
    uow: UnitOfWork, envelope: Envelope, event_type: str, *, clock: Clock = utc_now
) -> int:
    """One webhook delivery per enabled endpoint that wants this event type ("case.opened")."""
    now = clock()
    count = 0
    for endpoint in await uow.endpoints.all():
        if not endpoint.enabled or not endpoint.wants(event_type):
            continue
        key = f"webhook:{endpoint.id}:{envelope.id}"
        case_id = envelope.data.get("case_id")
        delivery = Delivery(
            id=delivery_id_for(key),
            idempotency_key=key,
            case_id=uuid.UUID(case_id) if isinstance(case_id, str) else None,
            case_number=envelope.data.get("case_number"),
            template=Template.WEBHOOK_EVENT,
            channel=NotificationChannel.WEBHOOK,
            recipient=endpoint.url,
            recipient_name=None,
            subject=event_type,
            body_text=webhook_body(envelope, event_type),
            body_html=None,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            endpoint_id=endpoint.id,
        )
        if await uow.deliveries.add(delivery, {}):
            count += 1
    return count


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool = False
    allow_private: bool = False


async def create_endpoint(
    uow: UnitOfWork,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    secret: str | None,
    actor: str | None,
    urls: UrlPolicy,
    clock: Clock = utc_now,
) -> Endpoint:
    now = clock()
    endpoint = Endpoint(
        id=uuid.uuid4(),
        url=check_url(url, allow_http=urls.allow_http, allow_private=urls.allow_private),
        event_types=tuple(event_types),
        secrets=(EndpointSecret(secret or new_secret(), now),),
        enabled=True,
        created_at=now,
        description=description,
    )
    await uow.endpoints.add(endpoint)
    _, enabled = endpoint.enable(now, actor)
    await uow.emit(enabled, subject=endpoint.id)
    return endpoint


async def get_endpoint(uow: UnitOfWork, endpoint_id: uuid.UUID) -> Endpoint:
    endpoint = await uow.endpoints.get(endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


async def change_endpoint(
    uow: UnitOfWork,
    endpoint_id: uuid.UUID,
    *,
    enabled: bool | None,
    event_types: list[str] | None,
    url: str | None,
    actor: str | None,
    urls: UrlPolicy,
    clock: Clock = utc_now,
) -> Endpoint:
    endpoint = await get_endpoint(uow, endpoint_id)
    now = clock()
    if url is not None:
        endpoint = replace(
            endpoint,
            url=check_url(url, allow_http=urls.allow_http, allow_private=urls.allow_private),
        )
    if event_types is not None:
        endpoint = replace(endpoint, event_types=tuple(event_types))
    if enabled is True and not endpoint.enabled:
        endpoint, on = endpoint.enable(now, actor)
        await uow.emit(on, subject=endpoint.id)
    elif enabled is False and endpoint.enabled:
        endpoint, off = endpoint.disable("manual", now, actor)
        await uow.emit(off, subject=endpoint.id)
    await uow.endpoints.save(endpoint)
    return endpoint


async def rotate_secret(
    uow: UnitOfWork,
    endpoint_id: uuid.UUID,
    *,
    overlap: timedelta,
    secret: str | None = None,
    clock: Clock = utc_now,
) -> tuple[Endpoint, str]:
    endpoint = await get_endpoint(uow, endpoint_id)
    fresh = secret or new_secret()
    endpoint = endpoint.rotated(fresh, clock(), overlap)
    await uow.endpoints.save(endpoint)
    return endpoint, fresh


async def replay(uow: UnitOfWork, delivery_id: uuid.UUID, *, clock: Clock = utc_now) -> Delivery:
    """Send a delivery again, same id (webhook-id / Message-ID), attempts counted afresh."""
    delivery = await uow.deliveries.get(delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    again = delivery.replayed(clock())
    await uow.deliveries.save_attempt(again)
    return again


async def replay_range(
    uow: UnitOfWork,
    endpoint_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
    *,
    only_failed: bool = True,
    clock: Clock = utc_now,
) -> list[Delivery]:
    await get_endpoint(uow, endpoint_id)
    replayed = []
    for delivery in await uow.deliveries.of_endpoint(endpoint_id, since, until):
        if only_failed and delivery.status is not DeliveryStatus.FAILED:
            continue
        if delivery.status is DeliveryStatus.PENDING:
            continue
        again = delivery.replayed(clock())
        await uow.deliveries.save_attempt(again)
        replayed.append(again)
    return replayed


# --- templates administration ----------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    """What a key renders with: the template found along the fallback chain, and where."""

    requested: TemplateKey
    served_by: TemplateKey
    text: TemplateText
    stored: StoredTemplate | None


async def effective_template(uow: UnitOfWork, key: TemplateKey) -> Effective:
    current = {s.key: s for s in await uow.templates.current(key.template, key.channel)}
    saved = {k: s.text for k, s in current.items() if s.active}
    served_by, text = select(key, saved)
    stored = current.get(served_by)
    return Effective(key, served_by, text, stored if stored and stored.active else None)


async def save_template(
    uow: UnitOfWork,
    key: TemplateKey,
    text: TemplateText,
    *,
    actor: str | None,
    clock: Clock = utc_now,
) -> StoredTemplate:
    """A new version of a template, refused (with the line) if it does not render. Saving a
    default (the default language's, or a language's) marks the variants below it outdated."""
    check(key, text)
    versions = await uow.templates.versions(key)
    stored = StoredTemplate(
        key=key,
        version=(versions[-1].version + 1) if versions else 1,
        text=text,
        active=True,
        outdated=False,
        created_at=clock(),
        actor=actor,
    )
    await uow.templates.add(stored)
    if key.register is None:
        for other in await uow.templates.current(key.template, key.channel):
            below = other.key != key and (
                key.language == DEFAULT_LANGUAGE or other.key.language == key.language
            )
            if below and other.active:
                await uow.templates.set_outdated(other.key, True)
    return stored


async def remove_template(
    uow: UnitOfWork, key: TemplateKey, *, actor: str | None, clock: Clock = utc_now
) -> StoredTemplate:
    """Stop using a saved template (a new, inactive version): the chain falls back past it."""
    versions = await uow.templates.versions(key)
    if not versions or not versions[-1].active:
        raise NotFound("no saved template for this key")
    last = versions[-1]
    stored = replace(
        last,
        version=last.version + 1,
        active=False,
        outdated=False,
        created_at=clock(),
        actor=actor,
    )
    await uow.templates.add(stored)
    return stored


async def template_versions(uow: UnitOfWork, key: TemplateKey) -> list[StoredTemplate]:
    return await uow.templates.versions(key)


async def preview(
    uow: UnitOfWork,
    key: TemplateKey,
    text: TemplateText | None,
    *,
    case_id: uuid.UUID | None,
) -> tuple[TemplateKey, Body]:
    """Render a template (the given draft, or the one the chain selects) against the sample
    values, or a real case's (its customer's name and number over the samples)."""
    if text is not None:
        check(key, text)
        served_by = key
    else:
        found = await effective_template(uow, key)
        served_by, text = found.served_by, found.text
    context: dict[str, Any] = dict(SAMPLE)
    if case_id is not None:
        recipient = await uow.recipients.get(case_id)
        if recipient is None:
            raise NotFound(f"no case {case_id} known to notifications")
        context.update(customer_name=recipient.customer_name, case_number=recipient.case_number)
    rendered = render(text, context, str(key.language), emphasise=context["case_number"])
    html = rendered.html if key.channel is NotificationChannel.EMAIL else None
    return served_by, Body(text=rendered.text, html=html, subject=rendered.subject)


# --- preferences -----------------------------------------------------------------------------


async def customer_preferences(uow: UnitOfWork, customer_id: uuid.UUID) -> CustomerPreferences:
    return await uow.preferences.get(customer_id) or CustomerPreferences(customer_id)


async def set_customer_preferences(
    uow: UnitOfWork, prefs: CustomerPreferences, *, actor: str | None = None
) -> None:
    if prefs.time_zone is not None:
        try:
            ZoneInfo(prefs.time_zone)
        except (KeyError, ValueError) as exc:
            raise Invalid.field("body.time_zone", "zone", "unknown time zone") from exc
    await uow.preferences.save(prefs, actor)


async def set_staff_channels(
    uow: UnitOfWork,
    agent_id: str,
    channels: list[NotificationChannel],
    phone: str | None,
    *,
    actor: str | None = None,
) -> StaffMember:
    member = await uow.staff.get(agent_id) or StaffMember(agent_id)
    member = replace(member, channels=tuple(channels), phone=phone or member.phone)
    await uow.staff.save(member, actor)
    return replace(member, updated_by=actor)


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
    mailer: Mailer | Senders,
    policy: RetryPolicy,
    *,
    batch_size: int,
    clock: Clock = utc_now,
    schedule: Backoff | None = None,
    admins: Sequence[str] = (),
    dispatcher: str | None = None,
    admin_ranks: Sequence[str] = (),
) -> list[Attempt]:
    """Claim, send and record one batch of due deliveries (inside `uow`'s transaction); returns
    each attempt with its outcome (as many as were claimed). Email retries follow `policy`;
    SMS and webhooks follow `schedule` (Standard Webhooks' three days, with jitter). `admins`
    (and active staff of `admin_ranks`) are emailed when a webhook endpoint gets disabled; `dispatcher` names this replica in the
    delivery log."""
    senders = mailer if isinstance(mailer, Senders) else Senders(email=mailer)
    backoff: Backoff = schedule or RetrySchedule()
    due = await uow.deliveries.claim_due(batch_size, clock())
    if not due:
        return []
    due = [await _in_todays_words(uow, claimed) for claimed in due]
    endpoints: dict[uuid.UUID, Endpoint | None] = {}
    for claimed in due:
        endpoint_id = claimed.delivery.endpoint_id
        if endpoint_id is not None and endpoint_id not in endpoints:
            endpoints[endpoint_id] = await uow.endpoints.get(endpoint_id)
    # concurrently, so a hanging server holds the transaction for one timeout, not n
    results = await asyncio.gather(*(_send(senders, claimed, endpoints, clock) for claimed in due))
    attempts: list[Attempt] = []
    for claimed, result in zip(due, results, strict=True):
        delivery = claimed.delivery
        with _within(claimed.trace_headers, delivery.case_id):
            if isinstance(result, str):  # not attempted: suppressed with this reason
                suppressed, event = delivery.suppressed(result, clock())
                await uow.deliveries.save_attempt(suppressed)
                await uow.emit(event, subject=delivery.case_id)
                attempts.append(Attempt(suppressed, Outcome.FAILED))
                continue
            chosen: Backoff = policy if delivery.channel is NotificationChannel.EMAIL else backoff
            attempts.append(
                await _record_attempt(
                    uow, delivery, result, chosen, clock, endpoints, admins, dispatcher, admin_ranks
                )
            )
    return attempts


async def _in_todays_words(uow: UnitOfWork, claimed: DueDelivery) -> DueDelivery:
    """A message held for quiet hours is rendered again when it goes out, not left as it was
    when recorded: a template fixed, or a customer's language, register or name changed in the
    meantime, is honoured. Its reason (quiet_hours) stays. Variables are those recorded (a
    date keeps the wording it was given). If it no longer renders, the recorded words go."""
    delivery = claimed.delivery
    if (
        delivery.reason != "quiet_hours"
        or delivery.attempts > 0
        or delivery.case_id is None
        or delivery.channel not in (NotificationChannel.EMAIL, NotificationChannel.SMS)
        or not delivery.context
    ):
        return claimed
    recipient = await uow.recipients.get(delivery.case_id)
    language = recipient.language if recipient else choose_language(delivery.language)
    register = recipient.formality if recipient else (delivery.register or Formality.FORMAL)
    context = dict(delivery.context)
    if recipient is not None and "customer_name" in context:
        context["customer_name"] = recipient.customer_name
    key = TemplateKey(delivery.template, delivery.channel, language, register)
    try:
        _, text = select(key, await _saved_templates(uow, delivery.template, delivery.channel))
        rendered = render(text, context, str(language), emphasise=delivery.case_number)
    except (LookupError, TemplateError) as exc:
        log.warning(
            "deferred message no longer renders; sending it as recorded",
            extra={"delivery_id": str(delivery.id), "error": str(exc)},
        )
        return claimed
    fresh = replace(
        delivery,
        subject=rendered.subject or delivery.subject,
        body_text=rendered.text,
        body_html=rendered.html if delivery.channel is NotificationChannel.EMAIL else None,
        language=str(language),
        register=register,
        context=context,
    )
    if fresh != delivery:
        await uow.deliveries.rewrite(fresh)
    return replace(claimed, delivery=fresh)


@dataclass(frozen=True)
class _Result:
    failure: SendFailure | None
    status_code: int | None
    started_at: datetime
    duration_ms: int
    request: Mapping[str, Any] = field(default_factory=dict)


async def _send(
    senders: Senders,
    claimed: DueDelivery,
    endpoints: Mapping[uuid.UUID, Endpoint | None],
    clock: Clock,
) -> _Result | str:
    delivery = claimed.delivery
    request: dict[str, Any] = {"channel": delivery.channel.value, "to": delivery.recipient}
    with (
        _within(claimed.trace_headers, delivery.case_id),
        tracer.start_as_current_span(
            f"{delivery.channel.value} send",
            kind=SpanKind.CLIENT,
            attributes={
                "atiende.delivery_id": str(delivery.id),
                "atiende.case_id": str(delivery.case_id or ""),
                "atiende.template": delivery.template.value,
                "atiende.attempt": delivery.attempts + 1,
            },
        ) as span,
    ):
        started_at = clock()
        start = monotonic_time.monotonic()
        status_code: int | None = None
        try:
            if delivery.channel is NotificationChannel.WEBHOOK:
                endpoint = endpoints.get(delivery.endpoint_id) if delivery.endpoint_id else None
                if endpoint is None or not endpoint.enabled:
                    return "endpoint_disabled"
                if senders.webhook is None:
                    raise SendFailure("no webhook sender configured", permanent=False)
                request.update(event_type=delivery.subject, webhook_id=str(delivery.id))
                status_code = await senders.webhook.send(
                    delivery, endpoint.live_secrets(started_at)
                )
            else:
                sender = (
                    senders.email if delivery.channel is NotificationChannel.EMAIL else senders.sms
                )
                if sender is None:
                    raise SendFailure(
                        f"no {delivery.channel.value} sender configured", permanent=False
                    )
                await sender.send(delivery)
        except SendFailure as failure:
            span.set_status(Status(StatusCode.ERROR, failure.error))
            elapsed = int((monotonic_time.monotonic() - start) * 1000)
            return _Result(failure, failure.status_code, started_at, elapsed, request)
        elapsed = int((monotonic_time.monotonic() - start) * 1000)
        return _Result(None, status_code, started_at, elapsed, request)


async def _record_attempt(
    uow: UnitOfWork,
    delivery: Delivery,
    result: _Result,
    policy: Backoff,
    clock: Clock,
    endpoints: dict[uuid.UUID, Endpoint | None],
    admins: Sequence[str] = (),
    dispatcher: str | None = None,
    admin_ranks: Sequence[str] = (),
) -> Attempt:
    """Store the attempt's outcome (and its log line) and emit its event."""
    now = clock()
    failure = result.failure
    facts = {
        "delivery_id": str(delivery.id),
        "template": delivery.template.value,
        "channel": delivery.channel.value,
        "attempt": delivery.attempts + 1,
    }
    logged = AttemptLog(
        delivery.id,
        delivery.attempts + 1,
        result.started_at,
        result.duration_ms,
        result.status_code,
        failure.error if failure else None,
        result.request,
        dispatcher,
    )
    if failure is None:
        sent, event = delivery.mark_sent(now)
        await uow.deliveries.save_attempt(sent, logged)
        await uow.emit(event, subject=delivery.case_id)
        log.info("message sent", extra={**facts, "message_id": message_id(delivery)})
        return Attempt(sent, Outcome.SENT)
    updated, failed = delivery.record_failure(
        failure.error,
        now,
        policy,
        permanent=failure.permanent or failure.gone,
        retry_after=failure.retry_after,
    )
    await uow.deliveries.save_attempt(updated, logged)
    if failed is None:
        retry_at = updated.next_attempt_at.isoformat()
        log.warning(
            "message not sent; will retry",
            extra={**facts, "error": failure.error, "retry_at": retry_at},
        )
        return Attempt(updated, Outcome.RETRY)
    await uow.emit(failed, subject=delivery.case_id)
    log.error(
        "message not sent; giving up",
        extra={**facts, "error": failure.error, "permanent": failure.permanent},
    )
    endpoint = endpoints.get(delivery.endpoint_id) if delivery.endpoint_id else None
    if endpoint is not None and endpoint.enabled:
        # 410: the receiver says it is gone for good; failing through the whole ~3-day schedule:
        # it has been broken for days. Either way it is disabled and the admins told (the event,
        # and an email to each of them).
        reason = "gone" if failure.gone else "failing"
        if failure.gone or not failure.permanent:
            disabled, off = endpoint.disable(reason, now)
            endpoints[endpoint.id] = disabled  # later deliveries of this round see it disabled
            await uow.endpoints.save(disabled)
            await uow.emit(off, subject=endpoint.id)
            log.error("webhook endpoint disabled", extra={**facts, "reason": reason})
            await tell_admins_endpoint_disabled(uow, off, failure.error, admins, admin_ranks)
    return Attempt(updated, Outcome.FAILED)


async def tell_admins_endpoint_disabled(
    uow: UnitOfWork,
    off: WebhookEndpointDisabled,
    last_error: str | None,
    admins: Sequence[str],
    admin_ranks: Sequence[str] = (),
) -> list[Delivery]:
    """Record one email per administrator about a disabled endpoint, like any other delivery
    (the dispatcher sends it, with retries and its log). Keyed by the endpoint and the moment it
    was disabled: the same disable never writes twice, a later one writes again. Administrators
    are the `admins` addresses and the emailable staff of `admin_ranks` (known from
    agent.changed)."""
    names: dict[str, str] = {a.strip(): "" for a in admins if a.strip()}
    if admin_ranks:
        for member in await uow.staff.of_ranks(admin_ranks):
            if member.emailable and member.email:
                names[member.email] = names.get(member.email) or member.name or ""
    if not names:
        return []
    template, channel = Template.STAFF_WEBHOOK_DISABLED, NotificationChannel.EMAIL
    key = TemplateKey(template, channel, DEFAULT_LANGUAGE, Formality.INFORMAL)
    _, text = select(key, await _saved_templates(uow, template, channel))
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)
    recorded: list[Delivery] = []
    for address, name in names.items():
        context = {
            "agent_name": name,
            "url": off.url,
            "reason": off.reason,
            "endpoint_id": str(off.endpoint_id),
            "last_error": last_error or "",
        }
        rendered = render(text, context, str(DEFAULT_LANGUAGE), emphasise=None)
        idempotency = f"{template.value}:{off.endpoint_id}:{off.disabled_at.isoformat()}:{address}"
        delivery = Delivery(
            id=delivery_id_for(idempotency),
            idempotency_key=idempotency,
            case_id=None,
            case_number=None,
            template=template,
            channel=channel,
            recipient=address,
            recipient_name=name or None,
            subject=rendered.subject or template.value,
            body_text=rendered.text,
            body_html=rendered.html,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=off.disabled_at,
            created_at=off.disabled_at,
            language=str(DEFAULT_LANGUAGE),
            register=Formality.INFORMAL,
            context=context,
        )
        if await uow.deliveries.add(delivery, trace_headers):
            recorded.append(delivery)
            log.info(
                "admin told of a disabled webhook endpoint",
                extra={"endpoint_id": str(off.endpoint_id), "to": address},
            )
    return recorded


# --- reading ---------------------------------------------------------------------------------


async def list_deliveries(
    uow: UnitOfWork,
    *,
    case_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[Delivery]:
    return await uow.deliveries.find(case_id=case_id, status=status, limit=limit)
