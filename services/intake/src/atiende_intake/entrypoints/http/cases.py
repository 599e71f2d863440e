"""Cases: open one directly, read one, list them, read a case's contacts (its history); triage
them — reclassify (PATCH, with If-Match), split a contact off into a new case, merge two cases
of one customer."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atiende_contracts import CaseType, Channel, ContactKind, MomentOfTruth, Severity
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem

from ... import usecases
from ...domain.cases import Case, Reclassification
from ...domain.catalogue import CATALOGUE_CODE
from ...domain.contacts import (
    AGENT_ID_MAX_LENGTH,
    EXPECTATION_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    CaseStatus,
)
from ...domain.errors import StaleCase
from ...repository.cases import CaseFilter
from .contacts import (
    READERS,
    ContactOut,
    MotiveQuery,
    RecordContact,
    cause_needs_motive,
    cause_needs_motive_schema,
    check_motive_exists,
    contact_out,
    contact_position,
)
from .deps import Runtime, transaction, unit_of_work
from .identities import CustomerRef, refuse_null, without_null
from .paging import DEFAULT_LIMIT, Page, PageCursor, PageLimit, PeriodQuery, page_of

router = APIRouter(tags=["cases"])
log = logging.getLogger(__name__)


class OpenCase(RequestModel):
    """The command to open a case directly (an agent's decision: it never joins another case;
    use POST /contacts for a contact that should join the customer's open case). The contact
    it comes from is recorded with it."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=cause_needs_motive_schema
    )

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
    version: int = Field(description="Changes with every triage change; the ETag")
    merged_into: uuid.UUID | None = Field(description="The case this one was merged into")
    related_case_id: uuid.UUID | None = Field(description="The case this one was split from")


def case_out(case: Case) -> CaseOut:
    return CaseOut(**{name: getattr(case, name) for name in CaseOut.model_fields})


def etag(case: Case | CaseOut) -> str:
    return f'"{case.version}"'


def with_etag(case: Case, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        case_out(case).model_dump(mode="json"), status_code, headers={"ETag": etag(case)}
    )


def expected_version(if_match: str | None, *, required: bool) -> int | None:
    """The version an If-Match names; 428 when it is required and missing, 412 when it is not
    one of our ETags (it can then match no version)."""
    if if_match is None or not if_match.strip():
        if required:
            raise Problem(
                428,
                "Precondition Required",
                "Send If-Match with the ETag of GET /cases/{id}, so a change made meanwhile "
                "is not overwritten",
            )
        return None
    value = if_match.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Problem(412, "Precondition Failed", f"If-Match {if_match!r} matches no version")
    return int(value)


def stale(exc: StaleCase) -> Problem:
    return Problem(
        412, "Precondition Failed", exc.message, extensions={"current_version": exc.current}
    )


class CaseReclassification(RequestModel):
    """PATCH /cases/{id}: only the fields sent change; null empties an optional code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="Why (kept on the event)")
    type: CaseType | None = Field(default=None, json_schema_extra=without_null)
    motive: str | None = Field(default=None, json_schema_extra=without_null, pattern=CATALOGUE_CODE)
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    touchpoint: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    product: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    severity: Severity | None = None
    upset: bool | None = Field(default=None, json_schema_extra=without_null)

    @field_validator("type", "motive", "upset")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def change(self) -> Reclassification:
        sent = self.model_dump(exclude_unset=True, exclude={"reason"})
        cleared = frozenset(name for name, value in sent.items() if value is None)
        kept = {name: value for name, value in sent.items() if value is not None}
        return Reclassification(**kept, clear=cleared)


class SplitIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)
    motive: str | None = Field(
        default=None,
        pattern=CATALOGUE_CODE,
        description="The new case's motive; defaults to the contact's, else the default motive",
    )


class SplitOut(BaseModel):
    case: CaseOut = Field(description="The new case")
    from_case: CaseOut


class CaseMergeIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    into_case_id: uuid.UUID = Field(description="The case that absorbs this one")
    reason: str = Field(min_length=1, max_length=500)


class CaseMergeOut(BaseModel):
    absorbed: CaseOut
    into: CaseOut
    moved_contact_ids: list[uuid.UUID]


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
    principal: Annotated[Principal, Depends(require("agent", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    opened: list[str] = []  # the number of the case this request opened (none when replayed)
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            case = case_out(
                await usecases.open_case(
                    uow,
                    command.as_contact().command(),
                    runtime.settings,
                    actor=actor_of(principal),
                )
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
    description="The ETag header is the case's version: send it back as If-Match to change it.",
    responses={404: {"description": "Unknown case (problem+json)"}},
)
async def get_case(
    case_id: uuid.UUID,
    runtime: Runtime,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> JSONResponse:
    current_case_id.set(str(case_id))
    async with unit_of_work(runtime) as uow:
        return with_etag(await usecases.get_case(uow, case_id))


@router.patch(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="Reclassify a case (type, motive, cause, touchpoint, product, severity, upset), with "
    "a reason; emits case.reclassified with before and after (routing re-routes on it)",
    description="Requires If-Match with the case's ETag (from GET /cases/{id}).",
    responses={
        404: {"description": "Unknown case (problem+json)"},
        409: {"description": "The case was merged into another (problem+json)"},
        412: {"description": "The case changed since its ETag was read (problem+json)"},
        422: {"description": "Invalid field, unknown or inactive code (problem+json)"},
        428: {"description": "If-Match missing (problem+json)"},
    },
    # If-Match is required, but its absence is a 428 (RFC 6585), not FastAPI's 422: the code
    # reads it as optional and the document states it as required
    openapi_extra={
        "parameters": [
            {
                "name": "If-Match",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "The ETag of GET /cases/{case_id}",
            }
        ]
    },
)
async def reclassify_case(
    case_id: uuid.UUID,
    body: CaseReclassification,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("agent", "supervisor"))],
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    current_case_id.set(str(case_id))
    version = expected_version(if_match, required=True)
    try:
        async with unit_of_work(runtime) as uow:
            case = await usecases.reclassify_case(
                uow,
                case_id,
                body.change(),
                reason=body.reason,
                actor=actor_of(principal),
                expected_version=version,
            )
    except StaleCase as exc:
        raise stale(exc) from exc
    log.info("case reclassified", extra={"case_number": case.number})
    return with_etag(case)


@router.post(
    "/cases/{case_id}/contacts/{contact_id}/split",
    status_code=201,
    response_model=SplitOut,
    summary="Split a contact off a case into a new case of its own (related to this one); emits "
    "case.opened with related_case_id",
    responses={
        404: {"description": "Unknown case, or the contact is not on it (problem+json)"},
        409: {"description": "The contact is the case's only one (problem+json)"},
        412: {"description": "If-Match given and the case changed since (problem+json)"},
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def split_contact(
    case_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: SplitIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("agent", "supervisor"))],
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    version = expected_version(if_match, required=False)
    try:
        async with unit_of_work(runtime) as uow:
            split = await usecases.split_contact(
                uow,
                case_id,
                contact_id,
                reason=body.reason,
                motive=body.motive,
                actor=actor_of(principal),
                expected_version=version,
                default_motive=runtime.settings.default_motive,
            )
    except StaleCase as exc:
        raise stale(exc) from exc
    log.info(
        "contact split off",
        extra={"case_number": split.case.number, "from_case_number": split.from_case.number,
               "reason": body.reason},
    )  # fmt: skip
    out = SplitOut(case=case_out(split.case), from_case=case_out(split.from_case))
    return JSONResponse(
        out.model_dump(mode="json"), 201, headers={"Location": f"/cases/{split.case.id}"}
    )


@router.post(
    "/cases/{case_id}/merge",
    response_model=CaseMergeOut,
    summary="Merge this case into another case of the same customer: its contacts move there "
    "and it is closed as merged; emits case.merged",
    responses={
        404: {"description": "Unknown case (problem+json)"},
        409: {"description": "Same case, another customer's, or already merged (problem+json)"},
        412: {"description": "If-Match given and this case changed since (problem+json)"},
        422: {"description": "Invalid field, e.g. an unknown into_case_id (problem+json)"},
    },
)
async def merge_cases(
    case_id: uuid.UUID,
    body: CaseMergeIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("agent", "supervisor"))],
    if_match: Annotated[str | None, Header()] = None,
) -> CaseMergeOut:
    version = expected_version(if_match, required=False)
    try:
        async with unit_of_work(runtime) as uow:
            merged = await usecases.merge_cases(
                uow,
                case_id,
                body.into_case_id,
                reason=body.reason,
                actor=actor_of(principal),
                expected_version=version,
            )
    except StaleCase as exc:
        raise stale(exc) from exc
    log.info(
        "cases merged",
        extra={"case_number": merged.absorbed.number, "into": merged.into.number},
    )
    return CaseMergeOut(
        absorbed=case_out(merged.absorbed),
        into=case_out(merged.into),
        moved_contact_ids=merged.moved_contact_ids,
    )


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
