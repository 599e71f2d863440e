"""Which email a customer gets and in which language: the template, its subject, what it says,
and the idempotency key that makes it one email per thing it is about.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from atiende_runtime.languages import Language


class Template(StrEnum):
    CASE_ACKNOWLEDGEMENT = "case_acknowledgement"
    SURVEY_INVITATION = "survey_invitation"


SUBJECTS: dict[tuple[Template, Language], str] = {
    (Template.CASE_ACKNOWLEDGEMENT, Language.ES): "Hemos recibido su caso",
    (Template.CASE_ACKNOWLEDGEMENT, Language.EN): "We have received your case",
    (Template.SURVEY_INVITATION, Language.ES): "¿Cómo le atendimos?",
    (Template.SURVEY_INVITATION, Language.EN): "How did we do?",
}

_MONTHS: dict[Language, tuple[str, ...]] = {
    Language.ES: (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    Language.EN: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def subject_for(template: Template, language: Language | str, case_number: str) -> str:
    """Subjects lead with the case number, so the customer can find and quote it."""
    return f"[{case_number}] {SUBJECTS[(template, Language(language))]}"


def format_date(value: datetime, language: Language | str) -> str:
    """A date as people write it: "12 de marzo de 2026", "12 March 2026"."""
    language = Language(language)
    month = _MONTHS[language][value.month - 1]
    if language is Language.ES:
        return f"{value.day} de {month} de {value.year}"
    return f"{value.day} {month} {value.year}"


def idempotency_key(template: Template, about: uuid.UUID) -> str:
    """One email of a template per thing it is about (a case, a survey invitation), whatever
    event ids the producer used: a re-emitted event must not write to the customer twice."""
    return f"{template.value}:{about}"


@dataclass(frozen=True)
class Recipient:
    """Notifications' own copy of whom a case's emails go to, learnt from case.opened."""

    case_id: uuid.UUID
    case_number: str
    customer_name: str
    customer_email: str | None
    language: Language


@dataclass(frozen=True)
class Notice:
    """A decided email, before rendering: the template, its language, and what it says."""

    template: Template
    language: Language
    key: str
    recipient: Recipient
    subject: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Body:
    """A notice rendered: the email's plain text and HTML."""

    text: str
    html: str


def acknowledgement(recipient: Recipient) -> Notice:
    template = Template.CASE_ACKNOWLEDGEMENT
    return Notice(
        template=template,
        language=recipient.language,
        key=idempotency_key(template, recipient.case_id),
        recipient=recipient,
        subject=subject_for(template, recipient.language, recipient.case_number),
        context={"customer_name": recipient.customer_name, "case_number": recipient.case_number},
    )


def survey_invitation(
    recipient: Recipient, invitation_id: uuid.UUID, survey_url: str, expires_at: datetime
) -> Notice:
    template = Template.SURVEY_INVITATION
    return Notice(
        template=template,
        language=recipient.language,
        key=idempotency_key(template, invitation_id),
        recipient=recipient,
        subject=subject_for(template, recipient.language, recipient.case_number),
        context={
            "customer_name": recipient.customer_name,
            "case_number": recipient.case_number,
            "survey_url": survey_url,
            "expires_on": format_date(expires_at, recipient.language),
        },
    )
