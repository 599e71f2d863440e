"""Which message a person gets, in which language and register: the message (template), its
idempotency key, what it says (its variables), and whether it may wait for quiet hours to end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from atiende_contracts import Formality
from atiende_runtime.languages import Language


class Template(StrEnum):
    """Every message notifications sends (the first part of a template's key)."""

    CASE_ACKNOWLEDGEMENT = "case_acknowledgement"
    SURVEY_INVITATION = "survey_invitation"
    COMMITMENT_MADE = "commitment_made"
    WAITING_ON_YOU = "waiting_on_you"
    CASE_RESOLVED = "case_resolved"
    COMPENSATION_GRANTED = "compensation_granted"
    SURVEY_REMINDER = "survey_reminder"
    PROBLEM_RESOLVED = "problem_resolved"
    STAFF_CASE_ASSIGNED = "staff_case_assigned"
    STAFF_SLA_WARNING = "staff_sla_warning"
    STAFF_SLA_BREACHED = "staff_sla_breached"
    STAFF_COMMITMENT_DUE_SOON = "staff_commitment_due_soon"
    STAFF_COMMITMENT_MISSED = "staff_commitment_missed"
    STAFF_ESCALATED = "staff_escalated"
    STAFF_APPROVAL_REQUESTED = "staff_approval_requested"
    STAFF_WEBHOOK_DISABLED = "staff_webhook_disabled"
    """To the administrators: a webhook endpoint was disabled (410 Gone, or failing for days)."""
    WEBHOOK_EVENT = "webhook_event"
    """Not a text: an event delivered to a webhook endpoint as JSON."""

    @property
    def for_staff(self) -> bool:
        return self.value.startswith("staff_")


SUBJECTS: dict[tuple[Template, Language], str] = {
    (Template.CASE_ACKNOWLEDGEMENT, Language.ES): "Hemos recibido su caso",
    (Template.CASE_ACKNOWLEDGEMENT, Language.EN): "We have received your case",
    (Template.SURVEY_INVITATION, Language.ES): "¿Cómo le atendimos?",
    (Template.SURVEY_INVITATION, Language.EN): "How did we do?",
}
"""The formal subjects of the first two messages (the shipped templates carry every subject)."""

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


def format_moment(value: datetime, language: Language | str) -> str:
    """A date and time in the zone `value` carries: "12 de marzo de 2026, 12:00"."""
    return f"{format_date(value, language)}, {value:%H:%M}"


def format_money(amount: Decimal, currency: str, language: Language | str) -> str:
    """An amount as people of the language write it: "1.234,50 EUR", "1,234.50 EUR"."""
    figures = f"{amount:,.2f}"
    if Language(language) is Language.ES:
        figures = figures.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{figures} {currency}"


def idempotency_key(template: Template, about: uuid.UUID | str) -> str:
    """One message of a template per thing it is about (a case, a survey invitation), whatever
    event ids the producer used: a re-emitted event must not write to anyone twice."""
    return f"{template.value}:{about}"


@dataclass(frozen=True)
class Recipient:
    """Notifications' own copy of whom a case's messages go to, learnt from case.opened."""

    case_id: uuid.UUID
    case_number: str
    customer_name: str
    customer_email: str | None
    language: Language
    customer_id: uuid.UUID | None = None
    formality: Formality = Formality.FORMAL
    customer_phone: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class StaffAddress:
    """Whom a staff message goes to (from routing's agent events)."""

    agent_id: str | None
    email: str | None
    name: str | None = None


@dataclass(frozen=True)
class Notice:
    """A decided message, before rendering: the template, its language, and what it says."""

    template: Template
    language: Language
    key: str
    recipient: Recipient
    subject: str
    context: dict[str, Any]
    register: Formality = Formality.FORMAL
    urgent: bool = False
    """Goes out even in quiet hours (e.g. a promise due before they end)."""
    staff: StaffAddress | None = None
    """Set for staff messages: they go to this person, not to the customer."""
    urgent_before: datetime | None = field(default=None)
    """Urgent only if quiet hours would hold it past this moment."""


@dataclass(frozen=True)
class Body:
    """A notice rendered: its plain text and HTML (and subject, when a template gave one)."""

    text: str
    html: str | None
    subject: str | None = None


def _base(recipient: Recipient) -> dict[str, Any]:
    return {"customer_name": recipient.customer_name, "case_number": recipient.case_number}


def customer_notice(
    template: Template, recipient: Recipient, about: uuid.UUID | str, **context: Any
) -> Notice:
    """A message to the case's customer, in their language and register."""
    subject = SUBJECTS.get((template, recipient.language), template.value.replace("_", " "))
    return Notice(
        template=template,
        language=recipient.language,
        key=idempotency_key(template, about),
        recipient=recipient,
        subject=f"[{recipient.case_number}] {subject}",
        context={**_base(recipient), **context},
        register=recipient.formality,
    )


def staff_notice(
    template: Template,
    recipient: Recipient,
    staff: StaffAddress,
    about: str,
    language: Language,
    **context: Any,
) -> Notice:
    """A message to a staff member about a case (always urgent: staff have no quiet hours)."""
    return Notice(
        template=template,
        language=language,
        key=idempotency_key(template, about),
        recipient=recipient,
        subject=f"[{recipient.case_number}] {template.value}",
        context={
            "case_number": recipient.case_number,
            "agent_name": staff.name or "",
            **context,
        },
        register=Formality.INFORMAL,
        urgent=True,
        staff=staff,
    )


def acknowledgement(recipient: Recipient) -> Notice:
    # urgent: it answers the customer's own contact, who is waiting for it right now
    notice = customer_notice(Template.CASE_ACKNOWLEDGEMENT, recipient, recipient.case_id)
    return Notice(**{**notice.__dict__, "urgent": True})


def survey_invitation(
    recipient: Recipient, invitation_id: uuid.UUID, survey_url: str, expires_at: datetime
) -> Notice:
    return customer_notice(
        Template.SURVEY_INVITATION,
        recipient,
        invitation_id,
        survey_url=survey_url,
        expires_on=format_date(expires_at, recipient.language),
    )
