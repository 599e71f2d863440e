"""Templates as managed data: read the effective template of a key (and where the fallback
chain found it), save a new version (refused with the line if it does not render), list
versions, remove a saved one, preview."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from atiende_contracts import Formality, NotificationChannel
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.languages import Language
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain import Template
from ...domain.templating import VARIABLES, StoredTemplate, TemplateKey, TemplateText
from ...repository import PostgresUnitOfWork
from ...settings import NotificationsSettings
from .deps import runtime

router = APIRouter(prefix="/templates", tags=["templates"])

RegisterParam = Literal["formal", "informal", "default"]
Admin = Annotated[Principal, Depends(require("admin", "supervisor"))]
Service = Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)]


def _key(
    template: Template, channel: NotificationChannel, language: Language, register: RegisterParam
) -> TemplateKey:
    return TemplateKey(
        template, channel, language, None if register == "default" else Formality(register)
    )


class KeyOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    template: Template
    channel: NotificationChannel
    language: Language
    register_: RegisterParam = Field(alias="register")

    @classmethod
    def of(cls, key: TemplateKey) -> KeyOut:
        register: RegisterParam = key.register.value if key.register else "default"
        return cls(
            template=key.template, channel=key.channel, language=key.language, register_=register
        )


class TemplateIn(RequestModel):
    subject: str | None = Field(default=None, description="Jinja2; required for email")
    body_text: str = Field(description="Jinja2; plain text (the SMS itself for sms)")
    body_html: str | None = Field(
        default=None, description="Jinja2, autoescaped; omitted: derived from the text"
    )


class VersionOut(BaseModel):
    key: KeyOut
    version: int
    subject: str | None
    body_text: str
    body_html: str | None
    active: bool
    outdated: bool
    created_at: datetime
    actor: str | None

    @classmethod
    def of(cls, s: StoredTemplate) -> VersionOut:
        return cls(
            key=KeyOut.of(s.key),
            version=s.version,
            subject=s.text.subject,
            body_text=s.text.body_text,
            body_html=s.text.body_html,
            active=s.active,
            outdated=s.outdated,
            created_at=s.created_at,
            actor=s.actor,
        )


class EffectiveOut(BaseModel):
    requested: KeyOut
    served_by: KeyOut
    shipped: bool = Field(description="True: the shipped text (no saved template on the chain)")
    version: int | None
    outdated: bool
    variables: list[str]
    subject: str | None
    body_text: str
    body_html: str | None


class PreviewIn(RequestModel):
    model_config = ConfigDict(populate_by_name=True)

    template: Template
    channel: NotificationChannel = NotificationChannel.EMAIL
    language: Language = Language.ES
    register_: RegisterParam = Field(default="formal", alias="register")
    draft: TemplateIn | None = Field(default=None, description="Render this instead of the saved")
    case_id: uuid.UUID | None = Field(default=None, description="Use this case's customer")


class PreviewOut(BaseModel):
    served_by: KeyOut
    subject: str | None
    text: str
    html: str | None


KeyPath = "/{template}/{channel}/{language}/{register}"


@router.get(KeyPath, response_model=EffectiveOut, summary="The template a key renders with")
async def get_template(
    service: Service,
    _: Admin,
    template: Annotated[Template, Path()],
    channel: Annotated[NotificationChannel, Path()],
    language: Annotated[Language, Path()],
    register: Annotated[RegisterParam, Path()],
) -> EffectiveOut:
    key = _key(template, channel, language, register)
    async with service.unit_of_work() as tx:
        found = await usecases.effective_template(PostgresUnitOfWork(tx), key)
    return EffectiveOut(
        requested=KeyOut.of(key),
        served_by=KeyOut.of(found.served_by),
        shipped=found.stored is None,
        version=found.stored.version if found.stored else None,
        outdated=found.stored.outdated if found.stored else False,
        variables=list(VARIABLES[template]),
        subject=found.text.subject,
        body_text=found.text.body_text,
        body_html=found.text.body_html,
    )


@router.put(
    KeyPath,
    response_model=VersionOut,
    status_code=201,
    summary="Save a new version (422 naming the field and line if it does not render)",
)
async def save_template(
    service: Service,
    principal: Admin,
    template: Annotated[Template, Path()],
    channel: Annotated[NotificationChannel, Path()],
    language: Annotated[Language, Path()],
    register: Annotated[RegisterParam, Path()],
    body: TemplateIn,
) -> VersionOut:
    key = _key(template, channel, language, register)
    async with service.unit_of_work() as tx:
        stored = await usecases.save_template(
            PostgresUnitOfWork(tx),
            key,
            TemplateText(body.subject, body.body_text, body.body_html),
            actor=actor_of(principal),
        )
    return VersionOut.of(stored)


@router.get(KeyPath + "/versions", response_model=list[VersionOut], summary="Every version")
async def list_versions(
    service: Service,
    _: Admin,
    template: Annotated[Template, Path()],
    channel: Annotated[NotificationChannel, Path()],
    language: Annotated[Language, Path()],
    register: Annotated[RegisterParam, Path()],
) -> list[VersionOut]:
    key = _key(template, channel, language, register)
    async with service.unit_of_work() as tx:
        versions = await usecases.template_versions(PostgresUnitOfWork(tx), key)
    return [VersionOut.of(v) for v in versions]


@router.delete(KeyPath, status_code=204, summary="Stop using the saved template (falls back)")
async def delete_template(
    service: Service,
    principal: Admin,
    template: Annotated[Template, Path()],
    channel: Annotated[NotificationChannel, Path()],
    language: Annotated[Language, Path()],
    register: Annotated[RegisterParam, Path()],
) -> Response:
    key = _key(template, channel, language, register)
    async with service.unit_of_work() as tx:
        await usecases.remove_template(PostgresUnitOfWork(tx), key, actor=actor_of(principal))
    return Response(status_code=204)


@router.post(
    "/preview",
    response_model=PreviewOut,
    summary="Render against a sample or a case",
    responses={404: {"description": "case_id names no case notifications knows (problem+json)"}},
)
async def preview(service: Service, _: Admin, body: PreviewIn) -> PreviewOut:
    key = _key(body.template, body.channel, body.language, body.register_)
    draft = (
        TemplateText(body.draft.subject, body.draft.body_text, body.draft.body_html)
        if body.draft
        else None
    )
    async with service.unit_of_work() as tx:
        served_by, rendered = await usecases.preview(
            PostgresUnitOfWork(tx), key, draft, case_id=body.case_id
        )
    return PreviewOut(
        served_by=KeyOut.of(served_by),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )
