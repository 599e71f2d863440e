"""The parametrised catalogue over HTTP: admins create and change motives, causes, touchpoints and
products; everyone on staff reads them. Entries are deactivated, never deleted, so old cases and
statistics keep their meaning. Every change is a catalogue.entry_changed event."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from atiende_contracts import CatalogueKind
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.params import IsoDate
from atiende_runtime.problems import Problem

from ... import usecases
from ...domain.catalogue import CATALOGUE_CODE, CatalogueEntry, changed_entry
from .deps import Runtime, transaction, unit_of_work
from .identities import without_null
from .paging import DEFAULT_LIMIT, Page, PageKeyCursor, PageLimit, page_by_key

router = APIRouter(tags=["catalogue"])

Admin = Annotated[Principal, Depends(require("admin"))]
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "admin"))]
Code = Annotated[str, Path(pattern=CATALOGUE_CODE)]


class NewEntry(RequestModel):
    """A catalogue entry as an admin creates it; its kind comes from the path."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=CATALOGUE_CODE, description="Stable code other data carries")
    name_es: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    parent_code: str | None = Field(
        default=None,
        pattern=CATALOGUE_CODE,
        description="A cause's motive: required for a cause, refused for other kinds",
    )
    active: bool = True
    valid_from: date | None = Field(default=None, description="First day it may be used")
    valid_to: date | None = Field(default=None, description="Last day it may be used")

    def entry(self, kind: CatalogueKind) -> CatalogueEntry:
        return CatalogueEntry(kind=kind, **self.model_dump())


class EntryChanges(RequestModel):
    """A PATCH of an entry: only the fields sent change. Code, kind and parent are what other
    data refers to, so they never change: deactivate the entry and create another instead."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_es: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=without_null
    )
    name_en: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=without_null
    )
    active: bool | None = Field(default=None, json_schema_extra=without_null)
    valid_from: date | None = Field(default=None, description="null: no start")
    valid_to: date | None = Field(default=None, description="null: no end")
    code: SkipJsonSchema[Any] = None
    kind: SkipJsonSchema[Any] = None
    parent_code: SkipJsonSchema[Any] = None

    @field_validator("name_es", "name_en", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_null", "may be left out, but not null")
        return value

    @field_validator("code", "kind", "parent_code")
    @classmethod
    def _immutable(cls, value: Any, info: ValidationInfo) -> Any:
        raise PydanticCustomError(
            "immutable",
            "{field} never changes: deactivate this entry and create a new one",
            {"field": info.field_name},
        )

    def changes(self) -> dict[str, Any]:
        """Only the fields sent (a date sent as null clears it)."""
        return self.model_dump(exclude_unset=True)

    def applied_to(self, entry: CatalogueEntry) -> CatalogueEntry:
        return changed_entry(entry, self.changes())


class EntryOut(BaseModel):
    kind: CatalogueKind
    code: str
    parent_code: str | None
    name_es: str
    name_en: str
    active: bool
    valid_from: date | None
    valid_to: date | None


def entry_out(entry: CatalogueEntry) -> EntryOut:
    return EntryOut.model_validate(entry, from_attributes=True)


@router.post(
    "/catalogue/{kind}",
    status_code=201,
    response_model=EntryOut,
    summary="Create a catalogue entry (a cause names its motive in parent_code); emits "
    "catalogue.entry_changed",
    responses={
        409: {"description": "The code already exists in this kind (problem+json)"},
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def create_entry(
    kind: CatalogueKind,
    body: NewEntry,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            entry = await usecases.create_entry(uow, body.entry(kind), actor=actor_of(principal))
            return Answer(201, entry_out(entry), {"Location": usecases.entry_location(entry)})

        return await idempotency.once(tx.conn, request, idempotency_key, body, produce)


@router.patch(
    "/catalogue/{kind}/{code}",
    response_model=EntryOut,
    summary="Change an entry's names, active flag or validity dates (code, kind and parent never "
    "change); emits catalogue.entry_changed when something changed",
    responses={
        404: {"description": "No such entry (problem+json)"},
        409: {"description": "It would retire the configured default motive (problem+json)"},
        422: {"description": "Invalid field (problem+json)"},
    },
)
async def change_entry(
    kind: CatalogueKind, code: Code, changes: EntryChanges, runtime: Runtime, principal: Admin
) -> EntryOut:
    async with unit_of_work(runtime) as uow:
        entry = await usecases.change_entry(
            uow,
            kind,
            code,
            changes.changes(),
            default_motive=runtime.settings.default_motive,
            actor=actor_of(principal),
        )
    return entry_out(entry)


@router.delete(
    "/catalogue/{kind}/{code}",
    summary="Not allowed: entries are deactivated (PATCH active=false), never deleted",
    # not an operation: the document leaves DELETE out, as for any method a path lacks
    include_in_schema=False,
)
async def delete_entry(kind: CatalogueKind, code: Code, _: Admin) -> None:
    raise Problem(
        405,
        "Method Not Allowed",
        "deactivate instead (PATCH active=false): cases and statistics refer to this entry",
        headers={"Allow": "GET, PATCH"},
    )


@router.get(
    "/catalogue/{kind}",
    response_model=Page[EntryOut],
    summary="Entries of a kind in code order, cursor-paged; filter by active flag, by validity "
    "on a day, by parent (a motive's causes)",
)
async def list_entries(
    kind: CatalogueKind,
    runtime: Runtime,
    _: Staff,
    active: bool | None = None,
    on: Annotated[
        IsoDate | None, Query(description="Only entries valid on this day (YYYY-MM-DD)")
    ] = None,
    parent: Annotated[
        str | None, Query(pattern=CATALOGUE_CODE, description="Only causes of this motive")
    ] = None,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageKeyCursor = None,
) -> Page[EntryOut]:
    async with unit_of_work(runtime) as uow:
        entries = await usecases.list_entries(
            uow, kind, active=active, on=on, parent=parent, after_code=cursor, limit=limit + 1
        )
    return page_by_key([entry_out(e) for e in entries], limit, lambda e: e.code)


@router.get(
    "/catalogue/{kind}/{code}",
    response_model=EntryOut,
    summary="One catalogue entry",
    responses={404: {"description": "No such entry (problem+json)"}},
)
async def get_entry(kind: CatalogueKind, code: Code, runtime: Runtime, _: Staff) -> EntryOut:
    async with unit_of_work(runtime) as uow:
        return entry_out(await usecases.get_entry(uow, kind, code))
