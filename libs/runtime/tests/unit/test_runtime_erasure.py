"""The rules of scrubbing a stored JSON document of an erased customer's data."""

from atiende_runtime.erasure import ERASED, scrub_document, scrub_text, searchable


def test_searchable_values_are_stripped_long_enough_once_and_also_without_spaces():
    found = searchable(["  Ana Pérez ", "ana pérez", "+34 600 12 34 56", "Li", None, ""])
    assert found == ["Ana Pérez", "AnaPérez", "+34 600 12 34 56", "+34600123456"]


def test_strings_naming_a_value_are_erased_anywhere_free_text_only_in_rows_about_them():
    document = {
        "case_number": "AT-1",
        "customer": {"name": "ANA PÉREZ", "email": "ana@example.com"},
        "description": "the parcel never came",
        "options": ["call Ana Pérez back", "refund"],
        "count": 3,
    }
    values = [v.casefold() for v in searchable(["Ana Pérez", "ana@example.com"])]

    about = scrub_document(document, values, {"description", "options"}, about=True)
    assert about == {
        "case_number": "AT-1",
        "customer": {"name": ERASED, "email": ERASED},
        "description": ERASED,
        "options": [ERASED, ERASED],
        "count": 3,
    }
    # a row that is not about them keeps its free text but not their name
    other = scrub_document(document, values, {"description", "options"}, about=False)
    assert other["description"] == "the parcel never came"
    assert other["options"] == [ERASED, "refund"]
    assert document["description"] == "the parcel never came"  # the input is left alone


def test_mentions_are_replaced_in_text_that_is_not_theirs():
    text = "Case AT-1 of ANA PÉREZ (ana@example.com, +34 600 12 34 56) was assigned to you"
    assert scrub_text(text, ["Ana Pérez", "ana@example.com", "+34600123456"]) == (
        "Case AT-1 of [erased] ([erased], +34 600 12 34 56) was assigned to you"
    )
