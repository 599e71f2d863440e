"""The phrasebook of calming phrases (step 1), managed per language and register; a case gets
the ones for its customer's language and register."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from atiende_runtime.languages import DEFAULT_REGISTER, choose_language

from ..domain import phrasebook
from ..domain.phrasebook import Phrase
from ..repository import UnitOfWork
from . import casework


async def phrases(
    uow: UnitOfWork, language: str | None = None, register: str | None = None
) -> list[Phrase]:
    return await uow.phrasebook.phrases(language, register)


async def set_phrases(
    uow: UnitOfWork, language: str, register: str, texts: Sequence[str]
) -> list[Phrase]:
    checked = phrasebook.validate(language, register, texts)
    await uow.phrasebook.replace(language, register, checked)
    return checked


async def phrases_for_case(uow: UnitOfWork, case_id: uuid.UUID) -> list[Phrase]:
    """In the customer's language (the default one if routing has no phrases in it) and
    register (formal unless the customer asked otherwise)."""
    case = await casework.get(uow, case_id)
    language = choose_language(case.language).value
    register = case.formality or DEFAULT_REGISTER.value
    return await uow.phrasebook.phrases(language, register)
