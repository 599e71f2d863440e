"""The parametrised catalogue over HTTP: admins create and change motives, causes, touchpoints and
products; everyone on staff reads them. Entries are deactivated, never deleted, so old cases and
statistics keep their meaning. Every change is a catalogue.entry_changed event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from atiende_contracts import CatalogueKind
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import IdempotencyKey, claim, fingerprint, remember
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of
from atiende_runtime.uow import UnitOfWork

from ..domain.catalogue import (
    CODE_PATTERN,
    CatalogueEntry,
    EntryChanges,
    NewEntry,
    entry_errors,
    retires_default_motive,
)
from ..repository.catalogue import CatalogueRepository
from ..usecases import invalid
from .paging import DEFAULT_LIMIT, Page, PageKeyCursor, PageLimit, page_by_key

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["catalogue"])

Admin = Annotated[Principal, Depends(require("admin"))]
Staff = Annotated[Principal, Depends(require("agent", "supervisor", "admin"))]
Code = Annotated[str, Path(pattern=CODE_PATTERN)]


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


def location(entry: CatalogueEntry) -> str:
    return f"/catalogue/{entry.kind.value}/{entry.code}"


def not_found(kind: CatalogueKind, code: str) -> Problem:
    return Problem(404, "Catalogue entry not found", f"No {kind.value} with code {code!r}")


async def validate(repo: CatalogueRepository, entry: CatalogueEntry) -> None:
    parent = None
    if entry.kind is CatalogueKind.CAUSE and entry.parent_code is not None:
        parent = await repo.get(CatalogueKind.MOTIVE, entry.parent_code)
    errors = entry_errors(entry, parent)
    if errors:
        raise invalid(errors)


async def announce(uow: UnitOfWork, entry: CatalogueEntry) -> None:
    # one subject per entry, so consumers see an entry's changes in order
    subject = f"catalogue:{entry.kind.value}:{entry.code}"
    await uow.emit(entry.changed_event(datetime.now(UTC)), subject=subject)


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
    response: Response,
    _: Admin,
    idempotency_key: IdempotencyKey = None,
) -> EntryOut | Response:
    runtime = runtime_of(request)
    scope = f"POST /catalogue/{kind.value}"
    async with runtime.unit_of_work() as uow:
        if idempotency_key and (
            earlier := await claim(uow.conn, scope, idempotency_key, fingerprint(body))
        ):
            return earlier.response()
        repo = CatalogueRepository(uow.conn)
        entry = body.entry(kind)
        await validate(repo, entry)
        if not await repo.add(entry):
            raise Problem(
                409,
                "Code already exists",
                f"A {kind.value} with code {entry.code!r} exists; change it with PATCH "
                f"{location(entry)}",
            )
        await announce(uow, entry)
        out = entry_out(entry)
        headers = {"Location": location(entry)}
        if idempotency_key:
            await remember(uow.conn, scope, idempotency_key, 201, out, headers)
    response.headers.update(headers)
    return out


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
    kind: CatalogueKind, code: Code, changes: EntryChanges, request: Request, _: Admin
) -> EntryOut:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
    async with runtime.unit_of_work() as uow:
        repo = CatalogueRepository(uow.conn)
        before = await repo.lock(kind, code)
        if before is None:
            raise not_found(kind, code)
        after = changes.applied_to(before)
        await validate(repo, after)
        today = datetime.now(UTC).date()
        if retires_default_motive(before, after, settings.default_motive, today):
            raise Problem(
                409,
                "Default motive",
                f"{code} is the default motive of contacts that arrive without one; "
                "configure another default motive before retiring it",
            )
        if after != before:
            await repo.update(after)
            await announce(uow, after)
    return entry_out(after)


@router.delete(
    "/catalogue/{kind}/{code}",
    summary="Not allowed: entries are deactivated (PATCH active=false), never deleted",
    responses={405: {"description": "Always (problem+json)"}},
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
    request: Request,
    _: Staff,
    active: bool | None = None,
    on: Annotated[
        date | None, Query(description="Only entries valid on this day (YYYY-MM-DD)")
    ] = None,
    parent: Annotated[
        str | None, Query(pattern=CODE_PATTERN, description="Only causes of this motive")
    ] = None,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageKeyCursor = None,
) -> Page[EntryOut]:
    async with runtime_of(request).pool.acquire() as conn:
        entries = await CatalogueRepository(conn).entries(
            kind, active=active, on=on, parent=parent, after_code=cursor, limit=limit + 1
        )
    return page_by_key([entry_out(e) for e in entries], limit, lambda e: e.code)


@router.get(
    "/catalogue/{kind}/{code}",
    response_model=EntryOut,
    summary="One catalogue entry",
    responses={404: {"description": "No such entry (problem+json)"}},
)
async def get_entry(kind: CatalogueKind, code: Code, request: Request, _: Staff) -> EntryOut:
    async with runtime_of(request).pool.acquire() as conn:
        entry = await CatalogueRepository(conn).get(kind, code)
    if entry is None:
        raise not_found(kind, code)
    return entry_out(entry)
