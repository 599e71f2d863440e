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

import base64
import hashlib
import math
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Annotated, Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from atiende_contracts import CatalogueKind
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from ..channels import record_form
from ..domain.contacts import CASE_NUMBER_RE, Outcome
from ..domain.webform import (
    HONEYPOT_FIELD,
    KINDS,
    MAX_LENGTHS,
    PAGE_TEXTS,
    FormProblem,
    FormValues,
    InvalidForm,
    motive_options,
    page_language,
    parse_form,
)
from ..repository.catalogue import CatalogueRepository
from ..repository.rate_limits import RateLimitsRepository

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["web form"])

MAX_FORM_BYTES = 64 * 1024
"""Far above the longest valid submission (every field at its limit, percent-encoded)."""

MAX_MOTIVES = 200

templates = Environment(
    loader=PackageLoader("atiende_intake", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
CSS = (files("atiende_intake") / "templates" / "form.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

# Nothing but our own stylesheet runs on the page (no scripts at all), the form posts only back
# here, and no other site may frame it. The page may hold what the customer typed: never cache it.
PAGE_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

ANCHORS = {"kind": f"kind-{KINDS[0].value}"}
"""Where an error summary link takes the reader, when not to the control named like the field."""

FORM_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["name", "email", "kind", "motive", "description"],
                "properties": {
                    "name": {"type": "string", "maxLength": MAX_LENGTHS["name"]},
                    "email": {"type": "string", "format": "email"},
                    "phone": {"type": "string", "maxLength": MAX_LENGTHS["phone"]},
                    "kind": {"type": "string", "enum": [k.value for k in KINDS]},
                    "motive": {"type": "string", "description": "An active motive's code"},
                    "description": {"type": "string", "maxLength": MAX_LENGTHS["description"]},
                    "expectation": {"type": "string", "maxLength": MAX_LENGTHS["expectation"]},
                    "case_number": {"type": "string", "pattern": CASE_NUMBER_RE.pattern},
                    "survey_consent": {"type": "string", "description": "Present when ticked"},
                    HONEYPOT_FIELD: {"type": "string", "description": "Must stay empty"},
                },
            }
        }
    },
}

HTML: dict[str, Any] = {"content": {"text/html": {}}}


# --- rendering ----------------------------------------------------------------------------------


def _render(
    request: Request, template: str, language: str, status_code: int, **context: Any
) -> HTMLResponse:
    links = [
        {
            "code": code,
            "name": text.language_name,
            "href": "?" + urlencode({**request.query_params, "lang": code}),
        }
        for code, text in PAGE_TEXTS.items()
        if code != language
    ]
    html = templates.get_template(template).render(
        lang=language, t=PAGE_TEXTS[language], css=CSS, language_links=links, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def _form_page(
    request: Request,
    language: str,
    motives: list[tuple[str, str]],
    *,
    status_code: int = 200,
    values: FormValues | None = None,
    problems: dict[str, FormProblem] | None = None,
    general_error: str | None = None,
) -> HTMLResponse:
    text = PAGE_TEXTS[language]
    errors = {name: text.describe(name, problem) for name, problem in (problems or {}).items()}
    return _render(
        request,
        "form.html",
        language,
        status_code,
        heading=text.title,
        action="?" + urlencode({"lang": language}),
        values=values or FormValues(),
        errors=errors,
        general_error=general_error,
        anchors=ANCHORS,
        kinds=[(kind.value, text.kind_labels[kind]) for kind in KINDS],
        motives=motives,
        max_lengths=MAX_LENGTHS,
        honeypot=HONEYPOT_FIELD,
    )


def _message_page(
    request: Request,
    language: str,
    status_code: int,
    heading: str,
    paragraphs: list[str],
    *,
    headers: dict[str, str] | None = None,
    case_number: str | None = None,
    back_to_form: str = "",
) -> HTMLResponse:
    page = _render(
        request,
        "message.html",
        language,
        status_code,
        heading=heading,
        paragraphs=paragraphs,
        case_number=case_number,
        back_href=f"{back_to_form}?" + urlencode({"lang": language}),
    )
    page.headers.update(headers or {})
    return page


async def _motives(request: Request, language: str) -> list[tuple[str, str]]:
    settings = cast("IntakeSettings", runtime_of(request).settings)
    async with runtime_of(request).pool.acquire() as conn:
        entries = await CatalogueRepository(conn).entries(
            CatalogueKind.MOTIVE,
            active=True,
            on=datetime.now(UTC).date(),
            parent=None,
            after_code=None,
            limit=MAX_MOTIVES,
        )
    return motive_options(entries, language, last=settings.default_motive)


def _language(request: Request, lang: str | None) -> str:
    return page_language(lang, request.headers.get("accept-language"))


# --- routes -------------------------------------------------------------------------------------


@router.get(
    "/form",
    response_class=HTMLResponse,
    summary="The public contact form (HTML, Spanish or English)",
)
async def show_form(
    request: Request,
    lang: Annotated[str | None, Query(description="es or en; else Accept-Language")] = None,
) -> HTMLResponse:
    language = _language(request, lang)
    return _form_page(request, language, await _motives(request, language))


@router.post(
    "/form",
    response_class=HTMLResponse,
    status_code=303,
    openapi_extra={"requestBody": FORM_BODY},
    summary="Send the contact form; records a contact (opening or joining a case) and redirects "
    "to the thank-you page",
    response_description="Recorded: see /form/thanks (Location)",
    responses={
        413: {"description": "The form is far too large (HTML page)", **HTML},
        415: {"description": "Not an urlencoded form (HTML page)", **HTML},
        422: {"description": "Invalid fields: the form again, with messages", **HTML},
        429: {"description": "Too many submissions from this address (Retry-After)", **HTML},
    },
)
async def submit_form(
    request: Request,
    lang: Annotated[str | None, Query(description="es or en; else Accept-Language")] = None,
) -> Response:
    language = _language(request, lang)
    text = PAGE_TEXTS[language]
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)

    retry_after = await _over_rate_limit(request, settings)
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

    motives = await _motives(request, language)
    try:
        form = parse_form(values, (code for code, _ in motives), language)
    except InvalidForm as invalid:
        return _form_page(
            request, language, motives, status_code=422, values=values, problems=invalid.problems
        )
    try:
        async with runtime.unit_of_work() as uow:
            recorded = await record_form(uow, form, settings)
    except Problem as refused:
        problems = _form_problems(refused)
        return _form_page(
            request,
            language,
            motives,
            status_code=422 if problems else refused.status,
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
    lang: Annotated[str | None, Query(description="es or en; else Accept-Language")] = None,
    case: Annotated[str | None, Query(description="The case number opened or joined")] = None,
    outcome: Annotated[Outcome | None, Query(description="What the message did")] = None,
) -> HTMLResponse:
    language = _language(request, lang)
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


def _thanks_redirect(language: str, number: str | None, outcome: Outcome) -> RedirectResponse:
    query = {"lang": language, "outcome": outcome.value}
    if number:
        query["case"] = number
    return RedirectResponse(
        "form/thanks?" + urlencode(query), status_code=303, headers=PAGE_HEADERS
    )


async def _over_rate_limit(request: Request, settings: IntakeSettings) -> int | None:
    """Count this submission for its client address; seconds until the window ends when the
    address is over the limit, else None. Committed on its own, whatever happens next."""
    window = settings.form_rate_window_seconds
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    address = request.client.host if request.client else "unknown"
    # the address is personal data: the table only ever holds a digest of it
    bucket = "form:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    async with runtime_of(request).unit_of_work() as uow:
        hits = await RateLimitsRepository(uow.conn).hit(bucket, start)
    if hits <= settings.form_rate_limit:
        return None
    return max(1, math.ceil((start + timedelta(seconds=window) - now).total_seconds()))


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


def _form_problems(refused: Problem) -> dict[str, FormProblem]:
    """The form fields a refusal from record_contact names (a case number we never issued, a
    motive deactivated since the page was shown); empty when it is about nothing on the form."""
    problems: dict[str, FormProblem] = {}
    for error in refused.errors or []:
        if error.get("field") == "case_number":
            problems["case_number"] = FormProblem.UNKNOWN_CASE
        elif error.get("field") == "motive":
            problems["motive"] = FormProblem.NOT_AN_OPTION
    return problems
