"""Customers' pure rules: identities named by field, profile changes, identity look-ups, the
decisions behind merges and undos, and erased identities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from atiende_contracts import Formality, Tier
from atiende_intake.domain.customers import (
    CustomerState,
    Identity,
    IdentityKind,
    Profile,
    identity_conflicts,
    identity_pseudonym,
    merge_refusal,
    unchangeable,
    undo_refusal,
)
from atiende_intake.entrypoints.http.customers import CustomerChanges, IdentityQuery, NewCustomer
from atiende_intake.entrypoints.http.identities import CustomerIdentitiesIn

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
EMAIL = Identity(IdentityKind.EMAIL, "ana@example.com")
PHONE = Identity(IdentityKind.PHONE, "+34600123456")
CRM = Identity(IdentityKind.EXTERNAL, "C-1", "crm")


def live(customer_id):
    return CustomerState(customer_id, merged_into=None, erased=False)


def error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str, str]]:
    return [(".".join(map(str, e["loc"])), e["type"]) for e in exc.value.errors()]


def test_each_identity_is_named_by_the_field_it_came_from():
    given = CustomerIdentitiesIn(
        email="Ana@Example.com",
        phone="600 123 456",
        external_ids=[{"system": "crm", "id": "C-1"}, {"system": "erp", "id": "9"}],
        chat_handles=[{"platform": "telegram", "handle": "anap"}],
    )
    assert given.identity_fields() == [
        ("email", EMAIL),
        ("phone", PHONE),
        ("external_ids.0", CRM),
        ("external_ids.1", Identity(IdentityKind.EXTERNAL, "9", "erp")),
        ("chat_handles.0", Identity(IdentityKind.CHAT, "anap", "telegram")),
    ]
    assert given.identities() == [identity for _, identity in given.identity_fields()]


def test_a_bad_phone_is_reported_on_the_phone_field():
    with pytest.raises(ValidationError) as bad_phone:
        CustomerIdentitiesIn(phone="+999 1234")
    assert error_fields(bad_phone) == [("phone", "phone")]
    with pytest.raises(ValidationError) as bad_region:
        CustomerIdentitiesIn(phone="600123456", phone_region="spain")
    assert error_fields(bad_region) == [("phone_region", "string_pattern_mismatch")]
    assert CustomerIdentitiesIn(phone="06 12 34 56 78", phone_region="FR").phone == "+33612345678"


def test_a_new_customer_has_sensible_defaults_and_only_supported_languages():
    ana = NewCustomer(name="Ana")
    assert (ana.tier, ana.language, ana.formality) == (Tier.STANDARD, "es", Formality.FORMAL)
    assert (ana.consent_surveys, ana.consent_marketing) == (True, False)
    with pytest.raises(ValidationError) as french:
        NewCustomer(name="Ana", language="fr")
    assert error_fields(french) == [("language", "literal_error")]


def test_changes_apply_only_the_fields_sent_and_never_null():
    profile = Profile(A, Tier.STANDARD, "es", Formality.FORMAL, True, False)
    assert CustomerChanges(name="Ana").applied_to(profile) == profile
    changed = CustomerChanges(tier="vip", consent_surveys=False).applied_to(profile)
    assert changed == Profile(A, Tier.VIP, "es", Formality.FORMAL, False, False)
    with pytest.raises(ValidationError) as nulls:
        CustomerChanges(tier=None, consent_marketing=None)
    assert error_fields(nulls) == [("tier", "not_null"), ("consent_marketing", "not_null")]


@pytest.mark.parametrize(
    ("query", "identity"),
    [
        ({"email": " ANA@example.COM "}, EMAIL),
        ({"phone": "600-123-456"}, PHONE),
        (
            {"phone": "0612345678", "phone_region": "FR"},
            Identity(IdentityKind.PHONE, "+33612345678"),
        ),
        (
            {"document_id": "12.345.678-z"},
            Identity(IdentityKind.DOCUMENT, "12345678Z", "national_id"),
        ),
        (
            {"document_id": "x1234567", "document_type": "passport"},
            Identity(IdentityKind.DOCUMENT, "X1234567", "passport"),
        ),
        ({"external": "crm:C-1"}, CRM),
        ({"chat": "whatsapp: ana p"}, Identity(IdentityKind.CHAT, "ana p", "whatsapp")),
    ],
)
def test_a_query_finds_identities_normalised_as_they_are_stored(query, identity):
    parsed = IdentityQuery(**query)
    assert parsed.given() == [next(k for k in query if k not in ("phone_region", "document_type"))]
    assert parsed.identity() == identity


def test_a_query_refuses_malformed_scoped_identities():
    for field, value in (("external", "C-1"), ("external", "crm:"), ("chat", "WhatsApp:ana")):
        with pytest.raises(ValidationError) as bad:
            IdentityQuery(**{field: value})
        assert error_fields(bad) == [(field, "string_pattern_mismatch")]
    assert IdentityQuery(email="a@example.com", chat="x:y").given() == ["email", "chat"]


def test_conflicts_name_identities_owned_by_someone_else():
    fields = [("email", EMAIL), ("phone", PHONE), ("external_ids.0", CRM)]
    owners = {EMAIL: B, PHONE: A}
    assert identity_conflicts(fields, owners, A) == [
        {
            "field": "email",
            "rule": "identity_taken",
            "message": f"email already belongs to customer {B}",
            "owner_id": str(B),
        }
    ]
    assert identity_conflicts(fields, {PHONE: A}, A) == []


def test_merge_refusals():
    assert merge_refusal(live(A), live(B)) is None
    assert merge_refusal(live(A), live(A)).title == "Same customer"
    erased = CustomerState(B, None, erased=True)
    assert merge_refusal(live(A), erased).title == "Customer erased"
    assert merge_refusal(erased, live(A)).title == "Customer erased"
    assert merge_refusal(live(A), CustomerState(B, C, False)).title == "Already merged"
    into_merged = merge_refusal(CustomerState(A, C, False), live(B))
    assert into_merged.title == "Target merged"
    assert str(C) in into_merged.detail


def test_undo_refusals():
    now = datetime.now(UTC)
    later_merge = uuid.uuid4()
    assert undo_refusal(None, live(A), CustomerState(B, A, False), None) is None
    assert undo_refusal(now, live(A), live(B), None).title == "Merge already undone"
    assert undo_refusal(None, CustomerState(A, None, True), live(B), None).title == (
        "Customer erased"
    )
    moved_on = undo_refusal(None, CustomerState(A, C, False), live(B), later_merge)
    assert moved_on.title == "Target merged since"
    assert f"undo merge {later_merge} first" in moved_on.detail


def test_merged_or_erased_customers_do_not_change():
    assert unchangeable(live(A)) is None
    assert unchangeable(CustomerState(A, B, False)).title == "Customer merged"
    assert unchangeable(CustomerState(A, None, True)).title == "Customer erased"


def test_an_erased_identity_is_unique_stable_and_says_nothing_about_the_value():
    first, second = uuid.uuid4(), uuid.uuid4()
    assert identity_pseudonym(A, first) == identity_pseudonym(A, first)
    assert identity_pseudonym(A, first) != identity_pseudonym(A, second)
    assert identity_pseudonym(A, first).startswith("erased-")
