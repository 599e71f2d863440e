"""Cases: open one directly, read one, list them, read a case's contacts (its history)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atiende_contracts import CaseType, Channel, ContactKind, MomentOfTruth, Severity
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.logs import current_case_id

from ... import usecases
from ...domain.cases import Case
from ...domain.catalogue import CATALOGUE_CODE
from ...domain.contacts import (
    AGENT_ID_MAX_LENGTH,
    EXPECTATION_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    CaseStatus,
)
from ...repository.cases import CaseFilter
from .contacts import (
    READERS,
    ContactOut,
    MotiveQuery,
    RecordContact,
    cause_needs_motive,
    check_motive_exists,
    contact_out,
    contact_position,
)
from .deps import Runtime, transaction, unit_of_work
from .identities import CustomerRef
from .paging import DEFAULT_LIMIT, Page, PageCursor, PageLimit, PeriodQuery, page_of

router = APIRouter(tags=["cases"])
log = logging.getLogger(__name__)


class OpenCase(BaseModel):
    """The command to open a case directly (an agent's decision: it never joins another case;
    use POST /contacts for a contact that should join the customer's open case). The contact
    it comes from is recorded with it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: CustomerRef
    type: CaseType
    channel: Channel
    description: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH)
    motive: str | None = Field(
        default=None,
        pattern=CATALOGUE_CODE,
        description="Defaults to the configured default motive",
    )
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    touchpoint: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    product: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = False
    expectation: str | None = Field(default=None, max_length=EXPECTATION_MAX_LENGTH)
    agent_id: str | None = Field(default=None, max_length=AGENT_ID_MAX_LENGTH)

    # the same rule as RecordContact's, checked here so that as_contact() cannot fail
    @field_validator("cause")
    @classmethod
    def _cause_needs_motive(cls, cause: str | None, info: ValidationInfo) -> str | None:
        return cause_needs_motive(cause, info)

    def as_contact(self) -> RecordContact:
        """The contact this case is opened for (every field was validated as RecordContact
        would validate it)."""
        return RecordContact(
            customer=self.customer,
            kind=ContactKind(self.type.value),
            channel=self.channel,
            text=self.description,
            motive=self.motive,
            cause=self.cause,
            touchpoint=self.touchpoint,
            product=self.product,
            moment_of_truth=self.moment_of_truth,
            severity=self.severity,
            upset=self.upset,
            expectation=self.expectation,
            agent_id=self.agent_id,
        )


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


def case_out(case: Case) -> CaseOut:
    return CaseOut(**{name: getattr(case, name) for name in CaseOut.model_fields})


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
    runtime: Runtime,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    opened: list[str] = []  # the number of the case this request opened (none when replayed)
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            case = case_out(
                await usecases.open_case(uow, command.as_contact().command(), runtime.settings)
            )
            opened.append(case.number)
            return Answer(201, case, {"Location": f"/cases/{case.id}"})

        answer = await idempotency.once(tx.conn, request, idempotency_key, command, produce)
    for number in opened:
        log.info("case opened", extra={"case_number": number})
    return answer


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="One case",
    responses={404: {"description": "Unknown case (problem+json)"}},
)
async def get_case(
    case_id: uuid.UUID,
    runtime: Runtime,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> CaseOut:
    current_case_id.set(str(case_id))
    async with unit_of_work(runtime) as uow:
        return case_out(await usecases.get_case(uow, case_id))


@router.get(
    "/cases",
    response_model=Page[CaseOut],
    summary="Cases, newest first, filtered and cursor-paged",
    responses={422: {"description": "Invalid filter or cursor (problem+json)"}},
)
async def list_cases(
    runtime: Runtime,
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
    async with unit_of_work(runtime) as uow:
        await check_motive_exists(uow, motive)
        cases = await usecases.search_cases(uow, where, after, limit + 1)
    return page_of([case_out(c) for c in cases], limit, case_position)


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
    runtime: Runtime,
    _: Annotated[Principal, Depends(require(*READERS))],
    cursor: PageCursor,
    limit: PageLimit = DEFAULT_LIMIT,
) -> Page[ContactOut]:
    current_case_id.set(str(case_id))
    after = (cursor.at, cursor.id) if cursor else None
    async with unit_of_work(runtime) as uow:
        contacts = await usecases.case_contacts(uow, case_id, after, limit + 1)
    return page_of([contact_out(c) for c in contacts], limit, contact_position)
