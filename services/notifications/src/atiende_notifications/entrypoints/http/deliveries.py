"""Notifications' HTTP routes: thin, read-only views of the deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from atiende_contracts import NotificationChannel
from atiende_runtime.auth import Principal, require
from atiende_runtime.logs import current_case_id
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain import DeliveryStatus, Template
from ...repository import PostgresUnitOfWork
from ...settings import NotificationsSettings
from .deps import runtime

router = APIRouter(tags=["deliveries"])


class DeliveryOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID | None
    case_number: str | None
    template: Template
    channel: NotificationChannel
    recipient: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="Deliveries (emails) with their status, attempts and last error; newest first",
    responses={422: {"description": "Invalid query parameter (problem+json)"}},
)
async def list_deliveries(
    service: Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)],
    _: Annotated[Principal, Depends(require("supervisor", "agent"))],
    case_id: Annotated[uuid.UUID | None, Query(description="Only this case's")] = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    if case_id is not None:
        current_case_id.set(str(case_id))
    async with service.unit_of_work() as tx:
        deliveries = await usecases.list_deliveries(
            PostgresUnitOfWork(tx), case_id=case_id, status=status, limit=limit
        )
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in deliveries]
