"""Customers over HTTP: create, find by any identity, change the profile, attach identities,
merge two records of one person (and undo it), read the whole history, erase personal data.

A customer merged into another keeps answering GET /customers/{id} with 200 and `merged_into`
naming the survivor (one hop always reaches it): clients follow that id. A redirect was not
chosen because the old record still has something to say (that it was merged, and into whom),
and an undo makes it a customer again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from atiende_contracts import (
    CaseType,
    Channel,
    ContactKind,
    CustomerErased,
    CustomerMerged,
    CustomerMergeUndone,
    Direction,
    Formality,
    Severity,
    Tier,
)
from atiende_runtime.auth import Principal, require
from atiende_runtime.db import Connection
from atiende_runtime.idempotency import IdempotencyKey, claim, fingerprint, remember
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of
from atiende_runtime.uow import UnitOfWork

from ..domain.contacts import serialisation_key
from ..domain.customers import (
    IDENTITY_QUERY_FIELDS,
    CustomerChanges,
    CustomerIdentitiesIn,
    CustomerState,
    IdentityKind,
    IdentityQuery,
    NewCustomer,
    Refusal,
    identity_conflicts,
    merge_refusal,
    unchangeable,
    undo_refusal,
)
from ..repository.contacts import hold_advisory_locks
from ..repository.customers import CustomersRepository, profile_of
from ..usecases import invalid
from .paging import DEFAULT_LIMIT, PageCursor, PageLimit, page_of

router = APIRouter(tags=["customers"])

Staff = Annotated[Principal, Depends(require("agent", "supervisor"))]
Recorder = Annotated[Principal, Depends(require("agent", "intake"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]

IDENTITY_TAKEN = "https://atiende.dev/problems/identity-taken"
CONFLICT = "https://atiende.dev/problems/conflict"


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
    identities: list[IdentityOut]
    merged_into: uuid.UUID | None = Field(
        description="Set when this record was merged into another: use that customer instead"
    )
    erased: bool
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MergeIn(BaseModel):
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


HistoryItem = Annotated[ContactItem | CaseItem, Field(discriminator="type")]


class HistoryOut(BaseModel):
    customer_id: uuid.UUID
    merged_into: uuid.UUID | None
    first_contact_at: datetime | None = Field(description="The customer's first contact")
    contact_count: int = Field(description="Contacts so far: more than one is a repeat customer")
    case_count: int
    items: list[HistoryItem] = Field(description="Contacts and cases, newest first")
    next_cursor: str | None


class ErasureOut(BaseModel):
    customer_id: uuid.UUID
    erased_at: datetime
    case_ids: list[uuid.UUID]
    contact_count: int
    case_count: int


async def customer_out(repo: CustomersRepository, row: Any) -> CustomerOut:
    identities = [
        IdentityOut(kind=i["kind"], scope=i["scope"], value=i["value"])
        for i in await repo.identities(row["id"])
    ]
    return CustomerOut(
        **{name: row[name] for name in CustomerOut.model_fields if name in row},
        identities=identities,
        erased=row["erased_at"] is not None,
    )


def merge_out(row: Any) -> MergeOut:
    return MergeOut(
        id=row["id"],
        source_customer_id=row["source_id"],
        target_customer_id=row["target_id"],
        identity_ids=row["identity_ids"],
        contact_ids=row["contact_ids"],
        case_ids=row["case_ids"],
        repointed_customer_ids=row["repointed_ids"],
        merged_at=row["merged_at"],
        undone_at=row["undone_at"],
    )


def history_item(row: Any) -> ContactItem | CaseItem:
    if row["type"] == "contact":
        return ContactItem(**{name: row[name] for name in ContactItem.model_fields})
    renamed = {"case_type": row["kind"], "number": row["case_number"]}
    return CaseItem(
        **renamed, **{name: row[name] for name in CaseItem.model_fields if name not in renamed}
    )


def state_of(row: Any) -> CustomerState:
    return CustomerState(row["id"], row["merged_into"], row["erased_at"] is not None)


def conflict(refusal: Refusal) -> Problem:
    return Problem(409, refusal.title, refusal.detail, type_=CONFLICT)


def customer_not_found(customer_id: uuid.UUID) -> Problem:
    return Problem(404, "Customer not found", f"No customer with id {customer_id}")


async def hold_identity_locks(conn: Connection, given: CustomerIdentitiesIn) -> None:
    """Take the per-identity locks record_contact takes (before any customer row lock, in the
    same order as it does), so a contact arriving meanwhile with one of these identities waits
    and then finds the customer, instead of creating a duplicate."""
    keys = [serialisation_key("identity", i.kind, i.scope, i.value) for i in given.identities()]
    await hold_advisory_locks(conn, keys)


async def attach_or_refuse(
    repo: CustomersRepository, customer_id: uuid.UUID, given: CustomerIdentitiesIn
) -> None:
    """Attach the given identities; an identity another customer owns is a 409 naming the field
    and the owner (the client may then merge the two). Attaching first and checking what did not
    attach also catches an identity taken by a concurrent request."""
    fields = given.identity_fields()
    attached = set(await repo.attach(customer_id, [identity for _, identity in fields]))
    not_attached = [identity for _, identity in fields if identity not in attached]
    conflicts = identity_conflicts(fields, await repo.owners(not_attached), customer_id)
    if conflicts:
        taken = ", ".join(f"{c['field']} (customer {c['owner_id']})" for c in conflicts)
        raise Problem(
            409,
            "Identity belongs to another customer",
            f"Already another customer's: {taken}; merge the two customers if they are one",
            type_=IDENTITY_TAKEN,
            errors=conflicts,
        )


async def announce_profile(uow: UnitOfWork, row: Any) -> None:
    await uow.emit(profile_of(row).changed_event(datetime.now(UTC)), subject=row["id"])


async def read_customer(conn: Connection, customer_id: uuid.UUID) -> CustomerOut:
    repo = CustomersRepository(conn)
    row = await repo.get(customer_id)
    if row is None:
        raise customer_not_found(customer_id)
    return await customer_out(repo, row)


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
    response: Response,
    _: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> CustomerOut | Response:
    scope = "POST /customers"
    async with runtime_of(request).unit_of_work() as uow:
        if idempotency_key and (
            earlier := await claim(uow.conn, scope, idempotency_key, fingerprint(body))
        ):
            return earlier.response()
        await hold_identity_locks(uow.conn, body)
        repo = CustomersRepository(uow.conn)
        customer_id = uuid.uuid4()
        await repo.create_with_profile(customer_id, body)
        await attach_or_refuse(repo, customer_id, body)
        row = await repo.get(customer_id)
        await announce_profile(uow, row)
        out = await customer_out(repo, row)
        headers = {"Location": f"/customers/{customer_id}"}
        if idempotency_key:
            await remember(uow.conn, scope, idempotency_key, 201, out, headers)
    response.headers.update(headers)
    return out


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
    query: Annotated[IdentityQuery, Query()], request: Request, _: Staff
) -> CustomerOut:
    given = query.given()
    if len(given) != 1:
        named = [f"query.{name}" for name in given] or ["query"]
        raise invalid(
            [
                {
                    "field": field,
                    "rule": "exactly_one_identity",
                    "message": f"give exactly one of {', '.join(IDENTITY_QUERY_FIELDS)}",
                }
                for field in named
            ]
        )
    identity = query.identity()
    async with runtime_of(request).pool.acquire() as conn:
        owner = (await CustomersRepository(conn).owners([identity])).get(identity)
        if owner is None:
            raise Problem(404, "Customer not found", f"No customer has this {given[0]}")
        return await read_customer(conn, owner)


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    summary="A customer's profile and identities. A merged-away customer answers 200 with "
    "merged_into set: follow it to the survivor",
    responses={404: {"description": "No such customer (problem+json)"}},
)
async def get_customer(customer_id: uuid.UUID, request: Request, _: Staff) -> CustomerOut:
    async with runtime_of(request).pool.acquire() as conn:
        return await read_customer(conn, customer_id)


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
    customer_id: uuid.UUID, changes: CustomerChanges, request: Request, _: Staff
) -> CustomerOut:
    async with runtime_of(request).unit_of_work() as uow:
        repo = CustomersRepository(uow.conn)
        row = await repo.lock(customer_id)
        if row is None:
            raise customer_not_found(customer_id)
        if refusal := unchangeable(state_of(row)):
            raise conflict(refusal)
        before = profile_of(row)
        after = changes.applied_to(before)
        name = changes.name or row["name"]
        if after != before or name != row["name"]:
            await repo.update_profile(customer_id, name, after)
            row = await repo.get(customer_id)
        if after != before:  # the event carries the profile, not the name
            await announce_profile(uow, row)
        return await customer_out(repo, row)


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
    body: CustomerIdentitiesIn,
    request: Request,
    response: Response,
    _: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> CustomerOut | Response:
    if not body.identities():
        raise invalid(
            [
                {
                    "field": "body",
                    "rule": "missing",
                    "message": "give at least one identity "
                    "(email, phone, document_id, external_ids, chat_handles)",
                }
            ]
        )
    scope = "POST /customers/{id}/identities"
    request_hash = fingerprint({"customer_id": customer_id, "body": body})
    async with runtime_of(request).unit_of_work() as uow:
        if idempotency_key and (
            earlier := await claim(uow.conn, scope, idempotency_key, request_hash)
        ):
            return earlier.response()
        await hold_identity_locks(uow.conn, body)
        repo = CustomersRepository(uow.conn)
        row = await repo.lock(customer_id)
        if row is None:
            raise customer_not_found(customer_id)
        if refusal := unchangeable(state_of(row)):
            raise conflict(refusal)
        await attach_or_refuse(repo, customer_id, body)
        await repo.fill_in(customer_id, None, body.email)
        out = await customer_out(repo, await repo.get(customer_id))
        if idempotency_key:
            await remember(uow.conn, scope, idempotency_key, 200, out)
    return out


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
    response: Response,
    _: Supervisor,
    idempotency_key: IdempotencyKey = None,
) -> MergeOut | Response:
    scope = "POST /customers/{id}/merge"
    request_hash = fingerprint({"customer_id": customer_id, "body": body})
    source_id = body.source_customer_id
    async with runtime_of(request).unit_of_work() as uow:
        if idempotency_key and (
            earlier := await claim(uow.conn, scope, idempotency_key, request_hash)
        ):
            return earlier.response()
        repo = CustomersRepository(uow.conn)
        rows = await repo.lock_in_order(customer_id, source_id)
        if customer_id not in rows:
            raise customer_not_found(customer_id)
        if source_id not in rows:
            raise invalid(
                [
                    {
                        "field": "source_customer_id",
                        "rule": "unknown_customer",
                        "message": f"no customer {source_id}",
                    }
                ]
            )
        if refusal := merge_refusal(state_of(rows[customer_id]), state_of(rows[source_id])):
            raise conflict(refusal)
        merge = await repo.merge(uuid.uuid4(), source_id, customer_id)
        event = CustomerMerged(
            merge_id=merge["id"],
            source_customer_id=source_id,
            target_customer_id=customer_id,
            case_ids=merge["case_ids"],
            merged_at=merge["merged_at"],
        )
        await uow.emit(event, subject=customer_id)
        out = merge_out(merge)
        headers = {"Location": f"/customer-merges/{merge['id']}"}
        if idempotency_key:
            await remember(uow.conn, scope, idempotency_key, 201, out, headers)
    response.headers.update(headers)
    return out


@router.get(
    "/customer-merges/{merge_id}",
    response_model=MergeOut,
    summary="A merge: what moved, and whether it was undone",
    responses={404: {"description": "No such merge (problem+json)"}},
)
async def get_merge(merge_id: uuid.UUID, request: Request, _: Staff) -> MergeOut:
    async with runtime_of(request).pool.acquire() as conn:
        merge = await CustomersRepository(conn).get_merge(merge_id)
    if merge is None:
        raise Problem(404, "Merge not found", f"No customer merge with id {merge_id}")
    return merge_out(merge)


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
async def undo_merge(merge_id: uuid.UUID, request: Request, _: Supervisor) -> MergeOut:
    async with runtime_of(request).unit_of_work() as uow:
        repo = CustomersRepository(uow.conn)
        merge = await repo.lock_merge(merge_id)
        if merge is None:
            raise Problem(404, "Merge not found", f"No customer merge with id {merge_id}")
        source_id, target_id = merge["source_id"], merge["target_id"]
        rows = await repo.lock_in_order(source_id, target_id)
        target = state_of(rows[target_id])
        later = await repo.active_merge_of(target_id) if target.merged_into else None
        refusal = undo_refusal(merge["undone_at"], target, state_of(rows[source_id]), later)
        if refusal:
            raise conflict(refusal)
        undone = await repo.undo_merge(merge)
        event = CustomerMergeUndone(
            merge_id=merge_id,
            source_customer_id=source_id,
            target_customer_id=target_id,
            case_ids=undone["case_ids"],
            undone_at=undone["undone_at"],
        )
        await uow.emit(event, subject=target_id)
    return merge_out(undone)


@router.get(
    "/customers/{customer_id}/history",
    response_model=HistoryOut,
    summary="Every contact and case of the customer, newest first, cursor-paged; with the "
    "repeat-customer facts (first contact, number of contacts)",
    responses={404: {"description": "No such customer (problem+json)"}},
)
async def customer_history(
    customer_id: uuid.UUID,
    request: Request,
    _: Staff,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> HistoryOut:
    async with runtime_of(request).pool.acquire() as conn:
        repo = CustomersRepository(conn)
        row = await repo.get(customer_id)
        if row is None:
            raise customer_not_found(customer_id)
        after = (cursor.at, cursor.id) if cursor else None
        rows = await repo.history(customer_id, after, limit + 1)
        facts = await repo.contact_facts(customer_id)
    page = page_of([history_item(r) for r in rows], limit, lambda item: (item.at, item.id))
    return HistoryOut(
        customer_id=customer_id,
        merged_into=row["merged_into"],
        first_contact_at=facts["first_contact_at"],
        contact_count=facts["contact_count"],
        case_count=facts["case_count"],
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
async def erase_customer(customer_id: uuid.UUID, request: Request, _: Supervisor) -> ErasureOut:
    async with runtime_of(request).unit_of_work() as uow:
        repo = CustomersRepository(uow.conn)
        row = await repo.lock(customer_id)
        if row is None:
            raise customer_not_found(customer_id)
        if row["erased_at"] is None:
            if row["merged_into"] is not None:
                raise conflict(
                    Refusal(
                        "Customer merged",
                        f"Customer {customer_id} was merged into {row['merged_into']}; "
                        "erase that one (it erases this record too)",
                    )
                )
            erased_at = await repo.erase(customer_id)
            event = CustomerErased(
                customer_id=customer_id,
                case_ids=await repo.case_ids(customer_id),
                erased_at=erased_at,
            )
            await uow.emit(event, subject=customer_id)
        else:
            erased_at = row["erased_at"]
        facts = await repo.contact_facts(customer_id)
        return ErasureOut(
            customer_id=customer_id,
            erased_at=erased_at,
            case_ids=await repo.case_ids(customer_id),
            contact_count=facts["contact_count"],
            case_count=facts["case_count"],
        )
