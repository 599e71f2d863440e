"""Contacts: record any interaction (complaints, claims and requests open or join a case;
suggestions and compliments are only recorded), read one, list them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from atiende_contracts import (
    Channel,
    ContactKind,
    Direction,
    LinkReason,
    MomentOfTruth,
    Severity,
)
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.idempotency import Answer, IdempotencyKey

from ... import usecases
from ...domain import contacts as domain
from ...domain.catalogue import CATALOGUE_CODE, Classification
from ...domain.contacts import (
    AGENT_ID_MAX_LENGTH,
    CASE_NUMBER_PATTERN,
    EXPECTATION_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Contact,
    Outcome,
)
from ...repository.contacts import ContactFilter
from ...repository.ports import UnitOfWork
from .deps import Runtime, transaction, unit_of_work
from .identities import CustomerRef
from .paging import DEFAULT_LIMIT, Page, PageCursor, PageLimit, PeriodQuery, invalid_query, page_of

router = APIRouter(tags=["contacts"])

READERS = ("agent", "supervisor", "intake")

MotiveQuery = Annotated[
    str | None, Query(pattern=CATALOGUE_CODE, description="Catalogue code of a motive")
]


def cause_needs_motive(cause: str | None, info: ValidationInfo) -> str | None:
    """Field validator for a `cause` declared after its `motive`: a cause only refines a motive.
    (A motive that failed its own validation is reported already, so it is not checked here.)"""
    if cause is not None and "motive" in info.data and info.data["motive"] is None:
        raise PydanticCustomError(
            "cause_needs_motive", "a cause is given only together with its motive"
        )
    return cause


def cause_needs_motive_schema(schema: dict[str, JsonValue]) -> None:
    """json_schema_extra stating cause_needs_motive in the document: a cause, then a motive."""
    schema["if"] = {"required": ["cause"], "properties": {"cause": {"type": "string"}}}
    schema["then"] = {"required": ["motive"], "properties": {"motive": {"type": "string"}}}


class Attachment(RequestModel):
    """An attachment's facts (its content is not stored)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=255)
    size: int = Field(ge=0)
    content_type: str = Field(default="application/octet-stream", max_length=255)


class RecordContact(RequestModel):
    """The command to record a contact, from any channel."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=cause_needs_motive_schema
    )

    customer: CustomerRef
    kind: ContactKind
    channel: Channel
    direction: Direction = Direction.INBOUND
    text: str = Field(
        min_length=1, max_length=TEXT_MAX_LENGTH, description="What the customer said"
    )
    expectation: str | None = Field(
        default=None,
        max_length=EXPECTATION_MAX_LENGTH,
        description='"What would solve this for you?"',
    )
    moment_of_truth: MomentOfTruth | None = None
    severity: Severity | None = None
    upset: bool = Field(default=False, description="The customer is upset: answer fast, escalate")
    motive: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    cause: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    touchpoint: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    product: str | None = Field(default=None, pattern=CATALOGUE_CODE)
    agent_id: str | None = Field(
        default=None, max_length=AGENT_ID_MAX_LENGTH, description="Who recorded it"
    )
    case_number: str | None = Field(
        default=None,
        pattern=f"^{CASE_NUMBER_PATTERN}$",
        description="The case this contact is about; it then always joins that case",
    )
    received_at: datetime | None = Field(default=None, description="Defaults to now")
    external_ref: str | None = Field(
        default=None, max_length=500, description="The channel's own id (an email's Message-ID)"
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @field_validator("received_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-11-24T10:00:00Z)")
        if value > datetime.now(UTC) + timedelta(minutes=5):
            raise PydanticCustomError("in_the_future", "a contact cannot be received in the future")
        return value

    @field_validator("cause")
    @classmethod
    def _cause_needs_motive(cls, cause: str | None, info: ValidationInfo) -> str | None:
        return cause_needs_motive(cause, info)

    @property
    def classification(self) -> Classification:
        return Classification(self.motive, self.cause, self.touchpoint, self.product)

    def command(self) -> domain.RecordContact:
        return domain.RecordContact(
            customer=self.customer.ref(),
            kind=self.kind,
            channel=self.channel,
            direction=self.direction,
            text=self.text,
            expectation=self.expectation,
            moment_of_truth=self.moment_of_truth,
            severity=self.severity,
            upset=self.upset,
            motive=self.motive,
            cause=self.cause,
            touchpoint=self.touchpoint,
            product=self.product,
            agent_id=self.agent_id,
            case_number=self.case_number,
            received_at=self.received_at,
            external_ref=self.external_ref,
            attachments=tuple(
                domain.Attachment(a.name, a.size, a.content_type) for a in self.attachments
            ),
        )


class CaseLink(BaseModel):
    id: uuid.UUID
    number: str


class ContactOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    case: CaseLink | None
    outcome: Outcome
    link_reason: LinkReason | None
    kind: ContactKind
    channel: Channel
    direction: Direction
    text: str
    expectation: str | None
    moment_of_truth: MomentOfTruth | None
    severity: Severity | None
    upset: bool
    motive: str | None
    cause: str | None
    touchpoint: str | None
    product: str | None
    agent_id: str | None
    external_ref: str | None
    attachments: list[Attachment]
    received_at: datetime
    created_at: datetime


def contact_out(contact: Contact) -> ContactOut:
    """A contact read with its case's number."""
    case = (
        CaseLink(id=contact.case_id, number=contact.case_number or "") if contact.case_id else None
    )
    fields = {
        name: getattr(contact, name)
        for name in ContactOut.model_fields
        if name not in {"case", "attachments"}
    }
    attachments = [
        Attachment(name=a.name, size=a.size, content_type=a.content_type)
        for a in contact.attachments
    ]
    return ContactOut(**fields, case=case, attachments=attachments)


def contact_position(contact: ContactOut) -> tuple[datetime, uuid.UUID]:
    return contact.received_at, contact.id


async def check_motive_exists(uow: UnitOfWork, motive: str | None) -> None:
    """A filter naming a motive the catalogue never had is a typo, not an empty result."""
    if motive is not None and not await usecases.motive_exists(uow, motive):
        raise invalid_query("motive", "unknown_code", f"no motive with code {motive!r}")


@router.post(
    "/contacts",
    status_code=201,
    response_model=ContactOut,
    summary="Record a contact; it opens a case, joins the customer's case about the same problem, "
    "or is only recorded (suggestions, compliments)",
    description="With an Idempotency-Key, a retry with the same body gets the first answer and "
    "records nothing more. A contact with an `external_ref` already recorded on its channel is "
    "that contact again (200).",
    responses={
        200: {"description": "Already recorded (same channel and external_ref)"},
        409: {"description": "The customer was erased (problem+json)"},
        422: {"description": "Invalid field, or Idempotency-Key reused (problem+json)"},
    },
)
async def post_contact(
    command: RecordContact,
    request: Request,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("agent", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            recorded = await usecases.record(
                uow, command.command(), runtime.settings, actor=actor_of(principal)
            )
            contact = contact_out(await usecases.get_contact(uow, recorded.contact_id))
            status = 200 if recorded.replayed else 201
            return Answer(status, contact, {"Location": f"/contacts/{contact.id}"})

        return await idempotency.once(tx.conn, request, idempotency_key, command, produce)


@router.get(
    "/contacts/{contact_id}",
    response_model=ContactOut,
    summary="One contact",
    responses={404: {"description": "Unknown contact (problem+json)"}},
)
async def get_contact(
    contact_id: uuid.UUID,
    runtime: Runtime,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> ContactOut:
    async with unit_of_work(runtime) as uow:
        return contact_out(await usecases.get_contact(uow, contact_id))


@router.get(
    "/contacts",
    response_model=Page[ContactOut],
    summary="Contacts, newest first, filtered and cursor-paged",
    responses={422: {"description": "Invalid filter or cursor (problem+json)"}},
)
async def list_contacts(
    runtime: Runtime,
    _: Annotated[Principal, Depends(require(*READERS))],
    period: PeriodQuery,
    cursor: PageCursor,
    customer_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    motive: MotiveQuery = None,
    channel: Channel | None = None,
    kind: ContactKind | None = None,
    limit: PageLimit = DEFAULT_LIMIT,
) -> Page[ContactOut]:
    where = ContactFilter(
        customer_id=customer_id,
        case_id=case_id,
        motive=motive,
        channel=channel,
        kind=kind,
        received_from=period.start,
        received_to=period.end,
    )
    after = (cursor.at, cursor.id) if cursor else None
    async with unit_of_work(runtime) as uow:
        await check_motive_exists(uow, motive)
        contacts = await usecases.search_contacts(uow, where, after, limit + 1)
    return page_of([contact_out(c) for c in contacts], limit, contact_position)
