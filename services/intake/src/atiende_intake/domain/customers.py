"""Customers and the identities we recognise them by. Pure: normalisation and decisions only.

A customer has any number of identities — email, phone (E.164), national document, ids in other
systems, chat handles. A contact arriving through any of them resolves to the same customer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from atiende_contracts import (
    CustomerErased,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerProfileChanged,
    Formality,
    NotificationChannel,
    Tier,
)

DEFAULT_PHONE_REGION = "ES"
"""Phone numbers written without a country code are read as numbers of this region."""


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


@dataclass(frozen=True)
class CustomerRef:
    """Who a contact is from: an existing customer's id, or identities (and a name) to resolve.
    `identities` keep the order they were given in, each with the field it came from, so an
    error can name the field."""

    identity_fields: tuple[tuple[str, Identity], ...] = ()
    id: uuid.UUID | None = None
    name: str | None = None

    def identities(self) -> list[Identity]:
        return [identity for _, identity in self.identity_fields]

    @property
    def email(self) -> str | None:
        """The email identity given, if any (a new customer's primary email)."""
        return self._first(IdentityKind.EMAIL)

    @property
    def phone(self) -> str | None:
        return self._first(IdentityKind.PHONE)

    def _first(self, kind: IdentityKind) -> str | None:
        return next((i.value for i in self.identities() if i.kind is kind), None)


def identity_fields(
    *,
    email: str | None = None,
    phone: str | None = None,
    document_id: str | None = None,
    document_type: str = "national_id",
    external_ids: Sequence[tuple[str, str]] = (),
    chat_handles: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[str, Identity], ...]:
    """Each (already normalised) identity with the request field it came from; `external_ids`
    are (system, id) pairs and `chat_handles` (platform, handle) pairs."""
    found: list[tuple[str, Identity]] = []
    if document_id:
        found.append(("document_id", Identity(IdentityKind.DOCUMENT, document_id, document_type)))
    if email:
        found.append(("email", Identity(IdentityKind.EMAIL, email)))
    if phone:
        found.append(("phone", Identity(IdentityKind.PHONE, phone)))
    found += [
        (f"external_ids.{n}", Identity(IdentityKind.EXTERNAL, value, system))
        for n, (system, value) in enumerate(external_ids)
    ]
    found += [
        (f"chat_handles.{n}", Identity(IdentityKind.CHAT, value, platform))
        for n, (platform, value) in enumerate(chat_handles)
    ]
    return tuple(found)


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
    preferred_channel: NotificationChannel | None = None

    def changed_event(self, at: datetime, actor: str | None = None) -> CustomerProfileChanged:
        return CustomerProfileChanged(
            customer_id=self.customer_id,
            tier=self.tier,
            language=self.language,
            formality=self.formality,
            consent_surveys=self.consent_surveys,
            consent_marketing=self.consent_marketing,
            preferred_channel=self.preferred_channel,
            changed_at=at,
            actor=actor,
        )


def pseudonym(customer_id: uuid.UUID, field: str) -> str:
    """A stable, meaningless stand-in for erased personal data (same input, same output), so
    counts and joins survive erasure but nothing identifies the person."""
    digest = hashlib.sha256(f"{customer_id}:{field}".encode()).hexdigest()[:16]
    return f"erased-{digest}"


# --- managing customers -------------------------------------------------------------------


@dataclass(frozen=True)
class NewCustomer:
    """A customer created by an agent or another system, with any identities known so far."""

    name: str
    identity_fields: tuple[tuple[str, Identity], ...] = ()
    email: str | None = None
    tier: Tier = Tier.STANDARD
    language: str = "es"
    formality: Formality = Formality.FORMAL
    consent_surveys: bool = True
    consent_marketing: bool = False
    preferred_channel: NotificationChannel | None = None

    def identities(self) -> list[Identity]:
        return [identity for _, identity in self.identity_fields]


@dataclass(frozen=True)
class ProfileChanges:
    """A change of a customer: None leaves a field as it is (none of these is ever unknown)."""

    name: str | None = None
    tier: Tier | None = None
    language: str | None = None
    formality: Formality | None = None
    consent_surveys: bool | None = None
    consent_marketing: bool | None = None
    preferred_channel: NotificationChannel | None = None

    def applied_to(self, profile: Profile) -> Profile:
        """The profile after these changes (the name is not part of the profile)."""
        changed = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "name" and getattr(self, f.name) is not None
        }
        return replace(profile, **changed)


@dataclass(frozen=True)
class Customer:
    """A customer record as stored."""

    id: uuid.UUID
    name: str
    primary_email: str | None
    tier: Tier
    language: str
    formality: Formality
    consent_surveys: bool
    consent_marketing: bool
    merged_into: uuid.UUID | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime
    preferred_channel: NotificationChannel | None = None

    @property
    def profile(self) -> Profile:
        return Profile(
            customer_id=self.id,
            tier=self.tier,
            language=self.language,
            formality=self.formality,
            consent_surveys=self.consent_surveys,
            consent_marketing=self.consent_marketing,
            preferred_channel=self.preferred_channel,
        )

    @property
    def state(self) -> CustomerState:
        return CustomerState(self.id, self.merged_into, self.erased_at is not None)


@dataclass(frozen=True)
class CustomerMerge:
    """One merge, and exactly which rows it moved (so an undo moves back only those)."""

    id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    identity_ids: list[uuid.UUID]
    contact_ids: list[uuid.UUID]
    case_ids: list[uuid.UUID]
    repointed_ids: list[uuid.UUID]
    merged_at: datetime
    undone_at: datetime | None = None
    merged_by: str | None = None
    undone_by: str | None = None

    def merged_event(self) -> CustomerMerged:
        return CustomerMerged(
            merge_id=self.id,
            source_customer_id=self.source_id,
            target_customer_id=self.target_id,
            case_ids=self.case_ids,
            merged_at=self.merged_at,
            actor=self.merged_by,
        )

    def undone_event(self) -> CustomerMergeUndone:
        assert self.undone_at is not None
        return CustomerMergeUndone(
            merge_id=self.id,
            source_customer_id=self.source_id,
            target_customer_id=self.target_id,
            case_ids=self.case_ids,
            undone_at=self.undone_at,
            actor=self.undone_by,
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One item of a customer's history: a contact, a case, or what another service said
    about one of the customer's cases (`type` "event"), newest first."""

    type: str  # "contact", "case" or "event"
    at: datetime
    id: uuid.UUID
    kind: str  # the contact's kind, the case's type, or the event's type
    channel: str | None
    direction: str | None
    motive: str | None
    touchpoint: str | None
    case_id: uuid.UUID | None
    case_number: str | None
    status: str | None
    text: str
    severity: str | None
    upset: bool
    details: dict[str, object] | None = None


@dataclass(frozen=True)
class ContactFacts:
    """Repeat-customer facts: when the customer first contacted us, and how often since."""

    first_contact_at: datetime | None
    contact_count: int
    case_count: int


@dataclass(frozen=True)
class Erasure:
    customer_id: uuid.UUID
    erased_at: datetime
    case_ids: list[uuid.UUID] = field(default_factory=list)
    actor: str | None = None

    def erased_event(self) -> CustomerErased:
        return CustomerErased(
            customer_id=self.customer_id,
            case_ids=self.case_ids,
            erased_at=self.erased_at,
            actor=self.actor,
        )


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
    """Why an operation cannot happen now (raised as a CustomerConflict)."""

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


def erase_refusal(customer: CustomerState) -> Refusal | None:
    """A merged-away record is erased through its survivor (which erases it too)."""
    if customer.merged_into is not None and not customer.erased:
        return Refusal(
            "Customer merged",
            f"Customer {customer.id} was merged into {customer.merged_into}; "
            "erase that one (it erases this record too)",
        )
    return None


ERASED_TEXT = "[erased]"
"""What free text written by or about an erased customer reads afterwards."""

ERASABLE_FIELDS = frozenset(
    {
        "customer_name",
        "customer_email",
        "customer_phone",
        "reply_email",
        "name",
        "email",
        "phone",
        "value",
        "description",
        "expectation",
        "text",
        "body",
        "summary",
        "subject",
        "sender",
    }
)
"""Keys under which intake's events and stored responses carry a customer's personal data or
free text about them: scrubbed in the outbox and Idempotency-Key rows about an erased customer."""


def identity_pseudonym(customer_id: uuid.UUID, identity_id: uuid.UUID) -> str:
    """An erased identity's value: unique per identity (the column is unique), derived from ids
    only — never from the value, which a hash of a phone number would not hide."""
    return pseudonym(customer_id, f"identity:{identity_id}")
