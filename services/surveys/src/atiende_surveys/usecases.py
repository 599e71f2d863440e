"""What surveys does: remember cases and customers, schedule an invitation when a case is resolved
(or a sale completed), decide when it falls due (consent, opt-outs, once per case, the
contact-pressure budget), show and take answers, opt out, remind, expire, report. Each runs in the
unit of work it is given and raises domain errors only."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from atiende_contracts import CustomerSurveyOptOut, SurveyInvited, SurveySuppressed

from .domain import (
    ALL_KINDS,
    Audience,
    Campaign,
    CampaignNotFound,
    CaseFacts,
    Contact,
    CustomerFacts,
    InvalidAnswer,
    InvalidCampaign,
    Invitation,
    InvitationNotFound,
    InvitationStatus,
    PressurePolicy,
    Questionnaire,
    QuestionnaireNotFound,
    Segment,
    Summary,
    SuppressionReason,
    Trigger,
    hash_token,
    in_daytime,
    may_remind,
    summarise,
    why_not_invite,
    zone_of,
)
from .repository import Due, ResultFilter, Suppression, UnitOfWork


@dataclass(frozen=True)
class SurveyConfig:
    base_url: str
    ttl: timedelta = timedelta(days=14)
    pressure: PressurePolicy = field(default_factory=PressurePolicy)
    delay: timedelta = timedelta(0)
    daytime_start_hour: int = 0
    daytime_end_hour: int = 24
    default_zone: str = "Europe/Madrid"
    resolution_questionnaire: str = "csat"
    sale_questionnaire: str = "post_sale"


# --- what other services tell us ---------------------------------------------------------------


async def remember_case(
    uow: UnitOfWork, case: CaseFacts, consent_surveys: bool | None = None
) -> None:
    if await uow.customers.is_erased(case.customer_id):
        consent_surveys = False  # a copy older than the erasure: never survey them again
    await uow.cases.remember(case)
    await uow.customers.note(
        CustomerFacts(
            customer_id=case.customer_id,
            consent_surveys=consent_surveys,
            language=case.language,
            formality=case.formality,
        ),
        case.opened_at,
    )


async def note_customer(uow: UnitOfWork, customer: CustomerFacts, at: datetime) -> None:
    if await uow.customers.is_erased(customer.customer_id):
        customer = replace(customer, consent_surveys=False)
    await uow.customers.note(customer, at)


ERASABLE_FIELDS = frozenset({"comment", "answers", "draft", "survey_url", "opt_out_url", "url"})
"""Keys of surveys' events and stored responses that carry the customer's words or their
survey links: scrubbed in the outbox and Idempotency-Key rows about an erased customer."""


async def customer_erased(
    uow: UnitOfWork, customer_id: uuid.UUID, case_ids: Sequence[uuid.UUID], at: datetime
) -> int:
    """Intake erased the customer: their comments and free-text answers read ERASED, their
    survey links stop working, and they are never surveyed again. Scores, statuses and counts
    stay. Returns how many invitations were scrubbed."""
    await uow.customers.forget(customer_id, at)
    invitations = await uow.invitations.of_customer(customer_id, case_ids)
    for invitation in invitations:
        await uow.invitations.save_erased(invitation.erased())
    await uow.scrub_copies(subjects=[customer_id, *case_ids], values=(), free_text=ERASABLE_FIELDS)
    return len(invitations)


async def case_reopened(uow: UnitOfWork, case_id: uuid.UUID) -> None:
    await uow.cases.set_open(case_id, True)


async def case_closed(uow: UnitOfWork, case_id: uuid.UUID) -> None:
    await uow.cases.set_open(case_id, False)


async def case_resolved(
    uow: UnitOfWork,
    *,
    case_id: uuid.UUID,
    case_number: str,
    now: datetime,
    config: SurveyConfig,
    agent_id: str | None = None,
    team: str | None = None,
    trigger: Trigger = Trigger.RESOLUTION,
) -> Due:
    """Schedule the survey of a resolved case: after the delay, in the customer's daytime. Whether
    it is sent is decided when it falls due (the facts may change until then)."""
    await uow.cases.set_open(case_id, False, agent_id=agent_id, team=team)
    case = await uow.cases.get(case_id)
    zone = zone_of(case.region if case else None, config.default_zone)
    due = Due(
        id=uuid.uuid4(),
        case_id=case_id,
        case_number=case_number,
        customer_id=case.customer_id if case else None,
        trigger=trigger.value,
        questionnaire_id=config.resolution_questionnaire,
        agent_id=agent_id,
        team=team,
        due_at=in_daytime(
            now + config.delay, zone, config.daytime_start_hour, config.daytime_end_hour
        ),
    )
    await uow.schedule.add(due)
    return due


async def sale_completed(
    uow: UnitOfWork,
    *,
    sale_id: uuid.UUID,
    customer_id: uuid.UUID,
    case_id: uuid.UUID | None,
    case_number: str | None,
    now: datetime,
    config: SurveyConfig,
) -> Due:
    """Schedule the post-sale follow-up. Without a case, the sale stands in for one (its id and
    a "sale" number), so every later step and event has its subject."""
    due = Due(
        id=uuid.uuid4(),
        case_id=case_id or sale_id,
        case_number=case_number or f"sale-{str(sale_id)[:8]}",
        customer_id=customer_id,
        trigger=Trigger.SALE.value,
        questionnaire_id=config.sale_questionnaire,
        agent_id=None,
        team=None,
        due_at=in_daytime(
            now + config.delay,
            zone_of(None, config.default_zone),
            config.daytime_start_hour,
            config.daytime_end_hour,
        ),
    )
    await uow.schedule.add(due)
    return due


async def start_campaign(
    uow: UnitOfWork,
    *,
    questionnaire_id: str,
    segment: Segment,
    send_from: datetime,
    send_until: datetime,
    now: datetime,
    config: SurveyConfig,
    actor: str | None = None,
) -> Campaign:
    """The periodic survey of a segment: one scheduled invitation per matching customer, due at
    the window's start (or now), in daytime. Each is decided like any other when it falls due
    (consent, opt-outs, open complaints, the budget: suppressions recorded with reasons), and
    suppressed once the window has closed. Raises InvalidCampaign."""
    if await uow.questionnaires.latest(questionnaire_id) is None:
        raise InvalidCampaign.field(
            "questionnaire_id", "exists", f"no questionnaire {questionnaire_id!r}"
        )
    planned = Campaign.plan(
        questionnaire_id=questionnaire_id,
        segment=segment,
        send_from=send_from,
        send_until=send_until,
        now=now,
    )
    customers = await uow.customers.in_segment(segment, now)
    campaign = replace(planned, scheduled=len(customers), created_by=actor)
    await uow.campaigns.add(campaign)
    due_at = in_daytime(
        max(send_from, now),
        zone_of(None, config.default_zone),
        config.daytime_start_hour,
        config.daytime_end_hour,
    )
    for customer_id in customers:
        case_id, case_number = campaign.subject_of(customer_id)
        await uow.schedule.add(
            Due(
                id=uuid.uuid4(),
                case_id=case_id,
                case_number=case_number,
                customer_id=customer_id,
                trigger=Trigger.PERIODIC.value,
                questionnaire_id=questionnaire_id,
                agent_id=None,
                team=None,
                due_at=due_at,
                campaign_id=campaign.id,
                not_after=send_until,
            )
        )
    return campaign


async def campaign_by_id(uow: UnitOfWork, campaign_id: uuid.UUID) -> Campaign:
    found = await uow.campaigns.get(campaign_id)
    if found is None:
        raise CampaignNotFound()
    return found


# --- deciding a due invitation ------------------------------------------------------------------


async def send_due(uow: UnitOfWork, now: datetime, config: SurveyConfig, limit: int = 50) -> int:
    """Decide every due invitation (claimed with SKIP LOCKED): invite, or record why not."""
    claimed = await uow.schedule.claim_due(now, limit)
    for due in claimed:
        await invite(uow, due, now, config)
        await uow.schedule.done(due.id, now)
    return len(claimed)


async def _suppress(
    uow: UnitOfWork, due: Due, reason: SuppressionReason, detail: str, now: datetime
) -> None:
    suppression = Suppression(
        id=uuid.uuid4(),
        customer_id=due.customer_id,
        case_id=due.case_id,
        questionnaire_id=due.questionnaire_id,
        trigger=due.trigger,
        reason=reason.value,
        detail=detail,
        suppressed_at=now,
    )
    await uow.suppressions.add(suppression)
    await uow.emit(
        SurveySuppressed(
            suppression_id=suppression.id,
            customer_id=due.customer_id,
            case_id=due.case_id,
            questionnaire_id=due.questionnaire_id,
            trigger=due.trigger,
            reason=reason.value,
            detail=detail,
            suppressed_at=now,
        ),
        subject=due.case_id,
    )


async def invite(
    uow: UnitOfWork, due: Due, now: datetime, config: SurveyConfig
) -> SurveyInvited | None:
    """Invite now, or record the suppression and its reason; None when suppressed."""
    if due.not_after is not None and now > due.not_after:
        await _suppress(
            uow,
            due,
            SuppressionReason.WINDOW_CLOSED,
            f"the send window closed at {due.not_after.isoformat()}",
            now,
        )
        return None
    case = await uow.cases.get(due.case_id)
    # a case surveys never saw opened (events from before it ran) is still surveyed, without
    # the per-customer checks it cannot make
    customer_id = due.customer_id or (case.customer_id if case else None)
    questionnaire = await uow.questionnaires.latest(due.questionnaire_id)
    if questionnaire is None:
        raise QuestionnaireNotFound(due.questionnaire_id)
    customer = await uow.customers.get(customer_id) if customer_id else None
    per_case = due.trigger in (Trigger.RESOLUTION, Trigger.CLOSURE)
    audience = Audience(
        consent=customer.consent_surveys if customer else None,
        opt_outs=customer.opt_outs if customer else frozenset(),
        contacts=await uow.customers.contacts(customer_id) if customer_id else [],
        case_already_surveyed=per_case and await uow.invitations.exists_for_case(due.case_id),
        open_complaint=customer_id is not None
        and await uow.cases.has_other_open_complaint(customer_id, due.case_id),
        test_case=case.test if case else False,
    )
    verdict = why_not_invite(
        config.pressure, audience, questionnaire.kind.value, now, verification=False
    )
    if verdict is not None:
        await _suppress(uow, due, verdict[0], verdict[1], now)
        return None
    language = (customer.language if customer else None) or (case.language if case else "es")
    invitation, token = Invitation.issue(
        case_id=due.case_id,
        case_number=due.case_number,
        now=now,
        ttl=config.ttl,
        questionnaire=questionnaire,
        customer_id=customer_id,
        language=language if language in ("es", "en") else "es",
        formality=(customer.formality if customer else None) or (case.formality if case else None),
        trigger=due.trigger,
        agent_id=due.agent_id or (case.agent_id if case else None),
        team=due.team or (case.team if case else None),
    )
    if not await uow.invitations.add(invitation):
        await _suppress(
            uow, due, SuppressionReason.CASE_ALREADY_SURVEYED, "one survey per case", now
        )
        return None
    if customer_id is not None:
        await uow.customers.add_contact(customer_id, invitation.id, Contact(at=now))
    links = invitation.links(config.base_url, token)
    event = invitation.invited_event(links.survey, questionnaire=questionnaire, links=links)
    await uow.emit(event, subject=due.case_id)
    return event


async def remind_and_expire(
    uow: UnitOfWork, now: datetime, config: SurveyConfig, limit: int = 50
) -> int:
    """Expire overdue invitations (survey.expired); send the one reminder where the budget
    allows it (survey.reminded; a reminder is a contact and counts). The reminder carries a
    link of its own (a fresh token, only its hash stored, for the same invitation): tokens are
    never stored, so the invitation's link cannot be sent again."""
    handled = 0
    for invitation in await uow.invitations.overdue(now, limit):
        expired, event = invitation.expire(now)
        await uow.invitations.save_status(expired)
        await uow.emit(event, subject=invitation.case_id)
        handled += 1
    policy = config.pressure
    for invitation in await uow.invitations.to_remind(
        now - timedelta(days=policy.reminder_after_days), limit
    ):
        handled += 1
        if invitation.customer_id is None:
            continue
        customer = await uow.customers.get(invitation.customer_id)
        contacts = await uow.customers.contacts(invitation.customer_id)
        opt_outs = customer.opt_outs if customer else frozenset()
        if not may_remind(
            policy,
            invited_at=invitation.invited_at,
            reminders_sent=invitation.reminders,
            contacts=contacts,
            consent=customer.consent_surveys if customer else None,
            opted_out=ALL_KINDS in opt_outs or invitation.kind in opt_outs,
            now=now,
        ):
            # no reminder will ever fit better: mark it as done so it is not looked at again
            await uow.invitations.save_status(invitation.remind())
            continue
        reminded, token = invitation.remind_with_link()
        await uow.invitations.save_status(reminded)
        await uow.customers.add_contact(
            invitation.customer_id, invitation.id, Contact(at=now, reminder=True)
        )
        await uow.emit(
            invitation.reminded_event(invitation.links(config.base_url, token).survey, now),
            subject=invitation.case_id,
        )
    return handled


# --- answering ----------------------------------------------------------------------------------


async def _open(
    uow: UnitOfWork, token: str, now: datetime, *, for_update: bool = False
) -> tuple[Invitation, Questionnaire]:
    invitation = await uow.invitations.by_token_hash(hash_token(token), for_update=for_update)
    if invitation is None:
        raise InvitationNotFound()
    questionnaire = await uow.questionnaires.version(
        invitation.questionnaire_id, invitation.questionnaire_version
    )
    if questionnaire is None:
        raise InvitationNotFound()  # never tell more than "this link opens nothing"
    return invitation, questionnaire


async def show_survey(
    uow: UnitOfWork, token: str, now: datetime
) -> tuple[Invitation, Questionnaire]:
    """The open invitation of a link and its questionnaire. Raises InvitationNotFound,
    SurveyExpired or SurveyAlreadyAnswered."""
    invitation, questionnaire = await _open(uow, token, now)
    invitation.check_open(now)
    return invitation, questionnaire


async def save_draft(
    uow: UnitOfWork, token: str, fields: Mapping[str, str], now: datetime
) -> Invitation:
    """Keep partial answers (each one valid) without answering. Raises as answer_survey."""
    invitation, questionnaire = await _open(uow, token, now, for_update=True)
    invitation.check_open(now)
    try:
        answers = questionnaire.parse(fields, complete=False)
    except InvalidAnswer as invalid:
        raise invalid.in_case(invitation.case_id, invitation.case_number) from None
    saved = invitation.save_draft(answers, now)
    await uow.invitations.save_status(saved)
    return saved


async def answer_survey(
    uow: UnitOfWork, token: str, fields: Mapping[str, str], now: datetime
) -> Invitation:
    """Take the one final answer of a link's survey (the saved draft completed by `fields`),
    emit survey.answered and, for a detractor, survey.detractor. Raises InvitationNotFound,
    SurveyExpired, SurveyAlreadyAnswered (a closed survey is reported before a bad field) or
    InvalidAnswer (nothing is stored then)."""
    # the row lock makes a concurrent second answer wait, then find the survey answered
    invitation, questionnaire = await _open(uow, token, now, for_update=True)
    invitation.check_open(now)
    merged = {key: str(value) for key, value in invitation.draft.items()}
    merged.update({key: value for key, value in fields.items() if value.strip()})
    for key, value in fields.items():  # a field the form sent but left empty is unanswered
        if not value.strip():
            merged.pop(key, None)
    try:
        answers = questionnaire.parse(merged, complete=True)
    except InvalidAnswer as invalid:
        raise invalid.in_case(invitation.case_id, invitation.case_number) from None
    answered, event, detractor = invitation.respond(questionnaire, answers, now)
    await uow.invitations.save_response(answered)
    if event is not None:
        await uow.emit(event, subject=invitation.case_id)
    if detractor is not None:
        await uow.emit(detractor, subject=invitation.case_id)
    return answered


async def opt_out(uow: UnitOfWork, token: str, scope: str, now: datetime) -> tuple[Invitation, str]:
    """Decline this survey and opt out of its kind ("kind") or of every survey ("all"), without
    login: the link's token is the credential. Works on an answered or expired survey too."""
    invitation, _ = await _open(uow, token, now, for_update=True)
    declined, event = invitation.decline(now)
    if event is not None:
        await uow.invitations.save_status(declined)
        await uow.emit(event, subject=invitation.case_id)
    opted = ALL_KINDS if scope == ALL_KINDS else invitation.kind
    if invitation.customer_id is not None and await uow.customers.opt_out(
        invitation.customer_id, opted, now
    ):
        await uow.emit(
            CustomerSurveyOptOut(customer_id=invitation.customer_id, scope=opted, opted_out_at=now),
            subject=invitation.customer_id,
        )
    return declined, opted


# --- reading ------------------------------------------------------------------------------------


async def invitations_of_case(uow: UnitOfWork, case_id: uuid.UUID) -> list[Invitation]:
    """A case's invitations, oldest first."""
    return await uow.invitations.for_case(case_id)


async def results(uow: UnitOfWork, where: ResultFilter) -> tuple[list[Invitation], Summary]:
    answered = await uow.invitations.answered(where)
    return answered, summarise(i.scores or {} for i in answered)


async def suppressions(
    uow: UnitOfWork, *, customer_id: uuid.UUID | None, case_id: uuid.UUID | None
) -> list[Suppression]:
    return await uow.suppressions.list(customer_id=customer_id, case_id=case_id)


async def questionnaire(uow: UnitOfWork, questionnaire_id: str) -> Questionnaire:
    found = await uow.questionnaires.latest(questionnaire_id)
    if found is None:
        raise QuestionnaireNotFound(questionnaire_id)
    return found


async def questionnaire_ids(uow: UnitOfWork) -> list[str]:
    return await uow.questionnaires.ids()


async def publish_questionnaire(
    uow: UnitOfWork, draft: Questionnaire, *, actor: str | None = None
) -> Questionnaire:
    """Store a new version (one above the newest); invitations keep the version they were sent
    with."""
    current = await uow.questionnaires.latest(draft.id)
    version = (current.version + 1) if current else 1
    published = Questionnaire(
        id=draft.id,
        version=version,
        kind=draft.kind,
        title=draft.title,
        questions=draft.questions,
        intro=draft.intro,
        gap_threshold=draft.gap_threshold,
    )
    await uow.questionnaires.add(published, actor)
    return published


__all__ = ["InvitationStatus", "SurveyConfig"]
