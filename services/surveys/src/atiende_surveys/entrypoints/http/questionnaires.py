"""Questionnaires as managed data (admin): list, read, publish a new version; and the API
trigger of the post-sale follow-up (the same as the sale.completed event)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, JsonValue, StrictBool, StrictInt

from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain.questionnaires import (
    RESERVED_FIELDS,
    TEXT_MAX_LENGTH,
    Dimension,
    QuestionnaireKind,
    QuestionType,
    Role,
    questionnaire_from_data,
    questionnaire_to_data,
)
from ...repository import PostgresUnitOfWork
from ...settings import SurveysSettings
from ..config import survey_config
from .deps import runtime

router = APIRouter(tags=["questionnaires"])
Runtime = Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)]


class OptionIn(RequestModel):
    code: str = Field(min_length=1, max_length=40)
    label: dict[str, str] = Field(min_length=1, description="Per language/register")


class QuestionIn(RequestModel):
    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Unique in the questionnaire; not a reserved field name",
        json_schema_extra={"not": {"enum": list[JsonValue](sorted(RESERVED_FIELDS))}},
    )
    type: QuestionType
    text: dict[str, str] = Field(
        min_length=1, description='Per language/register: "es", "es-tu", "en"...'
    )
    required: StrictBool = True
    minimum: StrictInt = Field(default=1, ge=0, le=10, description="A scale's lowest value")
    maximum: StrictInt = Field(
        default=5, ge=0, le=10, description="A scale's highest, above minimum"
    )
    low_label: dict[str, str] | None = None
    high_label: dict[str, str] | None = None
    labels: list[dict[str, str]] = []
    options: list[OptionIn] = Field(default=[], description="A choice needs at least one")
    role: Role | None = None
    dimension: Dimension | None = Field(default=None, description="A SERVQUAL item needs one")
    reversed: StrictBool = False
    max_length: int = Field(default=TEXT_MAX_LENGTH, ge=1, le=TEXT_MAX_LENGTH)


class QuestionnaireIn(RequestModel):
    kind: QuestionnaireKind
    title: dict[str, str]
    intro: dict[str, str] = {}
    gap_threshold: float = -1.0
    questions: list[QuestionIn] = Field(min_length=1)


class QuestionnaireIds(BaseModel):
    items: list[str]


@router.get("/questionnaires", response_model=QuestionnaireIds, summary="Questionnaire ids")
async def list_questionnaires(
    rt: Runtime, _: Annotated[Principal, Depends(require("supervisor", "agent"))]
) -> QuestionnaireIds:
    async with rt.unit_of_work() as tx:
        return QuestionnaireIds(items=await usecases.questionnaire_ids(PostgresUnitOfWork(tx)))


@router.get("/questionnaires/{questionnaire_id}", summary="The current version of one")
async def get_questionnaire(
    questionnaire_id: str,
    rt: Runtime,
    _: Annotated[Principal, Depends(require("supervisor", "agent"))],
) -> dict[str, object]:
    async with rt.unit_of_work() as tx:
        found = await usecases.questionnaire(PostgresUnitOfWork(tx), questionnaire_id)
    return questionnaire_to_data(found)


@router.put(
    "/questionnaires/{questionnaire_id}",
    status_code=201,
    summary="Publish a new version (422 for a questionnaire with no questions or a bad one)",
)
async def publish_questionnaire(
    questionnaire_id: str,
    body: QuestionnaireIn,
    rt: Runtime,
    principal: Annotated[Principal, Depends(require("supervisor"))],
) -> dict[str, object]:
    draft = questionnaire_from_data(
        {"id": questionnaire_id, "version": 1, **body.model_dump(mode="json")}
    )  # raises EmptyQuestionnaire / InvalidQuestionnaire: 422
    async with rt.unit_of_work() as tx:
        published = await usecases.publish_questionnaire(
            PostgresUnitOfWork(tx), draft, actor=actor_of(principal)
        )
    return questionnaire_to_data(published)


class SaleIn(RequestModel):
    sale_id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None = None
    case_number: str | None = None


class ScheduledOut(BaseModel):
    id: uuid.UUID
    due_at: datetime


@router.post(
    "/sales",
    status_code=202,
    response_model=ScheduledOut,
    summary="A completed sale: schedule its post-sale follow-up (as sale.completed does)",
)
async def sale_completed(
    body: SaleIn, rt: Runtime, _: Annotated[Principal, Depends(require("supervisor"))]
) -> ScheduledOut:
    async with rt.unit_of_work() as tx:
        due = await usecases.sale_completed(
            PostgresUnitOfWork(tx),
            sale_id=body.sale_id,
            customer_id=body.customer_id,
            case_id=body.case_id,
            case_number=body.case_number,
            now=datetime.now(UTC),
            config=survey_config(rt.settings),
        )
    return ScheduledOut(id=due.id, due_at=due.due_at)
