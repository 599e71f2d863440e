"""The survey page's rendering and headers, without a server: the shared base, its stylesheet
allowed by hash alone, and a secret link kept out of caches, search engines and Referers."""

import base64
import hashlib
import re
import uuid

from starlette.requests import Request

from atiende_runtime.languages import Language
from atiende_surveys.domain import SurveyAlreadyAnswered, SurveyExpired
from atiende_surveys.entrypoints.pages.survey import _closed, _form, _not_found

CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def request(query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/s/tok", "headers": [], "query_string": query}
    )


def test_the_form_page_allows_only_its_own_stylesheet_and_stays_private():
    page = _form(request(b"lang=en"), Language.EN, "AT-2026-000007")
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


def test_closed_and_unknown_surveys_get_their_own_pages():
    expired = SurveyExpired("expired", "answered", case_id=CASE_ID, case_number="AT-1")
    answered = SurveyAlreadyAnswered("answered", "answered", case_id=CASE_ID, case_number="AT-1")
    page = _closed(request(), Language.ES, expired, answered_status_code=409)
    assert (page.status_code, "Encuesta vencida" in page.body.decode()) == (410, True)
    page = _closed(request(), Language.ES, answered, answered_status_code=409)
    assert (page.status_code, "Encuesta ya respondida" in page.body.decode()) == (409, True)
    page = _closed(request(), Language.EN, answered, answered_status_code=200, just_answered=True)
    assert (page.status_code, "Thank you!" in page.body.decode()) == (200, True)
    page = _not_found(request(), Language.ES)
    assert (page.status_code, "Encuesta no encontrada" in page.body.decode()) == (404, True)
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
