"""The public contact form: its fields and their rules (those of a recorded contact, checked here
so each problem can be shown next to its field). Pure: no I/O. The words of its pages are the
pages' own (entrypoints/pages/texts.py).

Two deliberate choices:
- The survey consent checkbox starts unticked. Consent is a choice the customer makes, not one we
  make for them and let them undo (a pre-ticked box is not valid consent under the GDPR); and a
  customer who wants to tell us how it went will tick it.
- A hidden "website" field (CSS hides it; assistive technology skips it) is the bot trap: people
  never fill it, form-filling bots do. A submission with it filled gets the ordinary thank-you
  page, so the bot learns nothing, but nothing is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum

from atiende_contracts import Channel, ContactKind
from atiende_runtime.languages import Language

from .catalogue import CatalogueEntry
from .contacts import (
    CASE_NUMBER_PATTERN,
    EXPECTATION_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    RecordContact,
)
from .customers import CustomerRef, identity_fields, normalise_email, normalise_phone

WEB_TOUCHPOINT = "WEB"
HONEYPOT_FIELD = "website"

KINDS = (
    ContactKind.COMPLAINT,
    ContactKind.CLAIM,
    ContactKind.INFORMATION_REQUEST,
    ContactKind.SUGGESTION,
    ContactKind.COMPLIMENT,
)

MAX_LENGTHS = {
    "name": 200,
    "email": 320,
    "phone": 40,
    "description": TEXT_MAX_LENGTH,
    "expectation": EXPECTATION_MAX_LENGTH,
    "case_number": 40,
}
REQUIRED = ("name", "email", "kind", "motive", "description")
_CASE_NUMBER = re.compile(f"^{CASE_NUMBER_PATTERN}$")


class FormProblem(StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    NOT_AN_OPTION = "not_an_option"
    INVALID_CASE_NUMBER = "invalid_case_number"
    UNKNOWN_CASE = "unknown_case"


class InvalidForm(Exception):
    def __init__(self, problems: dict[str, FormProblem]) -> None:
        super().__init__(", ".join(f"{name}: {problem}" for name, problem in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class FormValues:
    """What was typed, as typed (trimmed): kept to show the form again after an error."""

    name: str = ""
    email: str = ""
    phone: str = ""
    kind: str = ""
    motive: str = ""
    description: str = ""
    expectation: str = ""
    case_number: str = ""
    survey_consent: bool = False
    website: str = ""  # the honeypot

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> FormValues:
        """From decoded form fields; a field sent twice counts once (its first value)."""
        given: dict[str, str] = {}
        for name, value in pairs:
            given.setdefault(name, value)
        text = {
            f.name: given.get(f.name, "").strip() for f in fields(cls) if f.name != "survey_consent"
        }
        return cls(**text, survey_consent="survey_consent" in given)

    @property
    def is_bot(self) -> bool:
        return bool(self.website)


@dataclass(frozen=True)
class FormContact:
    contact: RecordContact
    survey_consent: bool
    language: Language


def parse_form(values: FormValues, motives: Iterable[str], language: Language) -> FormContact:
    """The contact a submission is, or InvalidForm naming each field's first problem.
    `motives` are the codes the page offered (the active motives)."""
    problems: dict[str, FormProblem] = {}
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(values, name)) > limit:
            problems[name] = FormProblem.TOO_LONG
    for name in REQUIRED:
        if not getattr(values, name):
            problems.setdefault(name, FormProblem.MISSING)
    email = phone = None
    if "email" not in problems:
        try:
            email = normalise_email(values.email)
        except ValueError:
            problems["email"] = FormProblem.INVALID_EMAIL
    if values.phone and "phone" not in problems:
        try:
            phone = normalise_phone(values.phone)
        except ValueError:
            problems["phone"] = FormProblem.INVALID_PHONE
    if values.kind and values.kind not in KINDS:
        problems["kind"] = FormProblem.NOT_AN_OPTION
    if values.motive and values.motive not in set(motives):
        problems["motive"] = FormProblem.NOT_AN_OPTION
    case_number = values.case_number.upper().replace(" ", "") or None
    if case_number and "case_number" not in problems and not _CASE_NUMBER.match(case_number):
        problems["case_number"] = FormProblem.INVALID_CASE_NUMBER
    if problems:
        raise InvalidForm(problems)
    contact = RecordContact(
        customer=CustomerRef(identity_fields(email=email, phone=phone), name=values.name),
        kind=ContactKind(values.kind),
        channel=Channel.WEB_FORM,
        text=values.description,
        expectation=values.expectation or None,
        motive=values.motive,
        touchpoint=WEB_TOUCHPOINT,
        case_number=case_number,
    )
    return FormContact(contact, values.survey_consent, language)


def motive_options(
    entries: Iterable[CatalogueEntry], language: str, last: str
) -> list[tuple[str, str]]:
    """(code, name) of each motive in the page's language, alphabetical, with the catch-all
    motive (`last`, the default motive) at the end where people look for "other"."""
    named = [(e.code, e.name_en if language == "en" else e.name_es) for e in entries]
    return sorted(named, key=lambda option: (option[0] == last, option[1].casefold()))
