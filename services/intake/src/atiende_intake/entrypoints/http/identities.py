"""How clients name a customer and their identities in a request body (shared by contacts, cases
and customers): validated and normalised here, handed to the use cases as domain values."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from atiende_runtime.bodies import RequestModel
from atiende_runtime.languages import LANGUAGE_CODES, Language
from atiende_runtime.params import EMAIL_MAX_LENGTH, EMAIL_PATTERN, NOT_BLANK, email_schema

from ...domain.customers import (
    DEFAULT_PHONE_REGION,
    Identity,
    identity_fields,
    normalise_document,
    normalise_email,
    normalise_phone,
)
from ...domain.customers import CustomerRef as DomainCustomerRef


def _supported_language(value: Any) -> Any:
    if value in LANGUAGE_CODES:
        return value
    raise PydanticCustomError(
        "literal_error",
        "Input should be {expected}",
        {"expected": " or ".join(repr(code) for code in LANGUAGE_CODES)},
    )


SupportedLanguage = Annotated[Language, BeforeValidator(_supported_language)]
"""A language intake's templates and pages exist in (atiende_runtime.languages)."""


def without_null(schema: dict[str, JsonValue]) -> None:
    """json_schema_extra for a field refuse_null guards: its schema drops the null branch, so
    the document does not offer what the route refuses."""
    branches = schema.pop("anyOf", None)
    if not isinstance(branches, list):
        return
    kept = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
    if len(kept) == 1 and isinstance(kept[0], dict):
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


def refuse_null(value: Any) -> Any:
    """Fields a PATCH may leave out but never set to null (null would mean "unknown", and these
    always have a value)."""
    if value is None:
        raise PydanticCustomError("not_null", "may be left out, but not null")
    return value


"""Something str.strip leaves (it also strips U+001C..U+001F and U+0085, which not every regex's
\\s matches), for fields read with str_strip_whitespace."""

DOCUMENT_PATTERN = r"^(?:[ .-]*(?:[A-Za-z0-9][ .-]*){4,32})?$"
"""A document number: 4 to 32 letters or digits, maybe spaced with dots, dashes or spaces ("" is
none given)."""

PHONE_PATTERN = r"^(?:\+?[0-9(][0-9 ().-]{2,38}[0-9])?$"
"""A phone number's shape (international with +, or national); whether the number exists in its
country's numbering plan is the `phone` rule, a lookup JSON Schema cannot make."""


def email_field(value: str | None) -> str | None:
    return normalise_email(value) if value else None


def document_field(value: str | None) -> str | None:
    return normalise_document(value) if value else None


def phone_field(value: str | None, info: ValidationInfo) -> str | None:
    if not value or "phone_region" not in info.data:  # a bad region is reported already
        return value
    try:
        return normalise_phone(value, info.data["phone_region"])
    except ValueError as exc:
        raise PydanticCustomError("phone", str(exc)) from None


def email_field_info() -> Any:
    return Field(
        default=None,
        max_length=EMAIL_MAX_LENGTH,
        pattern=EMAIL_PATTERN,
        json_schema_extra=email_schema,
    )


class ExternalId(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    system: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    id: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)


class ChatHandle(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    handle: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)


class CustomerIdentitiesIn(RequestModel):
    """Ways to recognise a customer, as a client sends them; validated and normalised."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = email_field_info()
    # before `phone`: the phone's validator reads it
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        pattern=r"^[A-Z]{2}$",
        description="Country (ISO 3166-1 alpha-2) of a phone number written without +code",
    )
    phone: str | None = Field(
        default=None, max_length=40, pattern=PHONE_PATTERN, description="E.164, or national"
    )
    document_id: str | None = Field(default=None, max_length=40, pattern=DOCUMENT_PATTERN)
    document_type: str = Field(default="national_id", max_length=30, pattern=r"^[a-z0-9_]+$")
    external_ids: list[ExternalId] = Field(default_factory=list, max_length=10)
    chat_handles: list[ChatHandle] = Field(default_factory=list, max_length=10)

    _email = field_validator("email")(email_field)
    _document = field_validator("document_id")(document_field)
    _phone = field_validator("phone")(phone_field)

    def identities(self) -> list[Identity]:
        return [identity for _, identity in self.identity_fields()]

    def identity_fields(self) -> list[tuple[str, Identity]]:
        """Each identity with the request field it came from, so an error can name the field."""
        return list(
            identity_fields(
                email=self.email,
                phone=self.phone,
                document_id=self.document_id,
                document_type=self.document_type,
                external_ids=[(e.system, e.id) for e in self.external_ids],
                chat_handles=[(c.platform, c.handle) for c in self.chat_handles],
            )
        )


def _given(name: str, kind: dict[str, JsonValue]) -> JsonValue:
    return {"required": [name], "properties": {name: kind}}


IDENTITY_GIVEN: list[JsonValue] = [
    *(
        _given(name, {"type": "string", "minLength": 1})
        for name in ("email", "phone", "document_id")
    ),
    *(_given(name, {"type": "array", "minItems": 1}) for name in ("external_ids", "chat_handles")),
]
"""JSON Schema for "at least one identity is given" ("" and [] give none)."""


def _identity_required(schema: dict[str, JsonValue]) -> None:
    schema["anyOf"] = IDENTITY_GIVEN


class IdentitiesToAttach(CustomerIdentitiesIn):
    """Identities to attach to a customer: at least one (the document says so too)."""

    model_config = ConfigDict(json_schema_extra=_identity_required)


def _id_or_identity_required(schema: dict[str, JsonValue]) -> None:
    id_given: JsonValue = {"required": ["id"], "properties": {"id": {"type": "string"}}}
    schema["anyOf"] = [id_given, *IDENTITY_GIVEN]


class CustomerRef(CustomerIdentitiesIn):
    """Who a contact is from: an existing customer's id, or identities (and a name) to resolve."""

    model_config = ConfigDict(json_schema_extra=_id_or_identity_required)

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

    def ref(self) -> DomainCustomerRef:
        return DomainCustomerRef(tuple(self.identity_fields()), id=self.id, name=self.name)
