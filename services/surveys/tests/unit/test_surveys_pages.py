"""The survey page's rendering and headers, without a server: the shared base, its stylesheet
allowed by hash alone, and a secret link kept out of caches, search engines and Referers."""

import base64
import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from atiende_runtime.languages import Language
from atiende_surveys.domain import STOCK, Invitation, SurveyAlreadyAnswered, SurveyExpired
from atiende_surveys.entrypoints.pages.survey import _closed, _form, _not_found
from atiende_surveys.entrypoints.pages.texts import texts_for

CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def request(query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/s/tok", "headers": [], "query_string": query}
    )


def invitation(questionnaire_id="csat", **extra) -> Invitation:
    issued, _ = Invitation.issue(
        case_id=CASE_ID,
        case_number="AT-2026-000007",
        now=NOW,
        ttl=timedelta(days=14),
        questionnaire=STOCK[questionnaire_id],
        **extra,
    )
    return issued


def test_the_form_page_allows_only_its_own_stylesheet_and_stays_private():
    page = _form(request(b"lang=en"), invitation(), STOCK["csat"], Language.EN, False)
    html = page.body.decode()
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert page.headers["content-security-policy"] == (
        f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<html lang="en">' in html
    assert "How satisfied are you with how we handled your case AT-2026-000007?" in html
    assert '<form method="post" action="?lang=en">' in html
    assert '<a href="?lang=es" lang="es" hreflang="es">Español</a>' in html
    # the opt-out is on the page, and answering is said to be optional
    assert 'href="/s/tok/optout?lang=en"' in html
    assert "Answering is optional" in html


def test_the_form_shows_saved_answers_and_the_register_asked_for():
    drafted = invitation().save_draft({"satisfaction": 2, "comment": "Tarde"}, NOW)
    page = _form(request(b"reg=tu"), drafted, STOCK["csat"], Language.ES, True, saved=True)
    html = page.body.decode()
    assert 'value="2" required checked>' in html
    assert ">Tarde</textarea>" in html
    assert "Hemos guardado tus respuestas" in html
    assert "puedes dejarlo cuando quieras" in html
    assert '<form method="post" action="?lang=es&amp;reg=tu">' in html


def test_the_servqual_page_asks_every_item_twice_on_seven_points():
    page = _form(request(), invitation("servqual"), STOCK["servqual"], Language.ES, False)
    html = page.body.decode()
    for item in range(1, 23):
        assert html.count(f'name="sq{item:02d}_e"') == 7, item
        assert html.count(f'name="sq{item:02d}_p"') == 7, item
    assert "Lo que espera de una empresa excelente" in html


def test_closed_and_unknown_surveys_get_their_own_pages():
    expired = SurveyExpired("expired", "answered", case_id=CASE_ID, case_number="AT-1")
    answered = SurveyAlreadyAnswered("answered", "answered", case_id=CASE_ID, case_number="AT-1")
    es, en = texts_for(Language.ES, False), texts_for(Language.EN, False)
    page = _closed(request(), Language.ES, es, expired, answered_status_code=409)
    assert (page.status_code, "Encuesta vencida" in page.body.decode()) == (410, True)
    page = _closed(request(), Language.ES, es, answered, answered_status_code=409)
    assert (page.status_code, "Encuesta ya respondida" in page.body.decode()) == (409, True)
    page = _closed(
        request(), Language.EN, en, answered, answered_status_code=200, just_answered=True
    )
    assert (page.status_code, "Thank you!" in page.body.decode()) == (200, True)
    page = _not_found(request(), Language.ES, es)
    assert (page.status_code, "Encuesta no encontrada" in page.body.decode()) == (404, True)
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
