"""Customers and the identities we recognise them by. Pure: normalisation and decisions only.

A customer has any number of identities — email, phone (E.164), national document, ids in other
systems, chat handles. A contact arriving through any of them resolves to the same customer.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
    # before `phone`: the phone's validator reads it
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        pattern=r"^[A-Z]{2}$",
        description="Country (ISO 3166-1 alpha-2) of a phone number written without +code",
    )
    phone: str | None = Field(default=None, max_length=40, description="E.164, or national")
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

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value or "phone_region" not in info.data:  # a bad region is reported already
            return value
        return normalise_phone(value, info.data["phone_region"])

    def identities(self) -> list[Identity]:
        return [identity for _, identity in self.identity_fields()]

    def identity_fields(self) -> list[tuple[str, Identity]]:
        """Each identity with the request field it came from, so an error can name the field."""
        found: list[tuple[str, Identity]] = []
        if self.document_id:
            document = Identity(IdentityKind.DOCUMENT, self.document_id, self.document_type)
            found.append(("document_id", document))
        if self.email:
            found.append(("email", Identity(IdentityKind.EMAIL, self.email)))
        if self.phone:
            found.append(("phone", Identity(IdentityKind.PHONE, self.phone)))
        found += [
            (f"external_ids.{n}", Identity(IdentityKind.EXTERNAL, e.id, e.system))
            for n, e in enumerate(self.external_ids)
        ]
        found += [
            (f"chat_handles.{n}", Identity(IdentityKind.CHAT, c.handle, c.platform))
            for n, c in enumerate(self.chat_handles)
        ]
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


# --- managing customers over the API -------------------------------------------------------

Language = Literal["es", "en"]
"""The languages intake's templates and pages exist in (SUPPORTED_LANGUAGES)."""


def refuse_null(value: Any) -> Any:
    """Fields a PATCH may leave out but never set to null (null would mean "unknown", and these
    always have a value)."""
    if value is None:
        raise PydanticCustomError("not_null", "may be left out, but not null")
    return value


class NewCustomer(CustomerIdentitiesIn):
    """A customer created by an agent or another system, with any identities known so far."""

    name: str = Field(min_length=1, max_length=200)
    tier: Tier = Tier.STANDARD
    language: Language = "es"
    formality: Formality = Formality.FORMAL
    consent_surveys: bool = True
    consent_marketing: bool = False


class CustomerChanges(BaseModel):
    """A PATCH of a customer: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: Tier | None = None
    language: Language | None = None
    formality: Formality | None = None
    consent_surveys: bool | None = None
    consent_marketing: bool | None = None

    @field_validator(
        "name", "tier", "language", "formality", "consent_surveys", "consent_marketing"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def applied_to(self, profile: Profile) -> Profile:
        """The profile after these changes (the name is not part of the profile)."""
        return replace(profile, **self.model_dump(exclude_unset=True, exclude={"name"}))


IDENTITY_QUERY_FIELDS = ("email", "phone", "document_id", "external", "chat")


class IdentityQuery(BaseModel):
    """GET /customers?…: find a customer by exactly one identity, normalised the way identities
    are stored, so `ANA@Example.com` finds `ana@example.com` and `600 123 456` finds +34600123456."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=320)
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        pattern=r"^[A-Z]{2}$",
        description="Country of a phone number written without +code",
    )
    phone: str | None = Field(default=None, max_length=40)
    document_type: str = Field(default="national_id", max_length=30, pattern=r"^[a-z0-9_]+$")
    document_id: str | None = Field(default=None, max_length=40)
    external: str | None = Field(
        default=None,
        max_length=251,
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}:.*\S",
        description="system:id, e.g. crm:C-1001",
    )
    chat: str | None = Field(
        default=None,
        max_length=251,
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}:.*\S",
        description="platform:handle, e.g. whatsapp:+34600123456",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value or "phone_region" not in info.data:  # a bad region is reported already
            return value
        return normalise_phone(value, info.data["phone_region"])

    @field_validator("document_id")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        return normalise_document(value) if value else None

    def given(self) -> list[str]:
        return [name for name in IDENTITY_QUERY_FIELDS if getattr(self, name)]

    def identity(self) -> Identity:
        """The one identity asked for (call after checking exactly one was given)."""
        if self.email:
            return Identity(IdentityKind.EMAIL, self.email)
        if self.phone:
            return Identity(IdentityKind.PHONE, self.phone)
        if self.document_id:
            return Identity(IdentityKind.DOCUMENT, self.document_id, self.document_type)
        kind, scoped = (
            (IdentityKind.EXTERNAL, self.external)
            if self.external
            else (IdentityKind.CHAT, self.chat or "")
        )
        scope, _, value = scoped.partition(":")
        return Identity(kind, value.strip(), scope)


def identity_conflicts(
    fields: list[tuple[str, Identity]],
    owners: dict[Identity, uuid.UUID],
    customer_id: uuid.UUID,
) -> list[dict[str, str]]:
    """One error per identity that belongs to a customer other than `customer_id`, naming the
    request field and the owner, so the client can offer to merge the two."""
    return [
        {
            "field": field,
            "rule": "identity_taken",
            "message": f"{identity.kind.value} already belongs to customer {owner}",
            "owner_id": str(owner),
        }
        for field, identity in fields
        if (owner := owners.get(identity)) is not None and owner != customer_id
    ]


@dataclass(frozen=True)
class CustomerState:
    """What merges and erasure decide on."""

    id: uuid.UUID
    merged_into: uuid.UUID | None
    erased: bool


@dataclass(frozen=True)
class Refusal:
    """Why an operation cannot happen now (answered as a 409 problem)."""

    title: str
    detail: str


def unchangeable(customer: CustomerState) -> Refusal | None:
    """A merged-away or erased customer no longer changes: edits go to the survivor, and an
    erased person stays erased."""
    if customer.erased:
        return Refusal("Customer erased", f"Customer {customer.id} was erased")
    if customer.merged_into is not None:
        return Refusal(
            "Customer merged",
            f"Customer {customer.id} was merged into {customer.merged_into}; change that one",
        )
    return None


def merge_refusal(target: CustomerState, source: CustomerState) -> Refusal | None:
    if target.id == source.id:
        return Refusal("Same customer", "A customer cannot be merged into itself")
    for customer in (target, source):
        if customer.erased:
            return Refusal("Customer erased", f"Customer {customer.id} was erased")
    if source.merged_into is not None:
        return Refusal(
            "Already merged",
            f"Customer {source.id} was already merged into {source.merged_into}",
        )
    if target.merged_into is not None:
        return Refusal(
            "Target merged",
            f"Customer {target.id} was merged into {target.merged_into}; merge into that one",
        )
    return None


def undo_refusal(
    undone_at: datetime | None,
    target: CustomerState,
    source: CustomerState,
    later_merge_id: uuid.UUID | None,
) -> Refusal | None:
    """An undo puts back exactly what moved; it needs the target to still hold it."""
    if undone_at is not None:
        return Refusal("Merge already undone", f"This merge was undone at {undone_at}")
    for customer in (target, source):
        if customer.erased:
            return Refusal("Customer erased", f"Customer {customer.id} was erased since")
    if target.merged_into is not None:
        return Refusal(
            "Target merged since",
            f"Customer {target.id} was merged into {target.merged_into} since"
            + (f"; undo merge {later_merge_id} first" if later_merge_id else ""),
        )
    return None


ERASED_TEXT = "[erased]"
"""What free text written by or about an erased customer reads afterwards."""


def identity_pseudonym(customer_id: uuid.UUID, identity_id: uuid.UUID) -> str:
    """An erased identity's value: unique per identity (the column is unique), derived from ids
    only — never from the value, which a hash of a phone number would not hide."""
    return pseudonym(customer_id, f"identity:{identity_id}")
