"""Notifications' domain errors."""

from __future__ import annotations

from atiende_runtime.errors import Conflict, NotFound


class DeliveryStateError(Conflict):
    """A transition a delivery's current status does not allow."""


class UnknownRecipient(NotFound):
    """An event names a case whose case.opened this service has not handled."""
