"""Cases: open one directly, read one, list them, read a case's contacts (its history)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from atiende_contracts import CaseType, Channel, Severity
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import IdempotencyKey
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from ..domain.cases import OpenCase
from ..domain.contacts import CaseStatus
from ..repository.cases import CaseFilter, CasesRepository
from ..repository.contacts import ContactsRepository
from ..usecases import record_contact
from .contacts import (
    READERS,
    ContactOut,
    MotiveQuery,
    check_motive_exists,
    contact_out,
    contact_position,
)
from .paging import DEFAULT_LIMIT, Page, PageCursor, PageLimit, PeriodQuery, page_of

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
    touchpoint: str | None
    product: str | None
    severity: Severity | None
    upset: bool
    expectation: str | None
    status: CaseStatus
    status_changed_at: datetime | None
    opened_at: datetime


def case_out(row: Any) -> CaseOut:
    return CaseOut(**{name: row[name] for name in CaseOut.model_fields})


def case_position(case: CaseOut) -> tuple[datetime, uuid.UUID]:
    return case.opened_at, case.id


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Open a new case (never joins another); emits case.opened and contact.received",
    description="With an Idempotency-Key, a retry with the same body gets the first answer and "
    "opens nothing more.",
    responses={
        409: {"description": "The customer was erased (problem+json)"},
        422: {"description": "Invalid field, or Idempotency-Key reused (problem+json)"},
    },
)
async def open_case(
    command: OpenCase,
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> CaseOut | JSONResponse:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
    scope = "POST /cases"
    async with runtime.unit_of_work() as uow:
        if idempotency_key is not None:
            earlier = await idempotency.claim(
                uow.conn, scope, idempotency_key, idempotency.fingerprint(command)
            )
            if earlier is not None:
                return earlier.response()
        recorded = await record_contact(
            uow,
            command.as_contact(),
            join_window=timedelta(days=settings.join_window_days),
            default_motive=settings.default_motive,
            always_open=True,
        )
        assert recorded.case is not None  # always_open opens one
        case = case_out(await CasesRepository(uow.conn).get(recorded.case.id))
        headers = {"Location": f"/cases/{case.id}"}
        if idempotency_key is not None:
            await idempotency.remember(uow.conn, scope, idempotency_key, 201, case, headers)
    log.info("case opened", extra={"case_number": case.number})
    response.headers.update(headers)
    return case


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="One case",
    responses={404: {"description": "Unknown case (problem+json)"}},
)
async def get_case(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> CaseOut:
    current_case_id.set(str(case_id))
    async with runtime_of(request).pool.acquire() as conn:
        row = await CasesRepository(conn).get(case_id)
    if row is None:
        raise Problem(404, "Case not found", f"No case with id {case_id}")
    return case_out(row)


@router.get(
    "/cases",
    response_model=Page[CaseOut],
    summary="Cases, newest first, filtered and cursor-paged",
    responses={422: {"description": "Invalid filter or cursor (problem+json)"}},
)
async def list_cases(
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    period: PeriodQuery,
    cursor: PageCursor,
    customer_id: uuid.UUID | None = None,
    motive: MotiveQuery = None,
    channel: Channel | None = None,
    status: CaseStatus | None = None,
    type: CaseType | None = None,
    limit: PageLimit = DEFAULT_LIMIT,
) -> Page[CaseOut]:
    where = CaseFilter(
        customer_id=customer_id,
        motive=motive,
        channel=channel,
        status=status,
        type=type,
        opened_from=period.start,
        opened_to=period.end,
    )
    after = (cursor.at, cursor.id) if cursor else None
    async with runtime_of(request).pool.acquire() as conn:
        await check_motive_exists(conn, motive)
        rows = await CasesRepository(conn).search(where, after, limit + 1)
    return page_of([case_out(r) for r in rows], limit, case_position)


@router.get(
    "/cases/{case_id}/contacts",
    response_model=Page[ContactOut],
    summary="A case's contacts, oldest first: the whole story, whichever channel it came by",
    responses={
        404: {"description": "Unknown case (problem+json)"},
        422: {"description": "Invalid cursor (problem+json)"},
    },
)
async def list_case_contacts(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    cursor: PageCursor,
    limit: PageLimit = DEFAULT_LIMIT,
) -> Page[ContactOut]:
    current_case_id.set(str(case_id))
    after = (cursor.at, cursor.id) if cursor else None
    async with runtime_of(request).pool.acquire() as conn:
        if not await CasesRepository(conn).exists(case_id):
            raise Problem(404, "Case not found", f"No case with id {case_id}")
        rows = await ContactsRepository(conn).of_case(case_id, after, limit + 1)
    return page_of([contact_out(r) for r in rows], limit, contact_position)
