import dataclasses

from atiende_runtime.languages import LANGUAGES
from atiende_surveys.domain import COMMENT_MAX_LENGTH, AnswerProblem
from atiende_surveys.entrypoints.pages.texts import ENGLISH, PAGE_TEXTS, SPANISH, page_language


def test_page_language_is_spanish_unless_a_known_language_is_asked_for():
    assert page_language(None) == "es"
    assert page_language("en") == "en"
    assert page_language("EN") == "en"
    assert page_language("fr") == "es"


def test_every_language_describes_every_problem_and_names_every_field():
    for text in PAGE_TEXTS.values():
        for problem in AnswerProblem:
            assert text.describe(problem)
            assert "{" not in text.describe(problem)
        assert set(text.field_names) == {"satisfaction", "comment"}
    assert str(COMMENT_MAX_LENGTH) in ENGLISH.describe(AnswerProblem.COMMENT_TOO_LONG)


def test_the_question_names_the_case_in_both_languages():
    assert "AT-2026-000007" in SPANISH.question.format(number="AT-2026-000007")
    assert ENGLISH.question.format(number="X-1") == (
        "How satisfied are you with how we handled your case X-1?"
    )
    assert ENGLISH.satisfaction_labels[0] == "Very dissatisfied"
    assert ENGLISH.satisfaction_labels[-1] == "Very satisfied"


def test_spanish_addresses_the_customer_as_usted():
    words = " ".join(
        str(v) for v in dataclasses.asdict(SPANISH).values() if isinstance(v, str)
    ).lower()
    assert "su caso" in words
    for informal in (" tu ", " tú ", "puedes", "quieres", "deseas", "tienes"):
        assert informal not in f" {words} "


def test_the_pages_exist_in_every_language_atiende_writes_in():
    assert set(PAGE_TEXTS) == set(LANGUAGES)
