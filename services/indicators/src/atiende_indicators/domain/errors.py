"""Indicators' domain errors."""

from __future__ import annotations

from atiende_runtime.errors import FieldError, Invalid


class InvalidRange(Invalid):
    """A requested day range that cannot be served; its one error names the bound to fix
    ("from" or "to")."""

    def __init__(self, bound: str, message: str) -> None:
        super().__init__([FieldError(bound, "day_range", message)], message)
