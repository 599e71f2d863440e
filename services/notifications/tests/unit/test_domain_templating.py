"""Templates: the fallback chain (register -> language -> default), the shipped texts in both
registers, the save-time render check (with the line), SMS length, HTML from text."""

import pytest

from atiende_contracts import Formality, NotificationChannel
from atiende_notifications.domain import Template
from atiende_notifications.domain.errors import TemplateInvalid
from atiende_notifications.domain.templating import (
    SAMPLE,
    VARIABLES,
    TemplateKey,
    TemplateText,
    builtin,
    chain,
    check,
    render,
    select,
)
from atiende_runtime.languages import Language

EMAIL, SMS = NotificationChannel.EMAIL, NotificationChannel.SMS
F, INF = Formality.FORMAL, Formality.INFORMAL
TEXTS = [t for t in Template if t is not Template.WEBHOOK_EVENT]


def key(lang=Language.EN, reg=INF, template=Template.CASE_RESOLVED, channel=EMAIL):
    return TemplateKey(template, channel, lang, reg)


def test_the_chain_goes_register_then_language_then_default():
    assert chain(key()) == [
        key(),
        key(reg=None),
        key(lang=Language.ES, reg=INF),
        key(lang=Language.ES, reg=None),
    ]


def test_a_saved_template_wins_at_its_key_and_the_chain_falls_back_past_missing_ones():
    saved = {key(reg=None): TemplateText("S", "english default {{ case_number }}")}
    # (en, informal) ships a text: the shipped exact key wins over the saved language default
    served_by, _ = select(key(), saved)
    assert served_by == key()
    # a saved exact key wins over the shipped one
    mine = TemplateText("Mine", "mine {{ case_number }}")
    assert select(key(), {key(): mine}) == (key(), mine)
    # the language's default serves a key with no register
    assert select(key(reg=None), saved)[1].body_text.startswith("english default")


@pytest.mark.parametrize("template", TEXTS)
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("register", [F, INF])
@pytest.mark.parametrize("channel", [EMAIL, SMS])
def test_every_shipped_text_passes_its_own_save_time_check(template, language, register, channel):
    k = TemplateKey(template, channel, language, register)
    text = builtin(k)
    assert text is not None
    check(k, text)
    rendered = render(text, SAMPLE, str(language), emphasise=SAMPLE["case_number"])
    assert rendered.text.strip()


def test_the_registers_really_differ_in_spanish():
    formal = builtin(key(Language.ES, F, Template.CASE_ACKNOWLEDGEMENT))
    informal = builtin(key(Language.ES, INF, Template.CASE_ACKNOWLEDGEMENT))
    assert "usted" in formal.body_text
    assert "su caso" in formal.body_text
    assert "tu caso" in informal.body_text
    assert "contigo" in informal.body_text
    assert "usted" not in informal.body_text
    for text in (formal, informal):
        assert "cariño" not in text.body_text
        assert "corazón" not in text.body_text


def test_resolved_says_how_to_reopen():
    for lang, word in ((Language.ES, "reabr"), (Language.EN, "reopen")):
        for reg in (F, INF):
            assert word in builtin(key(lang, reg)).body_text


def test_an_unknown_variable_is_refused_with_its_line():
    text = TemplateText("Subject", "Hello {{ customer_name }}\n\nYour {{ cas_number }} is done")
    with pytest.raises(TemplateInvalid) as refused:
        check(key(), text)
    error = refused.value.errors[0]
    assert error.field == "body.body_text"
    assert error.message.startswith("line 3: unknown variable 'cas_number'")


def test_a_syntax_error_is_refused_with_its_line():
    with pytest.raises(TemplateInvalid) as refused:
        check(key(), TemplateText("S", "one\ntwo {% if %}\nthree"))
    assert "line 2" in refused.value.errors[0].message


def test_the_sandbox_refuses_reaching_into_python():
    text = TemplateText("S", "{{ case_number.__class__.__mro__ }}")
    with pytest.raises(TemplateInvalid):
        check(key(), text)


def test_an_email_needs_a_subject_and_an_sms_must_be_short():
    with pytest.raises(TemplateInvalid):
        check(key(), TemplateText(None, "{{ case_number }}"))
    with pytest.raises(TemplateInvalid) as refused:
        check(key(channel=SMS), TemplateText(None, "x" * 400))
    assert "320" in refused.value.errors[0].message


def test_every_message_documents_its_variables():
    assert set(VARIABLES) == set(Template)
    assert set().union(*VARIABLES.values()) <= set(SAMPLE)


def test_html_is_escaped_links_clickable_and_case_number_bold():
    text = TemplateText("S", "Hi {{ customer_name }}, see {{ survey_url }} for {{ case_number }}")
    context = {**SAMPLE, "customer_name": "<b>Ana</b>", "survey_url": "https://x.example/s?a=1&b=2"}
    rendered = render(text, context, "es", emphasise=SAMPLE["case_number"])
    assert "&lt;b&gt;Ana&lt;/b&gt;" in rendered.html
    assert 'href="https://x.example/s?a=1&amp;b=2"' in rendered.html
    assert "<strong>AT-2026-000123</strong>" in rendered.html
    assert '<html lang="es">' in rendered.html


def test_an_edited_template_renders_its_new_words_though_compiled_templates_are_kept():
    """Compiled templates are cached by their text: an administrator's edit of the same key is
    a new text, so it renders at once; going back to an earlier text renders that again."""
    context = {"customer_name": "Ana", "case_number": "AT-1"}
    first = TemplateText(
        "Caso {{ case_number }}", "Hola {{ customer_name }}", "<p>{{ customer_name }}</p>"
    )
    edited = TemplateText(
        "Su caso {{ case_number }}", "Buenas, {{ customer_name }}", "<b>{{ customer_name }}</b>"
    )
    for text, subject, body, html in (
        (first, "Caso AT-1", "Hola Ana", "<p>Ana</p>"),
        (edited, "Su caso AT-1", "Buenas, Ana", "<b>Ana</b>"),
        (first, "Caso AT-1", "Hola Ana", "<p>Ana</p>"),
    ):
        rendered = render(text, context, "es", emphasise=None)
        assert (rendered.subject, rendered.text, rendered.html) == (subject, body, html)


def test_the_same_text_is_escaped_in_html_and_not_in_plain_text_though_cached():
    """One source used as plain text and as HTML is two compiled templates (autoescape
    differs): the cache keys them apart."""
    source = "{{ customer_name }}"
    rendered = render(
        TemplateText("s", source, source), {"customer_name": "<b>"}, "es", emphasise=None
    )
    assert (rendered.text, rendered.html) == ("<b>", "&lt;b&gt;")
