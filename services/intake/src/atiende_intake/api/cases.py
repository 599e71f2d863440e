"""Cases: open one directly, read one."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from atiende_contracts import CaseType, Channel, ContactKind
from atiende_runtime.auth import Principal, require
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from ..domain.cases import OpenCase
from ..domain.contacts import RecordContact
from ..domain.customers import CustomerRef
from ..repository.cases import CasesRepository
from ..usecases import record_contact

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["cases"])
log = logging.getLogger(__name__)


class CaseOut(BaseModel):
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str | None
    type: CaseType
    channel: Channel
    description: str
    motive: str
    cause: str | None
    status: str
    opened_at: datetime


def case_out(row: Any) -> CaseOut:
    return CaseOut(**{name: row[name] for name in CaseOut.model_fields})


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Open a new case (never joins another); emits case.opened and contact.received",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def open_case(
    command: OpenCase,
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
) -> CaseOut:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
    contact = RecordContact(
        customer=CustomerRef(name=command.customer.name, email=str(command.customer.email)),
        kind=ContactKind(command.type.value),
        channel=command.channel,
        text=command.description,
        motive=command.motive,
        cause=command.cause,
    )
    async with runtime.unit_of_work() as uow:
        recorded = await record_contact(
            uow,
            contact,
            join_window=timedelta(days=settings.join_window_days),
            default_motive=settings.default_motive,
            always_open=True,
        )
        assert recorded.case is not None
        row = await CasesRepository(uow.conn).get(recorded.case.id)
    log.info("case opened", extra={"case_number": recorded.case.number})
    response.headers["Location"] = f"/cases/{recorded.case.id}"
    return case_out(row)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case")
async def get_case(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require("agent", "intake", "supervisor"))],
) -> CaseOut:
    async with runtime_of(request).pool.acquire() as conn:
        row = await CasesRepository(conn).get(case_id)
    if row is None:
        raise Problem(404, "Case not found", f"No case with id {case_id}")
    return case_out(row)
