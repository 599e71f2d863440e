"""/phrasebook: the calming phrases for step 1, per language and register (admins manage them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atiende_runtime.bodies import RequestModel
from atiende_runtime.languages import Language, Register

from ...domain.phrasebook import MAX_LENGTH, MAX_PHRASES
from ...repository import PostgresUnitOfWork
from ...usecases import phrasebook
from .deps import Admin, Anyone, Runtime

router = APIRouter(tags=["phrasebook"])


class PhraseOut(BaseModel):
    language: str
    register_: str = Field(serialization_alias="register")
    position: int
    text: str


class PhraseList(RequestModel):
    model_config = ConfigDict(extra="forbid")

    phrases: list[Annotated[str, Field(min_length=1, max_length=MAX_LENGTH, pattern=r"\S")]] = (
        Field(
            min_length=1,
            max_length=MAX_PHRASES,
            description="In the order agents see them; 1 to 12, each unique (ignoring case)",
        )
    )


@router.get("/phrasebook", response_model=list[PhraseOut], summary="The phrasebook")
async def list_phrases(
    runtime: Runtime, _: Anyone, language: str | None = None, register: str | None = None
) -> list[PhraseOut]:
    async with runtime.unit_of_work() as tx:
        found = await phrasebook.phrases(PostgresUnitOfWork(tx), language, register)
    return [
        PhraseOut(language=p.language, register_=p.register.value, position=p.position, text=p.text)
        for p in found
    ]


@router.put(
    "/phrasebook/{language}/{register}",
    response_model=list[PhraseOut],
    summary="Replace the phrases of one language and register (admin)",
    responses={422: {"description": "Unknown language or register, empty or duplicate phrase"}},
)
async def set_phrases(
    language: Language, register: Register, body: PhraseList, runtime: Runtime, _: Admin
) -> list[PhraseOut]:
    async with runtime.unit_of_work() as tx:
        stored = await phrasebook.set_phrases(
            PostgresUnitOfWork(tx), language, register, body.phrases
        )
    return [
        PhraseOut(language=p.language, register_=p.register.value, position=p.position, text=p.text)
        for p in stored
    ]
