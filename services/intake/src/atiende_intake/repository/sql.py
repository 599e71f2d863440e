"""Small SQL helpers shared by intake's repositories."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

Position = tuple[datetime, uuid.UUID]
"""Where a page ended: the (time, id) of its last row."""


class Conditions:
    """A WHERE clause built from optional filters, with numbered query parameters."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.args: list[object] = []

    def add(self, template: str, *values: object) -> None:
        """Add `template` (one `{}` per value) unless a value is None (that filter is unset)."""
        if any(value is None for value in values):
            return
        self.terms.append(template.format(*(self.param(value) for value in values)))

    def param(self, value: object) -> str:
        self.args.append(value.value if isinstance(value, Enum) else value)
        return f"${len(self.args)}"

    @property
    def where(self) -> str:
        return " AND ".join(self.terms) or "true"
