"""The public contact form (no login): GET /form shows it, POST /form records it as a contact.

- Language: `?lang=es|en`, else the browser's Accept-Language, else Spanish.
- A valid submission follows POST/redirect/GET: the contact is recorded, then the browser is
  sent with a 303 to /form/thanks (showing the case number it opened or joined), so reloading
  the thank-you page never sends the message twice.
- Links and redirects are relative (`?lang=en`, `form/thanks`), so the pages work under whatever
  path prefix a reverse proxy serves them.
- An invalid one gets the form again (422) with what was typed and a message next to each
  invalid field; nothing is saved.
- Each client address may submit `form_rate_limit` times per `form_rate_window_seconds` (fixed
  windows counted in the database, so every replica shares them); every submission counts, valid
  or not. Over the limit: a 429 page with Retry-After. Behind a reverse proxy, the address is the
  one uvicorn takes from X-Forwarded-For for the proxies in FORWARDED_ALLOW_IPS.
- The honeypot (see domain.webform) gets the thank-you page and records nothing.
"""

from __future__ import annotations

import html
import math
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from atiende_runtime.errors import DomainError, Invalid
from atiende_runtime.languages import Language
from atiende_runtime.pages import HTML_RESPONSE, Pages
from atiende_runtime.params import EMAIL_MAX_LENGTH, EMAIL_NOT, EMAIL_PATTERN
from atiende_runtime.problems import status_of

from ... import usecases
from ...domain.contacts import CASE_NUMBER_RE, Outcome
from ...domain.webform import (
    HONEYPOT_FIELD,
    KINDS,
    MAX_LENGTHS,
    FormProblem,
    FormValues,
    InvalidForm,
    parse_form,
)
from ..http.deps import Runtime, unit_of_work
from .texts import PAGE_TEXTS

router = APIRouter(tags=["web form"])

pages = Pages("atiende_intake", PAGE_TEXTS)
"""The form's pages: the shared base template, our stylesheet, the security headers (nothing
but our own stylesheet runs on the page, no scripts at all; the form posts only back here; no
other site may frame it; never cached, since the page may hold what the customer typed)."""

MAX_FORM_BYTES = 64 * 1024
"""Far above the longest valid submission (every field at its limit, percent-encoded)."""

REFUSED_FIELDS = {"case_number": FormProblem.UNKNOWN_CASE, "motive": FormProblem.NOT_AN_OPTION}
"""The form fields record_contact may refuse after the form's own checks passed (a case number
we never issued, a motive deactivated since the page was shown), and what the form says then."""

ANCHORS = {"kind": f"kind-{KINDS[0].value}"}
"""Where an error summary link takes the reader, when not to the control named like the field."""

FILLED_IN = {"type": "string", "minLength": 1, "pattern": r"\S"}
"""A required form field: something besides spaces (the form trims what is typed)."""

FORM_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["name", "email", "kind", "motive", "description"],
                "properties": {
                    "name": {**FILLED_IN, "maxLength": MAX_LENGTHS["name"]},
                    "email": {
                        **FILLED_IN,
                        "maxLength": EMAIL_MAX_LENGTH,
                        "pattern": EMAIL_PATTERN,
                        "not": {"pattern": EMAIL_NOT},
                    },
                    "phone": {"type": "string", "maxLength": MAX_LENGTHS["phone"]},
                    "kind": {"type": "string", "enum": [k.value for k in KINDS]},
                    "motive": {**FILLED_IN, "description": "An active motive's code"},
                    "description": {**FILLED_IN, "maxLength": MAX_LENGTHS["description"]},
                    "expectation": {"type": "string", "maxLength": MAX_LENGTHS["expectation"]},
                    "case_number": {"type": "string", "pattern": CASE_NUMBER_RE.pattern},
                    "survey_consent": {"type": "string", "description": "Present when ticked"},
                    HONEYPOT_FIELD: {"type": "string", "description": "Must stay empty"},
                },
            }
        }
    },
}


LANG = Annotated[str | None, Query(description="es or en; else Accept-Language")]


# --- rendering ----------------------------------------------------------------------------------


def _form_page(
    request: Request,
    language: Language,
    motives: list[tuple[str, str]],
    *,
    status_code: int = 200,
    values: FormValues | None = None,
    problems: dict[str, FormProblem] | None = None,
    general_error: str | None = None,
) -> HTMLResponse:
    text = PAGE_TEXTS[language]
    errors = {name: text.describe(name, problem) for name, problem in (problems or {}).items()}
    return pages.render(
        request,
        "form.html",
        language,
        status_code,
        heading=text.title,
        action="?" + urlencode({"lang": language.value}),
        values=values or FormValues(),
        errors=errors,
        # the rule behind each message, for programs reading the page (as problem+json names it)
        rules={name: problem.value for name, problem in (problems or {}).items()},
        general_error=general_error,
        anchors=ANCHORS,
        kinds=[(kind.value, text.kind_labels[kind]) for kind in KINDS],
        motives=motives,
        max_lengths=MAX_LENGTHS,
        honeypot=HONEYPOT_FIELD,
    )


def _message_page(
    request: Request,
    language: Language,
    status_code: int,
    heading: str,
    paragraphs: list[str],
    *,
    headers: dict[str, str] | None = None,
    case_number: str | None = None,
    back_to_form: str = "",
) -> HTMLResponse:
    page = pages.render(
        request,
        "message.html",
        language,
        status_code,
        heading=heading,
        paragraphs=paragraphs,
        case_number=case_number,
        back_href=f"{back_to_form}?" + urlencode({"lang": language.value}),
    )
    page.headers.update(headers or {})
    return page


async def _motives(runtime: Runtime, language: Language) -> list[tuple[str, str]]:
    async with unit_of_work(runtime) as uow:
        return await usecases.form_motives(uow, language, runtime.settings)


# --- routes -------------------------------------------------------------------------------------


@router.get(
    "/form",
    response_class=HTMLResponse,
    summary="The public contact form (HTML, Spanish or English)",
)
async def show_form(request: Request, runtime: Runtime, lang: LANG = None) -> HTMLResponse:
    language = pages.language(request, lang)
    return _form_page(request, language, await _motives(runtime, language))


@router.post(
    "/form",
    response_class=HTMLResponse,
    status_code=303,
    openapi_extra={"requestBody": FORM_BODY},
    summary="Send the contact form; records a contact (opening or joining a case) and redirects "
    "to the thank-you page",
    response_description="Recorded: see /form/thanks (Location)",
    responses={
        413: {"description": "The form is far too large (HTML page)", **HTML_RESPONSE},
        415: {"description": "Not an urlencoded form (HTML page)", **HTML_RESPONSE},
        422: {"description": "Invalid fields: the form again, with messages", **HTML_RESPONSE},
        429: {
            "description": "Too many submissions from this address (Retry-After)",
            **HTML_RESPONSE,
        },
    },
)
async def submit_form(request: Request, runtime: Runtime, lang: LANG = None) -> Response:
    language = pages.language(request, lang)
    text = PAGE_TEXTS[language]
    settings = runtime.settings

    # every submission counts, valid or not, committed on its own whatever happens next
    address = request.client.host if request.client else "unknown"
    async with unit_of_work(runtime) as uow:
        retry_after = await usecases.count_form_submission(uow, address, settings)
    if retry_after is not None:
        minutes = str(math.ceil(retry_after / 60))
        return _message_page(
            request,
            language,
            429,
            text.too_many_title,
            [text.too_many_body.format(minutes=minutes)],
            headers={"Retry-After": str(retry_after)},
        )
    try:
        pairs = await _form_fields(request)
    except UnreadableForm as unreadable:
        return _message_page(
            request, language, unreadable.status, text.unsupported_title, [text.unsupported_body]
        )
    values = FormValues.from_pairs(pairs)
    if values.is_bot:
        return _thanks_redirect(language, None, Outcome.RECORDED)

    motives = await _motives(runtime, language)
    try:
        form = parse_form(values, (code for code, _ in motives), language)
    except InvalidForm as invalid:
        return _form_page(
            request, language, motives, status_code=422, values=values, problems=invalid.problems
        )
    try:
        async with unit_of_work(runtime) as uow:
            recorded = await usecases.record_form(uow, form, settings)
    except DomainError as refused:
        fields = refused.by_field() if isinstance(refused, Invalid) else {}
        problems = {name: REFUSED_FIELDS[name] for name in fields if name in REFUSED_FIELDS}
        return _form_page(
            request,
            language,
            motives,
            status_code=422 if problems else status_of(refused),
            values=values,
            problems=problems,
            general_error=None if problems else text.not_recorded,
        )
    number = recorded.case.number if recorded.case else None
    return _thanks_redirect(language, number, recorded.outcome)


@router.get(
    "/form/thanks",
    response_class=HTMLResponse,
    summary="The page shown after sending the contact form",
)
async def thanks(
    request: Request,
    lang: LANG = None,
    case: Annotated[str | None, Query(description="The case number opened or joined")] = None,
    outcome: Annotated[Outcome | None, Query(description="What the message did")] = None,
) -> HTMLResponse:
    language = pages.language(request, lang)
    text = PAGE_TEXTS[language]
    number = case if case and CASE_NUMBER_RE.fullmatch(case) else None
    if number is None or outcome is None or outcome is Outcome.RECORDED:
        paragraph, number = text.thanks_recorded, None
    elif outcome is Outcome.OPENED:
        paragraph = text.thanks_opened.format(number=number)
    else:
        paragraph = text.thanks_joined.format(number=number)
    return _message_page(
        request,
        language,
        200,
        text.thanks_title,
        [paragraph],
        case_number=number,
        back_to_form="../form",
    )


# --- helpers ------------------------------------------------------------------------------------


def _thanks_redirect(language: Language, number: str | None, outcome: Outcome) -> HTMLResponse:
    """A 303 to the thank-you page, with the short HTML note RFC 9110 suggests (a link there),
    so the answer is the text/html the document says."""
    query = {"lang": language.value, "outcome": outcome.value}
    if number:
        query["case"] = number
    location = "form/thanks?" + urlencode(query)
    note = f'<!doctype html>\n<a href="{html.escape(location)}">{html.escape(location)}</a>\n'
    return HTMLResponse(note, status_code=303, headers={**pages.headers, "Location": location})


class UnreadableForm(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _form_fields(request: Request) -> list[tuple[str, str]]:
    """The urlencoded fields. UnreadableForm(415) for another media type or a body that does not
    decode, (413) for one far larger than any valid submission."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise UnreadableForm(415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise UnreadableForm(413)
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise UnreadableForm(415) from None
