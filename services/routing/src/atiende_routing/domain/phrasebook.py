"""The phrasebook: short calming phrases for step 1 (respect shown), kept per language and
register because what calms a customer addressed as "usted" differs from "tú". Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from atiende_runtime.errors import FieldError, Invalid
from atiende_runtime.languages import LANGUAGE_CODES, Register

MAX_PHRASES = 12
MAX_LENGTH = 200


@dataclass(frozen=True)
class Phrase:
    language: str
    register: Register
    position: int
    text: str


def validate(language: str, register: str, texts: Iterable[str]) -> list[Phrase]:
    """A whole list for one language and register; Invalid names each broken phrase."""
    errors: list[FieldError] = []
    if language not in LANGUAGE_CODES:
        errors.append(
            FieldError("language", "language", f"one of {', '.join(sorted(LANGUAGE_CODES))}")
        )
    try:
        reg = Register(register)
    except ValueError:
        errors.append(
            FieldError("register", "register", f"one of {', '.join(r.value for r in Register)}")
        )
        reg = Register.FORMAL
    cleaned = [t.strip() for t in texts]
    if not cleaned:
        errors.append(FieldError("phrases", "required", "at least one phrase"))
    if len(cleaned) > MAX_PHRASES:
        errors.append(FieldError("phrases", "length", f"at most {MAX_PHRASES} phrases"))
    seen: set[str] = set()
    for i, text in enumerate(cleaned):
        if not text:
            errors.append(FieldError(f"phrases.{i}", "required", "an empty phrase"))
        elif len(text) > MAX_LENGTH:
            errors.append(FieldError(f"phrases.{i}", "length", f"at most {MAX_LENGTH} characters"))
        elif text.casefold() in seen:
            errors.append(FieldError(f"phrases.{i}", "duplicate", "the phrase is listed twice"))
        seen.add(text.casefold())
    if errors:
        raise Invalid(errors)
    return [Phrase(language, reg, i, text) for i, text in enumerate(cleaned)]
