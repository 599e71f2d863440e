"""Customers over HTTP: create, find by any identity, change the profile, attach identities,
merge two records of one person (and undo it), read the whole history, erase personal data.

A customer merged into another keeps answering GET /customers/{id} with 200 and `merged_into`
naming the survivor (one hop always reaches it): clients follow that id. A redirect was not
chosen because the old record still has something to say (that it was merged, and into whom),
and an undo makes it a customer again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from atiende_contracts import (
    CaseType,
    Channel,
    ContactKind,
    Direction,
    Formality,
    NotificationChannel,
    Severity,
    Tier,
)
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.languages import Language
from atiende_runtime.problems import validation_problem

from ... import usecases
from ...domain import customers as domain
from ...domain.customers import (
    DEFAULT_PHONE_REGION,
    CustomerMerge,
    HistoryEntry,
    Identity,
    IdentityKind,
    Profile,
)
from .deps import Runtime, transaction, unit_of_work
from .identities import (
    DOCUMENT_PATTERN,
    PHONE_PATTERN,
    CustomerIdentitiesIn,
    IdentitiesToAttach,
    SupportedLanguage,
    document_field,
    email_field,
    email_field_info,
    phone_field,
    refuse_null,
    without_null,
)
from .paging import DEFAULT_LIMIT, PageCursor, PageLimit, page_of

router = APIRouter(tags=["customers"])

Staff = Annotated[Principal, Depends(require("agent", "supervisor"))]
Recorder = Annotated[Principal, Depends(require("agent", "intake"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]


class NewCustomer(CustomerIdentitiesIn):
    """A customer created by an agent or another system, with any identities known so far."""

    name: str = Field(min_length=1, max_length=200)
    tier: Tier = Tier.STANDARD
    language: SupportedLanguage = Language.ES
    formality: Formality = Formality.FORMAL
    consent_surveys: bool = True
    consent_marketing: bool = False
    preferred_channel: NotificationChannel | None = None

    def command(self) -> domain.NewCustomer:
        return domain.NewCustomer(
            name=self.name,
            identity_fields=tuple(self.identity_fields()),
            email=self.email,
            tier=self.tier,
            language=self.language.value,
            formality=self.formality,
            consent_surveys=self.consent_surveys,
            consent_marketing=self.consent_marketing,
            preferred_channel=self.preferred_channel,
        )


class CustomerChanges(RequestModel):
    """A PATCH of a customer: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=without_null
    )
    tier: Tier | None = Field(default=None, json_schema_extra=without_null)
    language: SupportedLanguage | None = Field(default=None, json_schema_extra=without_null)
    formality: Formality | None = Field(default=None, json_schema_extra=without_null)
    consent_surveys: StrictBool | None = Field(default=None, json_schema_extra=without_null)
    consent_marketing: StrictBool | None = Field(default=None, json_schema_extra=without_null)
    preferred_channel: NotificationChannel | None = Field(
        default=None, json_schema_extra=without_null
    )

    @field_validator(
        "name",
        "tier",
        "language",
        "formality",
        "consent_surveys",
        "consent_marketing",
        "preferred_channel",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def changes(self) -> domain.ProfileChanges:
        sent = self.model_dump(exclude_unset=True)
        if "language" in sent:
            sent["language"] = str(sent["language"])
        return domain.ProfileChanges(**sent)

    def applied_to(self, profile: Profile) -> Profile:
        """The profile after these changes (the name is not part of the profile)."""
        return self.changes().applied_to(profile)


IDENTITY_QUERY_FIELDS = ("email", "phone", "document_id", "external", "chat")


class IdentityQuery(BaseModel):
    """GET /customers?…: find a customer by exactly one identity, normalised the way identities
    are stored, so `ANA@Example.com` finds `ana@example.com` and `600 123 456` finds +34600123456."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = email_field_info()
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        pattern=r"^[A-Z]{2}$",
        description="Country of a phone number written without +code",
    )
    phone: str | None = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    document_type: str = Field(default="national_id", max_length=30, pattern=r"^[a-z0-9_]+$")
    document_id: str | None = Field(default=None, max_length=40, pattern=DOCUMENT_PATTERN)
    external: str | None = Field(
        default=None,
        max_length=251,
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}:.*\S",
        description="system:id, e.g. crm:C-1001",
    )
    chat: str | None = Field(
        default=None,
        max_length=251,
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}:.*\S",
        description="platform:handle, e.g. whatsapp:+34600123456",
    )

    _email = field_validator("email")(email_field)
    _phone = field_validator("phone")(phone_field)
    _document = field_validator("document_id")(document_field)

    def given(self) -> list[str]:
        return [name for name in IDENTITY_QUERY_FIELDS if getattr(self, name)]

    def identity(self) -> Identity:
        """The one identity asked for (call after checking exactly one was given)."""
        if self.email:
            return Identity(IdentityKind.EMAIL, self.email)
        if self.phone:
            return Identity(IdentityKind.PHONE, self.phone)
        if self.document_id:
            return Identity(IdentityKind.DOCUMENT, self.document_id, self.document_type)
        kind, scoped = (
            (IdentityKind.EXTERNAL, self.external)
            if self.external
            else (IdentityKind.CHAT, self.chat or "")
        )
        scope, _, value = scoped.partition(":")
        return Identity(kind, value.strip(), scope)


class IdentityOut(BaseModel):
    kind: IdentityKind
    scope: str = Field(description="The other system, chat platform or document type; '' else")
    value: str


class CustomerOut(BaseModel):
    id: uuid.UUID
    name: str
    primary_email: str | None
    tier: Tier
    language: str
    formality: Formality
    consent_surveys: bool
    consent_marketing: bool
    preferred_channel: NotificationChannel | None
    identities: list[IdentityOut]
    merged_into: uuid.UUID | None = Field(
        description="Set when this record was merged into another: use that customer instead"
    )
    erased: bool
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MergeIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    source_customer_id: uuid.UUID = Field(description="The record merged away into this one")


class MergeOut(BaseModel):
    id: uuid.UUID
    source_customer_id: uuid.UUID
    target_customer_id: uuid.UUID
    identity_ids: list[uuid.UUID]
    contact_ids: list[uuid.UUID]
    case_ids: list[uuid.UUID]
    repointed_customer_ids: list[uuid.UUID] = Field(
        description="Customers merged into the source earlier, now pointing at the target"
    )
    merged_at: datetime
    undone_at: datetime | None


class ContactItem(BaseModel):
    type: Literal["contact"] = "contact"
    at: datetime
    id: uuid.UUID
    kind: ContactKind
    channel: Channel
    direction: Direction
    motive: str | None
    touchpoint: str | None
    case_id: uuid.UUID | None
    case_number: str | None
    text: str
    severity: Severity | None
    upset: bool


class CaseItem(BaseModel):
    type: Literal["case"] = "case"
    at: datetime
    id: uuid.UUID
    number: str
    case_type: CaseType
    channel: Channel
    motive: str
    touchpoint: str | None
    status: str
    text: str = Field(description="The case's description")
    severity: Severity | None
    upset: bool


class EventItem(BaseModel):
    """What another service said about one of the customer's cases."""

    type: Literal["event"] = "event"
    at: datetime
    id: uuid.UUID = Field(description="The event's id")
    event_type: str = Field(description="e.g. case.assigned, commitment.missed, survey.answered")
    case_id: uuid.UUID
    case_number: str | None
    text: str = Field(description="What happened, in a line")
    details: dict[str, Any]


HistoryItem = Annotated[ContactItem | CaseItem | EventItem, Field(discriminator="type")]


class HistoryOut(BaseModel):
    customer_id: uuid.UUID
    merged_into: uuid.UUID | None
    first_contact_at: datetime | None = Field(description="The customer's first contact")
    contact_count: int = Field(description="Contacts so far: more than one is a repeat customer")
    case_count: int
    items: list[HistoryItem] = Field(
        description="Contacts, cases and what other services said about them, newest first"
    )
    next_cursor: str | None


class ErasureOut(BaseModel):
    customer_id: uuid.UUID
    erased_at: datetime
    case_ids: list[uuid.UUID]
    contact_count: int
    case_count: int


def customer_out(record: usecases.CustomerRecord) -> CustomerOut:
    c = record.customer
    identities = [IdentityOut(kind=i.kind, scope=i.scope, value=i.value) for i in record.identities]
    fields = {name: getattr(c, name) for name in CustomerOut.model_fields if hasattr(c, name)}
    return CustomerOut(**fields, identities=identities, erased=c.erased_at is not None)


def merge_out(merge: CustomerMerge) -> MergeOut:
    return MergeOut(
        id=merge.id,
        source_customer_id=merge.source_id,
        target_customer_id=merge.target_id,
        identity_ids=merge.identity_ids,
        contact_ids=merge.contact_ids,
        case_ids=merge.case_ids,
        repointed_customer_ids=merge.repointed_ids,
        merged_at=merge.merged_at,
        undone_at=merge.undone_at,
    )


def history_item(entry: HistoryEntry) -> ContactItem | CaseItem | EventItem:
    if entry.type == "event":
        assert entry.case_id is not None  # every kept fact is about a case
        return EventItem(
            at=entry.at,
            id=entry.id,
            event_type=entry.kind,
            case_id=entry.case_id,
            case_number=entry.case_number,
            text=entry.text,
            details=dict(entry.details or {}),
        )
    if entry.type == "contact":
        return ContactItem(**{name: getattr(entry, name) for name in ContactItem.model_fields})
    renamed = {"case_type": entry.kind, "number": entry.case_number}
    return CaseItem(
        **renamed,
        **{name: getattr(entry, name) for name in CaseItem.model_fields if name not in renamed},
    )


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerOut,
    summary="Create a customer with a profile and any identities known; emits "
    "customer.profile_changed",
    responses={
        409: {"description": "An identity belongs to another customer (problem+json)"},
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def create_customer(
    body: NewCustomer,
    request: Request,
    runtime: Runtime,
    principal: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            created = await usecases.create_customer(uow, body.command(), actor=actor_of(principal))
            out = customer_out(created)
            return Answer(201, out, {"Location": f"/customers/{out.id}"})

        return await idempotency.once(tx.conn, request, idempotency_key, body, produce)


@router.get(
    "/customers",
    response_model=CustomerOut,
    summary="Find the customer who owns one identity (normalised like stored identities; "
    "a merged customer's identities find the survivor)",
    responses={
        404: {"description": "Nobody has this identity (problem+json)"},
        422: {"description": "Not exactly one identity given, or an invalid one (problem+json)"},
    },
)
async def find_customer(
    query: Annotated[IdentityQuery, Query()], runtime: Runtime, _: Staff
) -> CustomerOut:
    given = query.given()
    if len(given) != 1:
        named = [f"query.{name}" for name in given] or ["query"]
        raise validation_problem(
            [
                {
                    "field": field,
                    "rule": "exactly_one_identity",
                    "message": f"give exactly one of {', '.join(IDENTITY_QUERY_FIELDS)}",
                }
                for field in named
            ]
        )
    async with unit_of_work(runtime) as uow:
        return customer_out(await usecases.find_customer(uow, query.identity(), given[0]))


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    summary="A customer's profile and identities. A merged-away customer answers 200 with "
    "merged_into set: follow it to the survivor",
    responses={404: {"description": "No such customer (problem+json)"}},
)
async def get_customer(customer_id: uuid.UUID, runtime: Runtime, _: Staff) -> CustomerOut:
    async with unit_of_work(runtime) as uow:
        return customer_out(await usecases.get_customer(uow, customer_id))


@router.patch(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    summary="Change name, tier, language, formality or consents; emits customer.profile_changed "
    "when tier, language, formality or a consent actually changed",
    responses={
        404: {"description": "No such customer (problem+json)"},
        409: {"description": "The customer was merged away or erased (problem+json)"},
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def change_customer(
    customer_id: uuid.UUID, changes: CustomerChanges, runtime: Runtime, principal: Staff
) -> CustomerOut:
    async with unit_of_work(runtime) as uow:
        changed = await usecases.change_customer(
            uow, customer_id, changes.changes(), actor=actor_of(principal)
        )
        return customer_out(changed)


@router.post(
    "/customers/{customer_id}/identities",
    response_model=CustomerOut,
    summary="Attach identities to a customer (attaching one it already has is a no-op)",
    responses={
        404: {"description": "No such customer (problem+json)"},
        409: {
            "description": "An identity belongs to another customer, or this customer was "
            "merged away or erased (problem+json)"
        },
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def attach_identities(
    customer_id: uuid.UUID,
    body: IdentitiesToAttach,
    request: Request,
    runtime: Runtime,
    _: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    fields = tuple(body.identity_fields())
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            record = await usecases.attach_identities(uow, customer_id, fields, body.email)
            return Answer(200, customer_out(record))

        return await idempotency.once(tx.conn, request, idempotency_key, body, produce)


@router.post(
    "/customers/{customer_id}/merge",
    status_code=201,
    response_model=MergeOut,
    summary="Merge another customer record of the same person into this one: its identities, "
    "contacts and cases move here; emits customer.merged. Undo with "
    "POST /customer-merges/{merge_id}/undo",
    responses={
        404: {"description": "No such customer (problem+json)"},
        409: {
            "description": "Same customer, either erased, the source already merged, or this "
            "one merged away (problem+json)"
        },
        422: {"description": "Invalid field, e.g. an unknown source (problem+json)"},
    },
)
async def merge_customers(
    customer_id: uuid.UUID,
    body: MergeIn,
    request: Request,
    runtime: Runtime,
    principal: Supervisor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            merge = await usecases.merge_customers(
                uow, customer_id, body.source_customer_id, actor=actor_of(principal)
            )
            return Answer(201, merge_out(merge), {"Location": f"/customer-merges/{merge.id}"})

        return await idempotency.once(tx.conn, request, idempotency_key, body, produce)


@router.get(
    "/customer-merges/{merge_id}",
    response_model=MergeOut,
    summary="A merge: what moved, and whether it was undone",
    responses={404: {"description": "No such merge (problem+json)"}},
)
async def get_merge(merge_id: uuid.UUID, runtime: Runtime, _: Staff) -> MergeOut:
    async with unit_of_work(runtime) as uow:
        return merge_out(await usecases.get_merge(uow, merge_id))


@router.post(
    "/customer-merges/{merge_id}/undo",
    response_model=MergeOut,
    summary="Undo a merge: exactly what moved moves back (what the survivor gained since "
    "stays); emits customer.merge_undone",
    responses={
        404: {"description": "No such merge (problem+json)"},
        409: {
            "description": "Already undone, a customer erased since, or the survivor merged "
            "into another since (undo that first) (problem+json)"
        },
    },
)
async def undo_merge(merge_id: uuid.UUID, runtime: Runtime, principal: Supervisor) -> MergeOut:
    async with unit_of_work(runtime) as uow:
        return merge_out(await usecases.undo_merge(uow, merge_id, actor=actor_of(principal)))


@router.get(
    "/customers/{customer_id}/history",
    response_model=HistoryOut,
    summary="Every contact and case of the customer, and what other services published about "
    "its cases (assignment, status changes, commitments, resolution, closing, reopening, survey "
    "answers, notifications sent), newest first, cursor-paged; with the repeat-customer facts "
    "(first contact, number of contacts)",
    responses={404: {"description": "No such customer (problem+json)"}},
)
async def customer_history(
    customer_id: uuid.UUID,
    runtime: Runtime,
    _: Staff,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> HistoryOut:
    after = (cursor.at, cursor.id) if cursor else None
    async with unit_of_work(runtime) as uow:
        history = await usecases.customer_history(uow, customer_id, after, limit + 1)
    page = page_of([history_item(e) for e in history.items], limit, lambda item: (item.at, item.id))
    return HistoryOut(
        customer_id=customer_id,
        merged_into=history.customer.merged_into,
        first_contact_at=history.facts.first_contact_at,
        contact_count=history.facts.contact_count,
        case_count=history.facts.case_count,
        items=page.items,
        next_cursor=page.next_cursor,
    )


@router.post(
    "/customers/{customer_id}/erase",
    response_model=ErasureOut,
    summary="Erase a customer's personal data: pseudonymised, not deleted (contacts and cases "
    "stay, for the counts); emits customer.erased so every service scrubs its copies. "
    "Erasing again answers the same and emits nothing",
    responses={
        404: {"description": "No such customer (problem+json)"},
        409: {"description": "Merged into another customer: erase that one (problem+json)"},
    },
)
async def erase_customer(
    customer_id: uuid.UUID, runtime: Runtime, principal: Supervisor
) -> ErasureOut:
    async with unit_of_work(runtime) as uow:
        erased = await usecases.erase_customer(uow, customer_id, actor=actor_of(principal))
    return ErasureOut(
        customer_id=customer_id,
        erased_at=erased.erased_at,
        case_ids=erased.case_ids,
        contact_count=erased.facts.contact_count,
        case_count=erased.facts.case_count,
    )
