"""What surveys does: remember a case's facts, invite its customer once it is resolved, show the
survey of a link and take its one answer. Each runs in the unit of work it is given and raises
domain errors only."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from atiende_contracts import SurveyInvited

from .domain import (
    CaseFacts,
    InvalidAnswer,
    Invitation,
    InvitationNotFound,
    InvitationStatus,
    hash_token,
    parse_answer,
    survey_url,
)
from .repository import UnitOfWork


async def remember_case(uow: UnitOfWork, case: CaseFacts) -> None:
    await uow.cases.remember(case)


async def invite_after_resolution(
    uow: UnitOfWork,
    *,
    case_id: uuid.UUID,
    case_number: str,
    now: datetime,
    ttl: timedelta,
    base_url: str,
) -> SurveyInvited | None:
    """Invite the customer of a resolved case to the survey; None when they already have an
    open one for it (a customer is never asked twice at the same time)."""
    current = await uow.invitations.pending_for_case_for_update(case_id)
    if current is not None:
        if current.status_at(now) is InvitationStatus.PENDING:
            return None
        await uow.invitations.save_status(current.expire(now))
    case = await uow.cases.get(case_id)
    language = case.language if case else None
    invitation, event = Invitation.invite(
        case_id=case_id,
        case_number=case_number,
        now=now,
        ttl=ttl,
        link=lambda token: survey_url(base_url, token, language),
    )
    if not await uow.invitations.add(invitation):
        return None  # a concurrent handler invited for this case first
    await uow.emit(event, subject=case_id)
    return event


async def show_survey(uow: UnitOfWork, token: str, now: datetime) -> Invitation:
    """The open invitation of a link. Raises InvitationNotFound, SurveyExpired or
    SurveyAlreadyAnswered."""
    invitation = await uow.invitations.by_token_hash(hash_token(token))
    if invitation is None:
        raise InvitationNotFound()
    invitation.check_open(now)
    return invitation


async def answer_survey(
    uow: UnitOfWork, token: str, satisfaction: str | None, comment: str | None, now: datetime
) -> Invitation:
    """Take the one answer of a link's survey and emit survey.answered; returns the answered
    invitation. Raises InvitationNotFound, SurveyExpired, SurveyAlreadyAnswered (a closed survey
    is reported before a bad field) or InvalidAnswer."""
    # the row lock makes a concurrent second answer wait, then find the survey answered
    invitation = await uow.invitations.by_token_hash(hash_token(token), for_update=True)
    if invitation is None:
        raise InvitationNotFound()
    invitation.check_open(now)
    try:
        answer = parse_answer(satisfaction, comment)
    except InvalidAnswer as invalid:
        raise invalid.in_case(invitation.case_id, invitation.case_number) from None
    answered, event = invitation.respond(answer, now)
    await uow.invitations.save_response(answered)
    await uow.emit(event, subject=invitation.case_id)
    return answered


async def invitations_of_case(uow: UnitOfWork, case_id: uuid.UUID) -> list[Invitation]:
    """A case's invitations, oldest first."""
    return await uow.invitations.for_case(case_id)
