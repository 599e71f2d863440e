"""The languages and registers (formal "usted" / informal "tú") Atiende writes in, defined once.

Every page, template and parser that needs the list takes it from here; adding a language is one
member here plus its texts.
"""

from __future__ import annotations

import re
from enum import StrEnum

from atiende_contracts import Formality

Register = Formality
"""How to address the customer: formal (usted) or informal (tú). Events carry it as `formality`."""


class Language(StrEnum):
    ES = "es"
    EN = "en"


DEFAULT_LANGUAGE = Language.ES
DEFAULT_REGISTER = Register.FORMAL
LANGUAGES: tuple[Language, ...] = tuple(Language)
LANGUAGE_CODES: tuple[str, ...] = tuple(language.value for language in Language)

_QUALITY = re.compile(r"q\s*=\s*([^;\s]*)")


def language_of(tag: str | None) -> Language | None:
    """The supported language of a BCP 47 tag ("en-GB" -> en), or None."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    try:
        return Language(primary)
    except ValueError:
        return None


def choose_language(tag: str | None) -> Language:
    """The language to write in for a customer's tag: the supported one it names, else Spanish."""
    return language_of(tag) or DEFAULT_LANGUAGE


def negotiate(requested: str | None, accept_language: str | None = None) -> Language:
    """A page's language: `?lang=` if supported, else the browser's most preferred supported
    language (Accept-Language, by quality then order), else Spanish."""
    asked = language_of(requested) if requested and len(requested.strip()) <= 3 else None
    if asked is not None:
        return asked
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        match = _QUALITY.search(params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        language = language_of(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
