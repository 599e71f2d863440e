"""Domain errors every service raises from its domain and use cases. They know nothing of HTTP:
the app factory maps them to RFC 9457 problem+json (404, 409, 422…) in one place, and a page
maps them to its own form messages, so no use case ever raises an HTTP error and no page parses
one back into field names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One broken rule: which field (dotted path), which rule, in words."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class DomainError(Exception):
    """Base of the domain errors; `kind` names the problem type."""

    kind: ClassVar[str] = "domain-error"
    default_title: ClassVar[str] = "Request refused"

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)
        self.extensions = extensions or {}
        self.title = title or self.default_title


class NotFound(DomainError):
    kind = "not-found"
    default_title = "Not found"


class Conflict(DomainError):
    """The request is valid but the current state refuses it (e.g. an illegal transition)."""

    kind = "conflict"
    default_title = "Conflict with the current state"


class Gone(DomainError):
    kind = "gone"
    default_title = "No longer available"


class Invalid(DomainError):
    """One or more fields break a rule."""

    kind = "validation"
    default_title = "Request validation failed"

    def __init__(self, errors: Iterable[FieldError], message: str | None = None) -> None:
        errors = tuple(errors)
        fields = ", ".join(sorted({e.field for e in errors}))
        super().__init__(message or f"Invalid field(s): {fields}", errors=errors)

    @classmethod
    def field(cls, field: str, rule: str, message: str) -> Invalid:
        return cls([FieldError(field, rule, message)])

    def by_field(self) -> dict[str, FieldError]:
        """The first error of each field (what a form shows beside each control)."""
        out: dict[str, FieldError] = {}
        for error in self.errors:
            out.setdefault(error.field, error)
        return out
