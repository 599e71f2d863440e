"""Intake's HTTP routes: thin, they validate, call the domain and the repository, and commit."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from atiende_contracts import CaseType, Channel
from atiende_runtime.auth import Principal, require
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from .domain import Case, OpenCase, case_number
from .repository import IntakeRepository

router = APIRouter(tags=["cases"])
log = logging.getLogger(__name__)


class CaseOut(BaseModel):
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime


def _out(row: Any) -> CaseOut:
    return CaseOut(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        customer_email=row["customer_email"],
        type=row["type"],
        channel=row["channel"],
        description=row["description"],
        opened_at=row["opened_at"],
    )


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Open a case; emits case.opened",
    responses={422: {"description": "Invalid field (problem+json)"}},
)
async def open_case(
    command: OpenCase,
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
) -> CaseOut:
    runtime = runtime_of(request)
    now = datetime.now(UTC)
    async with runtime.unit_of_work() as uow:
        repo = IntakeRepository(uow.conn)
        customer_id = await repo.upsert_customer(command.customer.name, str(command.customer.email))
        case = Case(
            id=uuid.uuid4(),
            number=case_number(now.year, await repo.next_case_sequence(now.year)),
            customer_id=customer_id,
            customer_name=command.customer.name,
            customer_email=str(command.customer.email).lower(),
            type=command.type,
            channel=command.channel,
            description=command.description,
            opened_at=now,
        )
        current_case_id.set(str(case.id))
        await repo.insert_case(case)
        await uow.emit(case.opened_event(), subject=case.id)
    log.info("case opened", extra={"case_number": case.number, "case_type": case.type.value})
    response.headers["Location"] = f"/cases/{case.id}"
    return CaseOut(**case.__dict__)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case")
async def get_case(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require("agent", "intake", "supervisor"))],
) -> CaseOut:
    async with runtime_of(request).pool.acquire() as conn:
        row = await IntakeRepository(conn).get_case(case_id)
    if row is None:
        raise Problem(404, "Case not found", f"No case with id {case_id}")
    return _out(row)
