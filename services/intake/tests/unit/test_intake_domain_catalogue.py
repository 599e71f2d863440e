"""The catalogue's pure rules: what a valid entry is, what a change may touch, and the guard that
keeps the default motive usable."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from atiende_contracts import CatalogueKind
from atiende_intake.domain.catalogue import (
    CatalogueEntry,
    entry_errors,
    retires_default_motive,
)
from atiende_intake.entrypoints.http.catalogue import EntryChanges, NewEntry

TODAY = date(2026, 11, 24)
DELIVERY = CatalogueEntry(CatalogueKind.MOTIVE, "DELIVERY", "Entrega", "Delivery")
OTHER = CatalogueEntry(CatalogueKind.MOTIVE, "OTHER", "Otros", "Other")


def cause(parent_code):
    return CatalogueEntry(CatalogueKind.CAUSE, "LATE", "Tarde", "Late", parent_code=parent_code)


def rules(errors):
    return [(e["field"], e["rule"]) for e in errors]


def test_a_new_entry_takes_its_kind_from_the_path():
    entry = NewEntry(code="LATE", name_es="Tarde", name_en="Late", parent_code="DELIVERY")
    assert entry.entry(CatalogueKind.CAUSE) == cause("DELIVERY")
    with pytest.raises(ValidationError) as lower:
        NewEntry(code="late", name_es="Tarde", name_en="Late")
    assert [e["loc"] for e in lower.value.errors()] == [("code",)]


def test_causes_hang_under_an_existing_motive_and_nothing_else_has_a_parent():
    assert entry_errors(cause("DELIVERY"), DELIVERY) == []
    assert rules(entry_errors(cause(None), None)) == [("parent_code", "cause_needs_parent")]
    assert rules(entry_errors(cause("NOPE"), None)) == [("parent_code", "unknown_code")]
    touchpoint = CatalogueEntry(CatalogueKind.TOUCHPOINT, "WEB", "Web", "Web", parent_code="X")
    assert rules(entry_errors(touchpoint, None)) == [("parent_code", "parent_only_for_cause")]
    assert entry_errors(DELIVERY, None) == []


def test_validity_dates_are_in_order():
    one_day = CatalogueEntry(CatalogueKind.PRODUCT, "P", "P", "P", valid_from=TODAY, valid_to=TODAY)
    assert entry_errors(one_day, None) == []
    backwards = CatalogueEntry(
        CatalogueKind.PRODUCT, "P", "P", "P", valid_from=TODAY, valid_to=date(2026, 1, 1)
    )
    assert rules(entry_errors(backwards, None)) == [("valid_to", "before_valid_from")]


def test_changes_touch_only_what_was_sent():
    dated = CatalogueEntry(CatalogueKind.MOTIVE, "DELIVERY", "Entrega", "Delivery", valid_to=TODAY)
    assert EntryChanges(name_en="Shipping").applied_to(dated) == CatalogueEntry(
        CatalogueKind.MOTIVE, "DELIVERY", "Entrega", "Shipping", valid_to=TODAY
    )
    assert EntryChanges(valid_to=None).applied_to(dated) == DELIVERY
    assert EntryChanges().applied_to(DELIVERY) == DELIVERY


def test_code_kind_and_parent_never_change_and_names_are_never_null():
    with pytest.raises(ValidationError) as refused:
        EntryChanges(code="X", kind="cause", parent_code=None, name_es=None, active=None)
    assert sorted((e["loc"][0], e["type"]) for e in refused.value.errors()) == [
        ("active", "not_null"),
        ("code", "immutable"),
        ("kind", "immutable"),
        ("name_es", "not_null"),
        ("parent_code", "immutable"),
    ]


def test_the_default_motive_cannot_be_retired():
    inactive = EntryChanges(active=False).applied_to(OTHER)
    assert retires_default_motive(OTHER, inactive, "OTHER", TODAY)
    ended = EntryChanges(valid_to=date(2026, 1, 1)).applied_to(OTHER)
    assert retires_default_motive(OTHER, ended, "OTHER", TODAY)
    assert not retires_default_motive(OTHER, inactive, "DELIVERY", TODAY)
    renamed = EntryChanges(name_en="Others").applied_to(inactive)
    assert not retires_default_motive(inactive, renamed, "OTHER", TODAY)
    assert not retires_default_motive(
        OTHER, EntryChanges(name_en="x").applied_to(OTHER), "OTHER", TODAY
    )
