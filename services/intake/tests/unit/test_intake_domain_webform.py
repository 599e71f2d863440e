"""The contact form's rules and words: what a valid submission is, what each problem says."""

import pytest

from atiende_contracts import CatalogueKind, Channel, ContactKind
from atiende_intake.domain.catalogue import CatalogueEntry
from atiende_intake.domain.webform import (
    MAX_LENGTHS,
    FormProblem,
    FormValues,
    InvalidForm,
    motive_options,
    parse_form,
)
from atiende_intake.entrypoints.pages.texts import PAGE_TEXTS
from atiende_runtime.languages import negotiate as page_language

MOTIVES = ["BILLING", "DELIVERY", "OTHER"]


def values(**changes):
    given = {
        "name": "Marta López",
        "email": "Marta@Example.com",
        "phone": "612 345 678",
        "kind": "complaint",
        "motive": "DELIVERY",
        "description": "El pedido 4471 no ha llegado.",
        "expectation": "Recibirlo esta semana",
        **changes,
    }
    return FormValues.from_pairs(given.items())


def problems_of(form_values):
    with pytest.raises(InvalidForm) as raised:
        parse_form(form_values, MOTIVES, "es")
    return raised.value.problems


def test_a_complete_form_is_a_web_form_contact_at_the_web_touchpoint():
    form = parse_form(values(survey_consent="yes"), MOTIVES, "en")
    contact = form.contact
    assert contact.channel is Channel.WEB_FORM
    assert contact.kind is ContactKind.COMPLAINT
    assert contact.motive == "DELIVERY"
    assert contact.touchpoint == "WEB"
    assert contact.text == "El pedido 4471 no ha llegado."
    assert contact.expectation == "Recibirlo esta semana"
    assert contact.customer.name == "Marta López"
    assert contact.customer.email == "marta@example.com"
    assert contact.customer.phone == "+34612345678"
    assert contact.case_number is None
    assert form.survey_consent is True
    assert form.language == "en"


def test_the_survey_consent_is_only_given_by_ticking_it():
    assert parse_form(values(), MOTIVES, "es").survey_consent is False


def test_optional_fields_may_be_left_empty():
    contact = parse_form(values(phone="", expectation="", case_number=""), MOTIVES, "es").contact
    assert contact.customer.phone is None
    assert contact.expectation is None
    assert contact.case_number is None


def test_a_case_number_is_read_in_any_case_and_spacing():
    contact = parse_form(values(case_number=" at-2026-000123 "), MOTIVES, "es").contact
    assert contact.case_number == "AT-2026-000123"


def test_every_missing_required_field_is_named():
    empty = FormValues.from_pairs([])
    assert problems_of(empty) == {
        "name": FormProblem.MISSING,
        "email": FormProblem.MISSING,
        "kind": FormProblem.MISSING,
        "motive": FormProblem.MISSING,
        "description": FormProblem.MISSING,
    }


def test_blank_text_is_missing_text():
    assert problems_of(values(name="   ", description="\n\t")) == {
        "name": FormProblem.MISSING,
        "description": FormProblem.MISSING,
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"email": "marta.example.com"}, {"email": FormProblem.INVALID_EMAIL}),
        ({"phone": "12"}, {"phone": FormProblem.INVALID_PHONE}),
        ({"kind": "praise"}, {"kind": FormProblem.NOT_AN_OPTION}),
        ({"motive": "PRODUCT"}, {"motive": FormProblem.NOT_AN_OPTION}),
        ({"case_number": "123"}, {"case_number": FormProblem.INVALID_CASE_NUMBER}),
        ({"description": "x" * 10_001}, {"description": FormProblem.TOO_LONG}),
        ({"expectation": "x" * 2001}, {"expectation": FormProblem.TOO_LONG}),
        ({"name": "x" * 201}, {"name": FormProblem.TOO_LONG}),
        ({"email": "a" * 310 + "@example.com"}, {"email": FormProblem.TOO_LONG}),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_each_invalid_field_is_named_with_its_problem(changes, expected):
    assert problems_of(values(**changes)) == expected


def test_a_field_sent_twice_counts_once():
    form = FormValues.from_pairs([("name", "Marta"), ("name", "Mallory")])
    assert form.name == "Marta"


def test_the_honeypot_field_marks_a_bot():
    assert values(website="http://spam.example").is_bot
    assert not values().is_bot


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_problem_of_every_field_has_words_in_each_language(language):
    text = PAGE_TEXTS[language]
    for field in MAX_LENGTHS:
        for problem in FormProblem:
            assert text.describe(field, problem)
    assert "10000" in text.describe("description", FormProblem.TOO_LONG)
    assert set(text.field_names) >= set(MAX_LENGTHS) | {"kind", "motive"}
    assert set(text.kind_labels) == set(ContactKind)


@pytest.mark.parametrize(
    ("lang", "accept", "expected"),
    [
        ("en", "es-ES,es;q=0.9", "en"),
        (None, "en-GB,en;q=0.9,es;q=0.8", "en"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5,es;q=0.6", "es"),
        (None, "de, en;q=0", "es"),
        ("pt", None, "es"),
        (None, "en;q=bogus, es;q=0.1", "es"),
        (None, None, "es"),
    ],
)
def test_the_page_language(lang, accept, expected):
    assert page_language(lang, accept) == expected


def test_motives_are_offered_by_name_in_the_page_language_with_the_catch_all_last():
    entries = [
        CatalogueEntry(CatalogueKind.MOTIVE, code, es, en)
        for code, es, en in [
            ("OTHER", "Otros motivos", "Other"),
            ("BILLING", "Facturación", "Billing"),
            ("DELIVERY", "Entrega", "Delivery"),
        ]
    ]
    assert motive_options(entries, "es", last="OTHER") == [
        ("DELIVERY", "Entrega"),
        ("BILLING", "Facturación"),
        ("OTHER", "Otros motivos"),
    ]
    assert [name for _, name in motive_options(entries, "en", last="OTHER")] == [
        "Billing",
        "Delivery",
        "Other",
    ]
