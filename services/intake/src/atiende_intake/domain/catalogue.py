"""The parametrised catalogue: motives with their causes, touchpoints, products. Managed data,
so statistics stay consistent; entries are deactivated, never deleted, so history keeps meaning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from atiende_contracts import CatalogueEntryChanged, CatalogueKind


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

    def changed_event(self, at: datetime) -> CatalogueEntryChanged:
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
