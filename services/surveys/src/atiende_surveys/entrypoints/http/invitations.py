"""The staff JSON API of survey invitations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from atiende_runtime.auth import Principal, require
from atiende_runtime.logs import current_case_id
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain import Invitation, InvitationStatus
from ...repository import PostgresUnitOfWork
from ...settings import SurveysSettings
from .deps import runtime

router = APIRouter(tags=["invitations"])


class InvitationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    status: InvitationStatus
    invited_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    satisfaction: int | None
    comment: str | None
    questionnaire_id: str
    questionnaire_version: int
    kind: str
    trigger: str
    customer_id: uuid.UUID | None
    agent_id: str | None
    team: str | None
    reminders: int
    answers: dict[str, int | str] | None
    scores: dict[str, float] | None


class InvitationList(BaseModel):
    items: list[InvitationOut]


def invitation_out(invitation: Invitation, now: datetime) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        case_id=invitation.case_id,
        case_number=invitation.case_number,
        status=invitation.status_at(now),
        invited_at=invitation.invited_at,
        expires_at=invitation.expires_at,
        answered_at=invitation.answered_at,
        satisfaction=int(csat) if (csat := (invitation.scores or {}).get("csat")) else None,
        comment=_comment(invitation),
        questionnaire_id=invitation.questionnaire_id,
        questionnaire_version=invitation.questionnaire_version,
        kind=invitation.kind,
        trigger=invitation.trigger,
        customer_id=invitation.customer_id,
        agent_id=invitation.agent_id,
        team=invitation.team,
        reminders=invitation.reminders,
        answers=invitation.answers,
        scores=invitation.scores,
    )


def _comment(invitation: Invitation) -> str | None:
    value = (invitation.answers or {}).get("comment")
    return value if isinstance(value, str) and value else None


@router.get(
    "/invitations",
    response_model=InvitationList,
    summary="A case's survey invitations, oldest first, with their status",
)
async def list_invitations(
    case_id: Annotated[uuid.UUID, Query(description="The case whose invitations to list")],
    rt: Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)],
    _: Annotated[Principal, Depends(require("supervisor", "agent"))],
) -> InvitationList:
    current_case_id.set(str(case_id))
    async with rt.unit_of_work() as tx:
        invitations = await usecases.invitations_of_case(PostgresUnitOfWork(tx), case_id)
    now = datetime.now(UTC)
    return InvitationList(items=[invitation_out(invitation, now) for invitation in invitations])
