"""Contacts: record any interaction (complaints, claims and requests open or join a case;
suggestions and compliments are only recorded), read one, list them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from atiende_contracts import (
    CatalogueKind,
    Channel,
    ContactKind,
    Direction,
    LinkReason,
    MomentOfTruth,
    Severity,
)
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.db import Connection
from atiende_runtime.idempotency import IdempotencyKey
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from ..domain.contacts import CATALOGUE_CODE, Attachment, Outcome, RecordContact
from ..repository.catalogue import CatalogueRepository
from ..repository.contacts import ContactFilter, ContactsRepository
from ..usecases import record_contact
from .paging import DEFAULT_LIMIT, Page, PageCursor, PageLimit, PeriodQuery, invalid_query, page_of

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["contacts"])

READERS = ("agent", "supervisor", "intake")

MotiveQuery = Annotated[
    str | None, Query(pattern=CATALOGUE_CODE, description="Catalogue code of a motive")
]


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


def contact_out(row: Any) -> ContactOut:
    """A contacts row read with its case's number (ContactsRepository.get/search/of_case)."""
    case = CaseLink(id=row["case_id"], number=row["case_number"]) if row["case_id"] else None
    fields = {name: row[name] for name in ContactOut.model_fields if name not in {"case", "text"}}
    return ContactOut(**fields, case=case, text=row["body"])


def contact_position(contact: ContactOut) -> tuple[datetime, uuid.UUID]:
    return contact.received_at, contact.id


async def check_motive_exists(conn: Connection, motive: str | None) -> None:
    """A filter naming a motive the catalogue never had is a typo, not an empty result."""
    if motive is None:
        return
    if not await CatalogueRepository(conn).lookup([(CatalogueKind.MOTIVE, motive)]):
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
    response: Response,
    _: Annotated[Principal, Depends(require("agent", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> ContactOut | JSONResponse:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
    scope = "POST /contacts"
    async with runtime.unit_of_work() as uow:
        if idempotency_key is not None:
            earlier = await idempotency.claim(
                uow.conn, scope, idempotency_key, idempotency.fingerprint(command)
            )
            if earlier is not None:
                return earlier.response()
        recorded = await record_contact(
            uow,
            command,
            join_window=timedelta(days=settings.join_window_days),
            default_motive=settings.default_motive,
        )
        contact = contact_out(await ContactsRepository(uow.conn).get(recorded.contact_id))
        status = 200 if recorded.replayed else 201
        headers = {"Location": f"/contacts/{contact.id}"}
        if idempotency_key is not None:
            await idempotency.remember(uow.conn, scope, idempotency_key, status, contact, headers)
    response.status_code = status
    response.headers.update(headers)
    return contact


@router.get(
    "/contacts/{contact_id}",
    response_model=ContactOut,
    summary="One contact",
    responses={404: {"description": "Unknown contact (problem+json)"}},
)
async def get_contact(
    contact_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> ContactOut:
    async with runtime_of(request).pool.acquire() as conn:
        row = await ContactsRepository(conn).get(contact_id)
    if row is None:
        raise Problem(404, "Contact not found", f"No contact with id {contact_id}")
    return contact_out(row)


@router.get(
    "/contacts",
    response_model=Page[ContactOut],
    summary="Contacts, newest first, filtered and cursor-paged",
    responses={422: {"description": "Invalid filter or cursor (problem+json)"}},
)
async def list_contacts(
    request: Request,
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
    async with runtime_of(request).pool.acquire() as conn:
        await check_motive_exists(conn, motive)
        rows = await ContactsRepository(conn).search(where, after, limit + 1)
    return page_of([contact_out(r) for r in rows], limit, contact_position)
