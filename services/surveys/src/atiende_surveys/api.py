"""Surveys' HTTP routes: the public survey page (HTML, the token in its link is the only
credential) and the staff JSON API.

Answering follows POST/redirect/GET: a valid answer is stored, then the browser is sent with a 303
to the same page with `?thanks=1`, so reloading the thank-you page never resubmits the form.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel
from starlette.datastructures import FormData

from atiende_runtime.auth import Principal, require
from atiende_runtime.logs import current_case_id
from atiende_runtime.service import runtime_of

from .domain import (
    COMMENT_MAX_LENGTH,
    PAGE_TEXTS,
    InvalidAnswer,
    Invitation,
    InvitationStatus,
    hash_token,
    page_language,
    parse_answer,
)
from .repository import SurveysRepository

router = APIRouter()

templates = Environment(
    loader=PackageLoader("atiende_surveys", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# A survey page is opened through a secret link: keep it out of caches and search engines, and
# keep the link out of the Referer header of anything the page leads to.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

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
    404: {"description": "Unknown survey link (HTML page)", "content": {"text/html": {}}},
    410: {"description": "The survey expired (HTML page)", "content": {"text/html": {}}},
}


# --- rendering ---------------------------------------------------------------------------------


def _render(
    request: Request, template: str, language: str, status_code: int, **context: Any
) -> HTMLResponse:
    language_links = [
        {
            "code": code,
            "name": text.language_name,
            "href": "?" + urlencode({**request.query_params, "lang": code}),
        }
        for code, text in PAGE_TEXTS.items()
        if code != language
    ]
    html = templates.get_template(template).render(
        lang=language, t=PAGE_TEXTS[language], language_links=language_links, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def _message(
    request: Request, language: str, status_code: int, heading: str, body: str
) -> HTMLResponse:
    return _render(request, "message.html", language, status_code, heading=heading, body=body)


def _not_found(request: Request, language: str) -> HTMLResponse:
    text = PAGE_TEXTS[language]
    return _message(request, language, 404, text.not_found_title, text.not_found_body)


def _closed(
    request: Request,
    language: str,
    invitation: Invitation,
    status: InvitationStatus,
    *,
    answered_status_code: int,
    just_answered: bool = False,
) -> HTMLResponse:
    """The page of an invitation that takes no more answers."""
    text = PAGE_TEXTS[language]
    number = invitation.case_number
    if status is InvitationStatus.EXPIRED:
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
    language: str,
    invitation: Invitation,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    chosen: int | None = None,
    comment: str = "",
) -> HTMLResponse:
    return _render(
        request,
        "form.html",
        language,
        status_code,
        heading=PAGE_TEXTS[language].title,
        action="?" + urlencode({"lang": language}),
        case_number=invitation.case_number,
        errors=errors or {},
        chosen=chosen,
        comment=comment,
        comment_max_length=COMMENT_MAX_LENGTH,
    )


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None  # an uploaded file is not an answer


# --- the public survey page --------------------------------------------------------------------


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    tags=["survey page"],
    summary="The survey page of an invitation (public; the token is the credential)",
    responses=PAGE_RESPONSES,
)
async def survey_page(
    token: str,
    request: Request,
    lang: Annotated[str | None, Query(description="Page language: es (default) or en")] = None,
    thanks: Annotated[str | None, Query(description="1 right after answering")] = None,
) -> HTMLResponse:
    language = page_language(lang)
    async with runtime_of(request).pool.acquire() as conn:
        invitation = await SurveysRepository(conn).by_token_hash(hash_token(token))
    if invitation is None:
        return _not_found(request, language)
    current_case_id.set(str(invitation.case_id))
    status = invitation.status_at(datetime.now(UTC))
    if status is not InvitationStatus.PENDING:
        return _closed(
            request,
            language,
            invitation,
            status,
            answered_status_code=200,
            just_answered=thanks == "1",
        )
    return _form(request, language, invitation)


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    status_code=303,
    response_description="Answer stored: see the thank-you page (Location `?thanks=1`)",
    openapi_extra={"requestBody": ANSWER_FORM},
    tags=["survey page"],
    summary="Answer the survey (form fields satisfaction 1..5, comment); emits survey.answered",
    responses={
        **PAGE_RESPONSES,
        409: {"description": "Already answered (HTML page)", "content": {"text/html": {}}},
        422: {
            "description": "Invalid field: the form again, with the error",
            "content": {"text/html": {}},
        },
    },
)
async def answer_survey(
    token: str,
    request: Request,
    lang: Annotated[str | None, Query(description="Page language: es (default) or en")] = None,
) -> Response:
    language = page_language(lang)
    form = await request.form()  # read before the transaction: no connection held on a slow client
    satisfaction, comment = _text_field(form, "satisfaction"), _text_field(form, "comment")
    now = datetime.now(UTC)
    async with runtime_of(request).unit_of_work() as uow:
        repo = SurveysRepository(uow.conn)
        # the row lock makes a concurrent second submission wait, then find it answered
        invitation = await repo.by_token_hash(hash_token(token), for_update=True)
        if invitation is None:
            return _not_found(request, language)
        current_case_id.set(str(invitation.case_id))
        status = invitation.status_at(now)
        if status is not InvitationStatus.PENDING:
            return _closed(request, language, invitation, status, answered_status_code=409)
        try:
            answer = parse_answer(satisfaction, comment)
        except InvalidAnswer as invalid:
            text = PAGE_TEXTS[language]
            errors = {field: text.describe(problem) for field, problem in invalid.problems.items()}
            chosen = int(satisfaction) if "satisfaction" not in errors and satisfaction else None
            return _form(
                request,
                language,
                invitation,
                status_code=422,
                errors=errors,
                chosen=chosen,
                comment=comment or "",
            )
        answered, event = invitation.respond(answer, now)
        await repo.save_response(answered)
        await uow.emit(event, subject=invitation.case_id)
    # a query-only reference: the same page, whatever prefix a proxy serves it under
    thanks_page = "?" + urlencode({"thanks": "1", "lang": language})
    return RedirectResponse(thanks_page, status_code=303, headers=PAGE_HEADERS)


# --- staff API ---------------------------------------------------------------------------------


class InvitationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    status: InvitationStatus
    invited_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    satisfaction: int | None
    comment: str | None


class InvitationList(BaseModel):
    items: list[InvitationOut]


def _out(invitation: Invitation, now: datetime) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        case_id=invitation.case_id,
        case_number=invitation.case_number,
        status=invitation.status_at(now),
        invited_at=invitation.invited_at,
        expires_at=invitation.expires_at,
        answered_at=invitation.answered_at,
        satisfaction=invitation.answer.satisfaction if invitation.answer else None,
        comment=invitation.answer.comment if invitation.answer else None,
    )


@router.get(
    "/invitations",
    response_model=InvitationList,
    tags=["invitations"],
    summary="A case's survey invitations, oldest first, with their status",
)
async def list_invitations(
    case_id: Annotated[uuid.UUID, Query(description="The case whose invitations to list")],
    request: Request,
    _: Annotated[Principal, Depends(require("supervisor", "agent"))],
) -> InvitationList:
    current_case_id.set(str(case_id))
    async with runtime_of(request).pool.acquire() as conn:
        invitations = await SurveysRepository(conn).for_case(case_id)
    now = datetime.now(UTC)
    return InvitationList(items=[_out(invitation, now) for invitation in invitations])
