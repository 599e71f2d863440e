"""Routing's HTTP routes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from atiende_runtime.auth import Principal, require
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from .domain import CaseStatus, LifecycleError
from .repository import RoutingRepository

router = APIRouter(tags=["cases"])


class ResolveCase(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resolution: str = Field(default="resolved", min_length=1, max_length=2000)


class RoutedCaseOut(BaseModel):
    id: uuid.UUID
    number: str
    status: CaseStatus
    team: str | None
    opened_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None


@router.get("/cases/{case_id}", response_model=RoutedCaseOut, summary="A case's routing state")
async def get_case(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require("agent", "supervisor"))],
) -> RoutedCaseOut:
    async with runtime_of(request).pool.acquire() as conn:
        case = await RoutingRepository(conn).get(case_id)
    if case is None:
        raise Problem(404, "Case not found", f"Routing knows no case {case_id}")
    return RoutedCaseOut(**{k: getattr(case, k) for k in RoutedCaseOut.model_fields})


@router.post(
    "/cases/{case_id}/resolve",
    response_model=RoutedCaseOut,
    summary="Resolve a case; emits case.resolved",
    responses={404: {"description": "Unknown case"}, 409: {"description": "Already resolved"}},
)
async def resolve_case(
    case_id: uuid.UUID,
    request: Request,
    _: Annotated[Principal, Depends(require("agent", "supervisor"))],
    body: ResolveCase | None = None,
) -> RoutedCaseOut:
    command = body or ResolveCase()
    current_case_id.set(str(case_id))
    async with runtime_of(request).unit_of_work() as uow:
        repo = RoutingRepository(uow.conn)
        case = await repo.get_for_update(case_id)
        if case is None:
            raise Problem(404, "Case not found", f"Routing knows no case {case_id}")
        try:
            resolved, event = case.resolve(command.resolution, datetime.now(UTC))
        except LifecycleError as exc:
            raise Problem(409, "Case cannot be resolved", str(exc)) from exc
        await repo.save_resolution(resolved)
        await uow.emit(event, subject=case.id)
    return RoutedCaseOut(**{k: getattr(resolved, k) for k in RoutedCaseOut.model_fields})
