"""Periodic relationship surveys of a segment (admin): start a campaign, read it back. Its
invitations are scheduled rows decided by the survey timer through the one budget; what is not
sent is in `GET /suppressions`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.languages import Language
from atiende_runtime.params import IsoDateTime
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain import Campaign, Segment
from ...repository import PostgresUnitOfWork
from ...settings import SurveysSettings
from ..config import survey_config
from .deps import runtime

router = APIRouter(tags=["campaigns"])
Runtime = Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)]


class SegmentIn(RequestModel):
    language: Language | None = Field(default=None, description="The customer's language")
    tier: str | None = Field(default=None, description="The tier of the customer's latest case")
    contacted_within_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,  # a century: beyond it the date arithmetic overflows, and no one means it
        description="The customer's latest case opened within this many days",
    )


class CampaignIn(RequestModel):
    questionnaire_id: str = "periodic"
    segment: SegmentIn = SegmentIn()
    send_from: IsoDateTime | None = Field(default=None, description="Default: now")
    send_until: IsoDateTime = Field(description="Invitations not sent by then are suppressed")


class CampaignOut(BaseModel):
    id: uuid.UUID
    questionnaire_id: str
    segment: SegmentIn
    send_from: datetime
    send_until: datetime
    created_at: datetime
    scheduled: int = Field(description="Invitations scheduled (each still subject to the budget)")

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        segment = campaign.segment
        return cls(
            id=campaign.id,
            questionnaire_id=campaign.questionnaire_id,
            segment=SegmentIn(
                language=Language(segment.language) if segment.language else None,
                tier=segment.tier,
                contacted_within_days=segment.contacted_within_days,
            ),
            send_from=campaign.send_from,
            send_until=campaign.send_until,
            created_at=campaign.created_at,
            scheduled=campaign.scheduled,
        )


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignOut,
    summary="Start the periodic survey of a segment: one invitation per matching customer",
    responses={422: {"description": "Unknown questionnaire, empty or past window (problem+json)"}},
)
async def start_campaign(
    body: CampaignIn,
    request: Request,
    rt: Runtime,
    principal: Annotated[Principal, Depends(require("supervisor"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    async with rt.unit_of_work() as tx:

        async def produce() -> Answer:
            started = await usecases.start_campaign(
                PostgresUnitOfWork(tx),
                questionnaire_id=body.questionnaire_id,
                segment=Segment(
                    language=body.segment.language.value if body.segment.language else None,
                    tier=body.segment.tier,
                    contacted_within_days=body.segment.contacted_within_days,
                ),
                send_from=body.send_from or now,
                send_until=body.send_until,
                now=now,
                config=survey_config(rt.settings),
                actor=actor_of(principal),
            )
            return Answer(201, CampaignOut.of(started), {"Location": f"/campaigns/{started.id}"})

        return await idempotency.once(tx.conn, request, idempotency_key, body, produce)


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    summary="One campaign",
    responses={404: {"description": "Unknown campaign (problem+json)"}},
)
async def get_campaign(
    campaign_id: uuid.UUID,
    rt: Runtime,
    _: Annotated[Principal, Depends(require("supervisor"))],
) -> CampaignOut:
    async with rt.unit_of_work() as tx:
        return CampaignOut.of(await usecases.campaign_by_id(PostgresUnitOfWork(tx), campaign_id))
