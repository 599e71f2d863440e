"""Customers and the identities we recognise them by. Pure: normalisation and decisions only.

A customer has any number of identities — email, phone (E.164), national document, ids in other
systems, chat handles. A contact arriving through any of them resolves to the same customer.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Self

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atiende_contracts import CustomerProfileChanged, Formality, Tier

DEFAULT_PHONE_REGION = "ES"
"""Phone numbers written without a country code are read as numbers of this region."""

SUPPORTED_LANGUAGES = ("es", "en")


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    DOCUMENT = "document"
    EXTERNAL = "external"
    CHAT = "chat"


@dataclass(frozen=True, order=True)
class Identity:
    """A normalised identity. `scope` names the other system, the chat platform or the document
    type; it is empty for email and phone."""

    kind: IdentityKind
    value: str
    scope: str = ""


def normalise_email(raw: str) -> str:
    """Lower-cased, syntax-checked address (no DNS lookup: intake must not depend on it)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.normalized.lower()


def normalise_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form (+34600123456) of a valid phone number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_document(raw: str) -> str:
    """Upper case without spaces, dots or dashes: `12.345.678-k` → `12345678K`."""
    value = "".join(ch for ch in raw.upper() if ch.isalnum())
    if not 4 <= len(value) <= 32:
        raise ValueError("a document number has 4 to 32 letters or digits")
    return value


class ExternalId(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    system: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    id: str = Field(min_length=1, max_length=200)


class ChatHandle(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    handle: str = Field(min_length=1, max_length=200)


class CustomerIdentitiesIn(BaseModel):
    """Ways to recognise a customer, as a client sends them; validated and normalised."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40, description="E.164, or national")
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        pattern=r"^[A-Z]{2}$",
        description="Country (ISO 3166-1 alpha-2) of a phone number written without +code",
    )
    document_id: str | None = Field(default=None, max_length=40)
    document_type: str = Field(default="national_id", max_length=30, pattern=r"^[a-z0-9_]+$")
    external_ids: list[ExternalId] = Field(default_factory=list, max_length=10)
    chat_handles: list[ChatHandle] = Field(default_factory=list, max_length=10)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None

    @field_validator("document_id")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        return normalise_document(value) if value else None

    @model_validator(mode="after")
    def _phone(self) -> Self:
        if self.phone:
            self.phone = normalise_phone(self.phone, self.phone_region)
        return self

    def identities(self) -> list[Identity]:
        found: list[Identity] = []
        if self.document_id:
            found.append(Identity(IdentityKind.DOCUMENT, self.document_id, self.document_type))
        if self.email:
            found.append(Identity(IdentityKind.EMAIL, self.email))
        if self.phone:
            found.append(Identity(IdentityKind.PHONE, self.phone))
        found += [Identity(IdentityKind.EXTERNAL, e.id, e.system) for e in self.external_ids]
        found += [Identity(IdentityKind.CHAT, c.handle, c.platform) for c in self.chat_handles]
        return found


class CustomerRef(CustomerIdentitiesIn):
    """Who a contact is from: an existing customer's id, or identities (and a name) to resolve."""

    id: uuid.UUID | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _recognisable(self) -> Self:
        if self.id is None and not self.identities():
            raise ValueError(
                "give the customer's id, or at least one identity "
                "(email, phone, document_id, external_ids, chat_handles)"
            )
        return self


IDENTITY_PRIORITY = {
    IdentityKind.DOCUMENT: 0,
    IdentityKind.EXTERNAL: 1,
    IdentityKind.EMAIL: 2,
    IdentityKind.PHONE: 3,
    IdentityKind.CHAT: 4,
}
"""When identities of one contact point at different customers, the strongest one decides."""


def choose_customer(matches: dict[Identity, uuid.UUID]) -> uuid.UUID | None:
    """The customer a contact belongs to, given which known customer each identity points at."""
    if not matches:
        return None
    strongest = min(matches, key=lambda identity: IDENTITY_PRIORITY[identity.kind])
    return matches[strongest]


@dataclass(frozen=True)
class Profile:
    """What other services need to know to treat a customer well."""

    customer_id: uuid.UUID
    tier: Tier
    language: str
    formality: Formality
    consent_surveys: bool
    consent_marketing: bool

    def changed_event(self, at: datetime) -> CustomerProfileChanged:
        return CustomerProfileChanged(
            customer_id=self.customer_id,
            tier=self.tier,
            language=self.language,
            formality=self.formality,
            consent_surveys=self.consent_surveys,
            consent_marketing=self.consent_marketing,
            changed_at=at,
        )


def pseudonym(customer_id: uuid.UUID, field: str) -> str:
    """A stable, meaningless stand-in for erased personal data (same input, same output), so
    counts and joins survive erasure but nothing identifies the person."""
    digest = hashlib.sha256(f"{customer_id}:{field}".encode()).hexdigest()[:16]
    return f"erased-{digest}"
