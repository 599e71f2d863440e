import dataclasses

from atiende_runtime.languages import LANGUAGES, Language
from atiende_surveys.domain import STOCK, AnswerProblem, localise
from atiende_surveys.domain.catalogue import CSAT_LABELS
from atiende_surveys.domain.questionnaires import TEXT_MAX_LENGTH
from atiende_surveys.entrypoints.pages.texts import (
    ENGLISH,
    INFORMAL_TEXTS,
    PAGE_TEXTS,
    SPANISH,
    SPANISH_TU,
    page_language,
    texts_for,
)


def words(text) -> str:
    return " ".join(str(v) for v in dataclasses.asdict(text).values() if isinstance(v, str)).lower()


def test_page_language_is_spanish_unless_a_known_language_is_asked_for():
    assert page_language(None) == "es"
    assert page_language("en") == "en"
    assert page_language("EN") == "en"
    assert page_language("fr") == "es"
    # else the invitation's language
    assert page_language(None, "en") == "en"
    assert page_language("es", "en") == "es"


def test_every_language_and_register_describes_every_problem_and_names_every_field():
    for text in (*PAGE_TEXTS.values(), *INFORMAL_TEXTS.values()):
        for problem in AnswerProblem:
            assert text.describe(problem)
            assert "{" not in text.describe(problem)
        assert set(text.field_names) == {"satisfaction", "comment"}
        assert text.name_of("q5_e", 5).endswith("5")
    assert str(TEXT_MAX_LENGTH) in ENGLISH.describe(AnswerProblem.TOO_LONG)
    assert "1 to 7" in ENGLISH.describe(AnswerProblem.OUT_OF_RANGE, 1, 7)


def test_the_question_names_the_case_in_both_languages():
    question = STOCK["csat"].first.text
    assert "AT-2026-000007" in localise(question, "es", False).format(number="AT-2026-000007")
    assert localise(question, "en", False).format(number="X-1") == (
        "How satisfied are you with how we handled your case X-1?"
    )
    assert localise(CSAT_LABELS[0], "en", False) == "Very dissatisfied"
    assert localise(CSAT_LABELS[-1], "en", False) == "Very satisfied"


def test_spanish_addresses_the_customer_as_usted():
    said = words(SPANISH)
    assert "su caso" in said or "su respuesta" in said
    for informal in (" tu ", " tú ", "puedes", "quieres", "deseas", "tienes"):
        assert informal not in f" {said} "


def test_spanish_tu_addresses_the_customer_as_tu():
    said = words(SPANISH_TU)
    assert "tu respuesta" in said
    assert "puedes" in said
    assert texts_for(Language.ES, True) is INFORMAL_TEXTS[Language.ES]
    for formal in (" su respuesta", "puede volver", "desea", "pulse "):
        assert formal not in f" {said} "


def test_the_questionnaires_speak_usted_and_tu_in_spanish():
    for questionnaire in STOCK.values():
        for question in questionnaire.questions:
            formal = localise(question.text, "es", False).lower()
            informal = localise(question.text, "es", True).lower()
            for word in (" tu ", "puedes", "quieres", "has "):
                assert word not in f" {formal} ", (questionnaire.id, question.code)
            for word in ("desea", " usted", "puede "):
                assert word not in f" {informal} ", (questionnaire.id, question.code)


def test_the_pages_exist_in_every_language_atiende_writes_in():
    assert set(PAGE_TEXTS) == set(LANGUAGES)
    assert set(INFORMAL_TEXTS) == set(LANGUAGES)
