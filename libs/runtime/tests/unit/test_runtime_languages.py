from __future__ import annotations

import pytest

from atiende_runtime.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_CODES,
    Language,
    choose_language,
    language_of,
    negotiate,
)


def test_the_languages_are_defined_once() -> None:
    assert LANGUAGE_CODES == ("es", "en")
    assert DEFAULT_LANGUAGE is Language.ES


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("en-GB", Language.EN), ("es_MX", Language.ES), ("EN", Language.EN), ("fr", None), ("", None)],
)
def test_language_of_a_tag(tag: str, expected: Language | None) -> None:
    assert language_of(tag) is expected


def test_choose_language_falls_back_to_spanish() -> None:
    assert choose_language("de-DE") is Language.ES
    assert choose_language(None) is Language.ES


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        ("en", "es", Language.EN),  # ?lang= wins
        ("xx", "en-US,en;q=0.9", Language.EN),  # unsupported ?lang= is ignored
        (None, "fr-FR, es;q=0.5, en;q=0.8", Language.EN),  # by quality
        (None, "en;q=0.5, es;q=0.5", Language.EN),  # equal quality: the first listed
        (None, "en;q=0, fr", Language.ES),  # q=0 means "not this one"
        (None, "en;q=abc, es", Language.ES),  # a malformed quality is skipped
        (None, None, Language.ES),
    ],
)
def test_negotiate(requested: str | None, accept: str | None, expected: Language) -> None:
    assert negotiate(requested, accept) is expected
