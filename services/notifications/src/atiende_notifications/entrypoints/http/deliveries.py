"""Notifications' HTTP routes: thin, read-only views of the deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from atiende_contracts import NotificationChannel
from atiende_runtime.auth import Principal, require
from atiende_runtime.errors import NotFound
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
    reason: str | None = None
    endpoint_id: uuid.UUID | None = None


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    request: dict[str, Any]
    dispatcher: str | None = None


class DeliveryDetail(DeliveryOut):
    body_text: str
    attempts_log: list[AttemptOut]


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


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery with its log: every attempt's request, response status and timing",
)
async def get_delivery(
    service: Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)],
    _: Annotated[Principal, Depends(require("supervisor", "admin"))],
    delivery_id: Annotated[uuid.UUID, Path()],
) -> DeliveryDetail:
    async with service.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        delivery = await uow.deliveries.get(delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id}")
        log = await uow.deliveries.attempts(delivery_id)
    return DeliveryDetail(
        **DeliveryOut.model_validate(delivery, from_attributes=True).model_dump(),
        body_text=delivery.body_text,
        attempts_log=[AttemptOut.model_validate(a, from_attributes=True) for a in log],
    )


@router.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    summary="Send a delivery again (same id: same Message-ID / webhook-id)",
)
async def replay_delivery(
    service: Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)],
    _: Annotated[Principal, Depends(require("supervisor", "admin"))],
    delivery_id: Annotated[uuid.UUID, Path()],
) -> DeliveryOut:
    async with service.unit_of_work() as tx:
        delivery = await usecases.replay(PostgresUnitOfWork(tx), delivery_id)
    return DeliveryOut.model_validate(delivery, from_attributes=True)
