"""Contacts: record any interaction; complaints, claims and requests open or join a case."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from atiende_runtime.auth import Principal, require
from atiende_runtime.service import runtime_of

from ..domain.contacts import Outcome, RecordContact
from ..usecases import ContactRecorded, record_contact

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["contacts"])


class CaseLink(BaseModel):
    id: uuid.UUID
    number: str


class ContactOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    outcome: Outcome
    case: CaseLink | None


def contact_out(recorded: ContactRecorded) -> ContactOut:
    case = CaseLink(id=recorded.case.id, number=recorded.case.number) if recorded.case else None
    return ContactOut(
        id=recorded.contact_id,
        customer_id=recorded.customer_id,
        outcome=recorded.outcome,
        case=case,
    )


@router.post(
    "/contacts",
    status_code=201,
    response_model=ContactOut,
    summary="Record a contact; it opens a case, joins the customer's case about the same problem, "
    "or is only recorded (suggestions, compliments)",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def post_contact(
    command: RecordContact,
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
) -> ContactOut:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
    async with runtime.unit_of_work() as uow:
        recorded = await record_contact(
            uow,
            command,
            join_window=timedelta(days=settings.join_window_days),
            default_motive=settings.default_motive,
        )
    response.headers["Location"] = f"/contacts/{recorded.contact_id}"
    return contact_out(recorded)
