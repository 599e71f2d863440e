"""/cases: a case's routing state and its resolution."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atiende_runtime.logs import current_case_id

from ...domain.cases import CaseStatus, RoutedCase
from ...repository import PostgresUnitOfWork
from ...usecases import lifecycle
from .deps import CaseWorker, Runtime

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

    @classmethod
    def of(cls, case: RoutedCase) -> RoutedCaseOut:
        return cls(**{name: getattr(case, name) for name in cls.model_fields})


@router.get(
    "/cases/{case_id}",
    response_model=RoutedCaseOut,
    summary="A case's routing state",
    responses={404: {"description": "Unknown case"}},
)
async def get_case(case_id: uuid.UUID, runtime: Runtime, _: CaseWorker) -> RoutedCaseOut:
    async with runtime.unit_of_work() as tx:
        case = await lifecycle.get_case(PostgresUnitOfWork(tx), case_id)
    return RoutedCaseOut.of(case)


@router.post(
    "/cases/{case_id}/resolve",
    response_model=RoutedCaseOut,
    summary="Resolve a case; emits case.resolved",
    responses={404: {"description": "Unknown case"}, 409: {"description": "Already resolved"}},
)
async def resolve_case(
    case_id: uuid.UUID, runtime: Runtime, _: CaseWorker, body: ResolveCase | None = None
) -> RoutedCaseOut:
    command = body or ResolveCase()
    current_case_id.set(str(case_id))
    async with runtime.unit_of_work() as tx:
        case = await lifecycle.resolve_case(
            PostgresUnitOfWork(tx), case_id, command.resolution, datetime.now(UTC)
        )
    return RoutedCaseOut.of(case)
