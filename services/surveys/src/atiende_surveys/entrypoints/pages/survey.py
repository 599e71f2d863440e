"""The public survey page (HTML; the token in its link is the only credential).

Answering follows POST/redirect/GET: a valid answer is stored, then the browser is sent with a 303
to the same page with `?thanks=1`, so reloading the thank-you page never resubmits the form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from atiende_runtime.languages import Language
from atiende_runtime.logs import current_case_id
from atiende_runtime.pages import HTML_RESPONSE, Pages
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain import (
    COMMENT_MAX_LENGTH,
    AnswerProblem,
    InvalidAnswer,
    InvitationNotFound,
    SurveyClosed,
    SurveyExpired,
)
from ...repository import PostgresUnitOfWork
from ...settings import SurveysSettings
from ..http.deps import runtime
from .texts import PAGE_TEXTS, page_language

router = APIRouter(tags=["survey page"])

# A survey page is opened through a secret link: keep it out of search engines too
pages = Pages("atiende_surveys", PAGE_TEXTS, noindex=True)

Runtime = Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)]
Lang = Annotated[str | None, Query(description="Page language: es (default) or en")]

# The answer form is read by hand (so a bad field re-renders the page instead of problem+json);
# this documents it in OpenAPI all the same.
ANSWER_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["satisfaction"],
                "properties": {
                    "satisfaction": {"type": "integer", "minimum": 1, "maximum": 5},
                    "comment": {"type": "string", "maxLength": COMMENT_MAX_LENGTH},
                },
            }
        }
    },
}

PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown survey link (HTML page)", **HTML_RESPONSE},
    410: {"description": "The survey expired (HTML page)", **HTML_RESPONSE},
}


# --- rendering ---------------------------------------------------------------------------------


def _message(
    request: Request, language: Language, status_code: int, heading: str, body: str
) -> HTMLResponse:
    return pages.render(request, "message.html", language, status_code, heading=heading, body=body)


def _not_found(request: Request, language: Language) -> HTMLResponse:
    text = PAGE_TEXTS[language]
    return _message(request, language, 404, text.not_found_title, text.not_found_body)


def _closed(
    request: Request,
    language: Language,
    closed: SurveyClosed,
    *,
    answered_status_code: int,
    just_answered: bool = False,
) -> HTMLResponse:
    """The page of an invitation that takes no more answers."""
    current_case_id.set(str(closed.case_id))
    text = PAGE_TEXTS[language]
    number = closed.case_number
    if isinstance(closed, SurveyExpired):
        return _message(
            request, language, 410, text.expired_title, text.expired_body.format(number=number)
        )
    if just_answered:
        return _message(
            request,
            language,
            answered_status_code,
            text.thanks_title,
            text.thanks_body.format(number=number),
        )
    return _message(
        request,
        language,
        answered_status_code,
        text.already_answered_title,
        text.already_answered_body.format(number=number),
    )


def _form(
    request: Request,
    language: Language,
    case_number: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    chosen: int | None = None,
    comment: str = "",
) -> HTMLResponse:
    return pages.render(
        request,
        "form.html",
        language,
        status_code,
        heading=PAGE_TEXTS[language].title,
        action="?" + urlencode({"lang": language.value}),
        case_number=case_number,
        errors=errors or {},
        chosen=chosen,
        comment=comment,
        comment_max_length=COMMENT_MAX_LENGTH,
    )


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None  # an uploaded file is not an answer


# --- routes ------------------------------------------------------------------------------------


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    summary="The survey page of an invitation (public; the token is the credential)",
    responses=PAGE_RESPONSES,
)
async def survey_page(
    token: str,
    request: Request,
    rt: Runtime,
    lang: Lang = None,
    thanks: Annotated[str | None, Query(description="1 right after answering")] = None,
) -> HTMLResponse:
    language = page_language(lang)
    try:
        async with rt.unit_of_work() as tx:
            invitation = await usecases.show_survey(
                PostgresUnitOfWork(tx), token, datetime.now(UTC)
            )
    except InvitationNotFound:
        return _not_found(request, language)
    except SurveyClosed as closed:
        return _closed(
            request, language, closed, answered_status_code=200, just_answered=thanks == "1"
        )
    current_case_id.set(str(invitation.case_id))
    return _form(request, language, invitation.case_number)


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    status_code=303,
    response_description="Answer stored: see the thank-you page (Location `?thanks=1`)",
    openapi_extra={"requestBody": ANSWER_FORM},
    summary="Answer the survey (form fields satisfaction 1..5, comment); emits survey.answered",
    responses={
        **PAGE_RESPONSES,
        409: {"description": "Already answered (HTML page)", **HTML_RESPONSE},
        422: {"description": "Invalid field: the form again, with the error", **HTML_RESPONSE},
    },
)
async def answer_survey(token: str, request: Request, rt: Runtime, lang: Lang = None) -> Response:
    language = page_language(lang)
    form = await request.form()  # read before the transaction: no connection held on a slow client
    satisfaction, comment = _text_field(form, "satisfaction"), _text_field(form, "comment")
    try:
        async with rt.unit_of_work() as tx:
            answered = await usecases.answer_survey(
                PostgresUnitOfWork(tx), token, satisfaction, comment, datetime.now(UTC)
            )
    except InvitationNotFound:
        return _not_found(request, language)
    except SurveyClosed as closed:
        return _closed(request, language, closed, answered_status_code=409)
    except InvalidAnswer as invalid:
        if invalid.case_id is not None:
            current_case_id.set(str(invalid.case_id))
        text = PAGE_TEXTS[language]
        errors = {
            field: text.describe(AnswerProblem(error.rule))
            for field, error in invalid.by_field().items()
        }
        chosen = int(satisfaction) if "satisfaction" not in errors and satisfaction else None
        return _form(
            request,
            language,
            invalid.case_number or "",
            status_code=422,
            errors=errors,
            chosen=chosen,
            comment=comment or "",
        )
    current_case_id.set(str(answered.case_id))
    # a query-only reference: the same page, whatever prefix a proxy serves it under
    thanks_page = "?" + urlencode({"thanks": "1", "lang": language.value})
    return RedirectResponse(thanks_page, status_code=303, headers=pages.headers)
