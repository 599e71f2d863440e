"""The parametrised catalogue: motives with their causes, touchpoints, products. Managed data,
so statistics stay consistent; entries are deactivated, never deleted, so history keeps meaning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from atiende_contracts import CatalogueEntryChanged, CatalogueKind

from ..settings import CATALOGUE_CODE

__all__ = ["CATALOGUE_CODE"]  # the one catalogue-code pattern (defined with the settings)


@dataclass(frozen=True)
class CatalogueEntry:
    kind: CatalogueKind
    code: str
    name_es: str
    name_en: str
    active: bool = True
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def usable_on(self, day: date) -> bool:
        """Active, and `day` inside its validity dates (either end may be open)."""
        if not self.active:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    def changed_event(self, at: datetime, actor: str | None = None) -> CatalogueEntryChanged:
        return CatalogueEntryChanged(
            kind=self.kind,
            code=self.code,
            parent_code=self.parent_code,
            name_es=self.name_es,
            name_en=self.name_en,
            active=self.active,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            changed_at=at,
            actor=actor,
        )


@dataclass(frozen=True)
class Classification:
    """The catalogue codes a contact or case carries."""

    motive: str | None = None
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None


def classification_errors(
    wanted: Classification,
    found: dict[tuple[CatalogueKind, str], CatalogueEntry],
    day: date,
    *,
    motive_required: bool,
) -> list[dict[str, str]]:
    """Problems with a classification, one per field: unknown, inactive, or a cause that does not
    belong to the motive. `found` holds the entries looked up for the wanted codes."""
    errors: list[dict[str, str]] = []
    checks = [
        ("motive", CatalogueKind.MOTIVE, wanted.motive),
        ("cause", CatalogueKind.CAUSE, wanted.cause),
        ("touchpoint", CatalogueKind.TOUCHPOINT, wanted.touchpoint),
        ("product", CatalogueKind.PRODUCT, wanted.product),
    ]
    for field, kind, code in checks:
        if code is None:
            if field == "motive" and motive_required:
                errors.append(_error(field, "missing", "every case must carry a motive"))
            continue
        entry = found.get((kind, code))
        if entry is None:
            errors.append(_error(field, "unknown_code", f"no {kind.value} with code {code!r}"))
        elif not entry.usable_on(day):
            errors.append(
                _error(field, "inactive_code", f"{kind.value} {code!r} is not active on {day}")
            )
    if wanted.cause is not None:
        cause = found.get((CatalogueKind.CAUSE, wanted.cause))
        if cause is not None and wanted.motive is not None and cause.parent_code != wanted.motive:
            errors.append(
                _error(
                    "cause",
                    "cause_not_of_motive",
                    f"cause {wanted.cause!r} belongs to motive {cause.parent_code!r}",
                )
            )
    return errors


def _error(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": message}


# --- managing the catalogue ---------------------------------------------------


ENTRY_CHANGEABLE = frozenset({"name_es", "name_en", "active", "valid_from", "valid_to"})
"""What a change may touch: code, kind and parent are what other data refers to, so they never
change (deactivate the entry and create another instead)."""


def changed_entry(entry: CatalogueEntry, changes: Mapping[str, Any]) -> CatalogueEntry:
    """The entry after `changes` (only fields in ENTRY_CHANGEABLE; None clears a date)."""
    unknown = set(changes) - ENTRY_CHANGEABLE
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    return replace(entry, **changes)


def entry_errors(entry: CatalogueEntry, parent: CatalogueEntry | None) -> list[dict[str, str]]:
    """What is wrong with an entry as a whole: a cause hangs under an existing motive (`parent`
    is the motive found for its parent_code), other kinds under nothing; validity dates in order."""
    errors: list[dict[str, str]] = []
    if entry.kind is CatalogueKind.CAUSE:
        if entry.parent_code is None:
            errors.append(
                _error("parent_code", "cause_needs_parent", "a cause needs its motive's code")
            )
        elif parent is None:
            errors.append(
                _error("parent_code", "unknown_code", f"no motive with code {entry.parent_code!r}")
            )
    elif entry.parent_code is not None:
        errors.append(
            _error(
                "parent_code",
                "parent_only_for_cause",
                f"only a cause has a parent, not a {entry.kind}",
            )
        )
    if entry.valid_from and entry.valid_to and entry.valid_from > entry.valid_to:
        errors.append(
            _error("valid_to", "before_valid_from", "valid_to must not be before valid_from")
        )
    return errors


def retires_default_motive(
    before: CatalogueEntry, after: CatalogueEntry, default_motive: str, today: date
) -> bool:
    """Would this change make the configured default motive unusable today? Every contact that
    arrives without a motive (most emails) would then be refused."""
    return (
        after.kind is CatalogueKind.MOTIVE
        and after.code == default_motive
        and before.usable_on(today)
        and not after.usable_on(today)
    )
