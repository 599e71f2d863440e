"""Notifications' domain errors."""

from __future__ import annotations

from atiende_runtime.errors import Conflict, FieldError, Invalid, NotFound


class DeliveryStateError(Conflict):
    """A transition a delivery's current status does not allow."""


class NoTemplate(NotFound, LookupError):
    """No saved template and no shipped text serves this key (e.g. the webhook event, which
    ships no email text): a 404 to a route, a LookupError to the dispatcher, which records it."""


class UnknownRecipient(NotFound):
    """An event names a case whose case.opened this service has not handled."""


class TemplateInvalid(Invalid):
    """A template that does not render: refused at save time, naming the field and the line."""

    @classmethod
    def at(cls, field: str, line: int | None, message: str) -> TemplateInvalid:
        where = f"line {line}: " if line else ""
        return cls([FieldError(f"body.{field}", "template", f"{where}{message}")])


class UnsafeUrl(Invalid):
    """A webhook URL that is not https (outside tests) or points at a private address."""
