"""Webhook endpoints: create (the secret is shown once), list, change (enable/disable, URL,
event filter), rotate the secret, see the deliveries, replay one or a time range."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, StrictBool

from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.params import IsoDateTime
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain.webhooks import Endpoint
from ...repository import PostgresUnitOfWork
from ...settings import NotificationsSettings
from .deliveries import DeliveryOut
from .deps import runtime

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require("admin"))]
Service = Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)]


def _urls(settings: NotificationsSettings) -> usecases.UrlPolicy:
    return usecases.UrlPolicy(
        allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private
    )


WEBHOOK_URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s]*)?$"
"""The shape of a webhook URL; whether http is allowed (ATIENDE_WEBHOOK_ALLOW_HTTP) and whether
the host is public are checked when it is saved (422 rules `https` and `public`)."""
URL_HELP = "https URL of a public host (http only where ATIENDE_WEBHOOK_ALLOW_HTTP is set)"


class EndpointIn(RequestModel):
    url: str = Field(pattern=WEBHOOK_URL, max_length=2048, description=URL_HELP)
    event_types: list[str] = Field(
        default_factory=list, description='e.g. ["case.opened", "commitment.*"]; empty: all'
    )
    description: str | None = None
    secret: str | None = Field(
        default=None, pattern=r"^whsec_[A-Za-z0-9+/=]{32,}$", description="Generated if omitted"
    )


class EndpointPatch(RequestModel):
    url: str | None = Field(
        default=None, pattern=WEBHOOK_URL, max_length=2048, description=URL_HELP
    )
    event_types: list[str] | None = None
    enabled: StrictBool | None = None


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    secrets: int = Field(description="How many secrets sign (two during a rotation)")

    @classmethod
    def of(cls, e: Endpoint) -> EndpointOut:
        return cls(
            id=e.id,
            url=e.url,
            event_types=list(e.event_types),
            description=e.description,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            created_at=e.created_at,
            secrets=len(e.live_secrets(datetime.now(e.created_at.tzinfo))),
        )


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: shown only now")


class ReplayIn(RequestModel):
    since: IsoDateTime | None = None
    until: IsoDateTime | None = None
    only_failed: StrictBool = True


@router.post("/endpoints", response_model=EndpointCreated, status_code=201)
async def create_endpoint(service: Service, principal: Admin, body: EndpointIn) -> EndpointCreated:
    async with service.unit_of_work() as tx:
        endpoint = await usecases.create_endpoint(
            PostgresUnitOfWork(tx),
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            secret=body.secret,
            actor=actor_of(principal),
            urls=_urls(service.settings),
        )
    return EndpointCreated(
        **EndpointOut.of(endpoint).model_dump(), secret=endpoint.secrets[0].value
    )


@router.get("/endpoints", response_model=list[EndpointOut])
async def list_endpoints(service: Service, _: Admin) -> list[EndpointOut]:
    async with service.unit_of_work() as tx:
        endpoints = await PostgresUnitOfWork(tx).endpoints.all()
    return [EndpointOut.of(e) for e in endpoints]


@router.get("/endpoints/{endpoint_id}", response_model=EndpointOut)
async def get_endpoint(
    service: Service, _: Admin, endpoint_id: Annotated[uuid.UUID, Path()]
) -> EndpointOut:
    async with service.unit_of_work() as tx:
        endpoint = await usecases.get_endpoint(PostgresUnitOfWork(tx), endpoint_id)
    return EndpointOut.of(endpoint)


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointOut)
async def change_endpoint(
    service: Service,
    principal: Admin,
    endpoint_id: Annotated[uuid.UUID, Path()],
    body: EndpointPatch,
) -> EndpointOut:
    async with service.unit_of_work() as tx:
        endpoint = await usecases.change_endpoint(
            PostgresUnitOfWork(tx),
            endpoint_id,
            enabled=body.enabled,
            event_types=body.event_types,
            url=body.url,
            actor=actor_of(principal),
            urls=_urls(service.settings),
        )
    return EndpointOut.of(endpoint)


@router.post(
    "/endpoints/{endpoint_id}/secret",
    response_model=EndpointCreated,
    summary="Rotate: a new secret; the old one keeps signing for the overlap",
)
async def rotate_secret(
    service: Service, _: Admin, endpoint_id: Annotated[uuid.UUID, Path()]
) -> EndpointCreated:
    async with service.unit_of_work() as tx:
        endpoint, secret = await usecases.rotate_secret(
            PostgresUnitOfWork(tx),
            endpoint_id,
            overlap=timedelta(seconds=service.settings.webhook_secret_overlap),
        )
    return EndpointCreated(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=list[DeliveryOut])
async def endpoint_deliveries(
    service: Service,
    _: Admin,
    endpoint_id: Annotated[uuid.UUID, Path()],
    since: Annotated[IsoDateTime | None, Query()] = None,
    until: Annotated[IsoDateTime | None, Query()] = None,
) -> list[DeliveryOut]:
    async with service.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        await usecases.get_endpoint(uow, endpoint_id)
        found = await uow.deliveries.of_endpoint(endpoint_id, since, until)
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in found]


@router.post("/endpoints/{endpoint_id}/replay", response_model=list[DeliveryOut])
async def replay_range(
    service: Service, _: Admin, endpoint_id: Annotated[uuid.UUID, Path()], body: ReplayIn
) -> list[DeliveryOut]:
    async with service.unit_of_work() as tx:
        replayed = await usecases.replay_range(
            PostgresUnitOfWork(tx),
            endpoint_id,
            body.since,
            body.until,
            only_failed=body.only_failed,
        )
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in replayed]
