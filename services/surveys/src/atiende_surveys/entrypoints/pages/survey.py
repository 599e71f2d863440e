"""The public survey pages (HTML; the token in the link is the only credential).

- GET /s/{token}: the whole questionnaire on one page, with any saved answers filled in.
- POST /s/{token}: `action=save` keeps the answers given so far; otherwise the final answer.
  POST/redirect/GET: a 303 to `?thanks=1` (or `?saved=1`), so a reload never resubmits.
- GET /s/{token}/a?<first question>=<value>: where the email's one-click links land. It records
  NOTHING: mail scanners follow links; only the confirm button (a POST) keeps the answer.
- GET/POST /s/{token}/optout: decline this survey and opt out of its kind or of all, no login.
An unknown token gets the same page whatever exists: a token never tells whether a case does.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    ALL_KINDS,
    AnswerProblem,
    InvalidAnswer,
    Invitation,
    InvitationNotFound,
    Question,
    Questionnaire,
    QuestionType,
    SurveyClosed,
    SurveyExpired,
    localise,
)
from ...repository import PostgresUnitOfWork
from ...settings import SurveysSettings
from ..http.deps import runtime
from .texts import PAGE_TEXTS, PageText, page_language, texts_for

router = APIRouter(tags=["survey page"])

# A survey page is opened through a secret link: keep it out of search engines too
pages = Pages("atiende_surveys", PAGE_TEXTS, noindex=True)

Runtime = Annotated[ServiceRuntime[SurveysSettings], Depends(runtime)]
Lang = Annotated[str | None, Query(description="Page language: es (default) or en")]
Reg = Annotated[str | None, Query(description="tu: the informal register")]

FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": "One field per question code (a SERVQUAL item: <code>_e and "
                "<code>_p); action=save keeps a partial answer",
                "additionalProperties": {"type": "string"},
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


def _not_found(request: Request, language: Language, text: PageText) -> HTMLResponse:
    return _message(request, language, 404, text.not_found_title, text.not_found_body)


def _closed(
    request: Request,
    language: Language,
    text: PageText,
    closed: SurveyClosed,
    *,
    answered_status_code: int,
    just_answered: bool = False,
) -> HTMLResponse:
    current_case_id.set(str(closed.case_id))
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


def _choices(question: Question, language: str, informal: bool, text: PageText) -> list[Any]:
    if question.type is QuestionType.CHOICE:
        return [(o.code, localise(o.label, language, informal)) for o in question.options]
    if question.type is QuestionType.YES_NO:
        return [("yes", text.yes), ("no", text.no)]
    if question.type in (QuestionType.SCALE, QuestionType.SERVQUAL):
        low, high = (
            (1, 7)
            if question.type is QuestionType.SERVQUAL
            else (
                question.minimum,
                question.maximum,
            )
        )
        out = []
        for value in range(low, high + 1):
            index = value - low
            label = (
                localise(question.labels[index], language, informal)
                if index < len(question.labels)
                else ""
            )
            out.append((str(value), label))
        return out
    return []


def _view(
    questionnaire: Questionnaire,
    invitation: Invitation,
    language: Language,
    informal: bool,
    text: PageText,
    values: Mapping[str, str],
    errors: Mapping[str, str],
) -> list[dict[str, Any]]:
    lang = language.value
    return [
        {
            "code": q.code,
            "type": q.type.value,
            "text": localise(q.text, lang, informal).format(number=invitation.case_number),
            "required": q.required,
            "keys": q.keys,
            "choices": _choices(q, lang, informal, text),
            "low": localise(q.low_label, lang, informal) if q.low_label else "",
            "high": localise(q.high_label, lang, informal) if q.high_label else "",
            "max_length": q.max_length,
            "values": {key: values.get(key, "") for key in q.keys},
            "errors": {key: errors[key] for key in q.keys if key in errors},
        }
        for q in questionnaire.questions
    ]


def _query(language: Language, informal: bool, **extra: str) -> str:
    params = {**extra, "lang": language.value}
    if informal:
        params["reg"] = "tu"
    return "?" + urlencode(params)


def _form(
    request: Request,
    invitation: Invitation,
    questionnaire: Questionnaire,
    language: Language,
    informal: bool,
    *,
    status_code: int = 200,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    saved: bool = False,
) -> HTMLResponse:
    text = texts_for(language, informal)
    shown = {k: str(v) for k, v in invitation.draft.items()}
    shown.update(values or {})
    lang = language.value
    return pages.render(
        request,
        "form.html",
        language,
        status_code,
        heading=localise(questionnaire.title, lang, informal),
        intro=localise(questionnaire.intro, lang, informal) if questionnaire.intro else "",
        tx=text,
        action=_query(language, informal),
        optout_href=f"{request.url.path.rstrip('/')}/optout" + _query(language, informal),
        questions=_view(questionnaire, invitation, language, informal, text, shown, errors or {}),
        errors=_summary(errors or {}, text, questionnaire),
        saved=saved,
    )


def _fields(form: FormData) -> dict[str, str]:
    # an uploaded file is not an answer
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def _register(reg: str | None, invitation: Invitation | None) -> bool:
    if reg is not None:
        return reg.strip().lower() == "tu"
    return invitation.informal if invitation is not None else False


def _describe(
    invalid: InvalidAnswer, text: PageText, questionnaire: Questionnaire | None = None
) -> dict[str, str]:
    described = {}
    for field, error in invalid.by_field().items():
        question = questionnaire.question_of(field) if questionnaire else None
        low, high = (
            (1, 7)
            if question and question.type is QuestionType.SERVQUAL
            else ((question.minimum, question.maximum) if question else (1, 5))
        )
        maximum = question.max_length if question else 1000
        described[field] = text.describe(AnswerProblem(error.rule), low, high, maximum)
    return described


def _summary(
    errors: Mapping[str, str], text: PageText, questionnaire: Questionnaire
) -> dict[str, str]:
    """The error summary's lines: "<field name>: <message>"."""
    positions = {key: n for n, q in enumerate(questionnaire.questions, start=1) for key in q.keys}
    return {
        field: f"{text.name_of(field, positions.get(field, 0))}: {message}"
        for field, message in errors.items()
    }


# --- the questionnaire -------------------------------------------------------------------------


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
    reg: Reg = None,
    thanks: Annotated[str | None, Query(description="1 right after answering")] = None,
    saved: Annotated[str | None, Query(description="1 right after saving")] = None,
) -> HTMLResponse:
    language = page_language(lang)
    try:
        async with rt.unit_of_work() as tx:
            invitation, questionnaire = await usecases.show_survey(
                PostgresUnitOfWork(tx), token, datetime.now(UTC)
            )
    except InvitationNotFound:
        return _not_found(request, language, texts_for(language, _register(reg, None)))
    except SurveyClosed as closed:
        text = texts_for(language, _register(reg, None))
        return _closed(
            request,
            language,
            text,
            closed,
            answered_status_code=200,
            just_answered=thanks == "1",
        )
    current_case_id.set(str(invitation.case_id))
    language = page_language(lang, invitation.language)
    informal = _register(reg, invitation)
    return _form(request, invitation, questionnaire, language, informal, saved=saved == "1")


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    status_code=303,
    response_description="Stored: see the thank-you page (Location `?thanks=1`)",
    openapi_extra={"requestBody": FORM},
    summary="Answer the survey, or save a partial answer (action=save)",
    responses={
        **PAGE_RESPONSES,
        409: {"description": "Already answered (HTML page)", **HTML_RESPONSE},
        422: {"description": "Invalid field: the form again, with the error", **HTML_RESPONSE},
    },
)
async def answer_survey(
    token: str, request: Request, rt: Runtime, lang: Lang = None, reg: Reg = None
) -> Response:
    language = page_language(lang)
    fields = _fields(await request.form())  # read before the transaction
    saving = fields.get("action") == "save"
    now = datetime.now(UTC)
    informal = _register(reg, None)
    text = texts_for(language, informal)
    try:
        async with rt.unit_of_work() as tx:
            uow = PostgresUnitOfWork(tx)
            if saving:
                await usecases.save_draft(uow, token, fields, now)
            else:
                await usecases.answer_survey(uow, token, fields, now)
    except InvitationNotFound:
        return _not_found(request, language, text)
    except SurveyClosed as closed:
        return _closed(request, language, text, closed, answered_status_code=409)
    except InvalidAnswer as invalid:
        async with rt.unit_of_work() as tx:
            invitation, questionnaire = await usecases.show_survey(
                PostgresUnitOfWork(tx), token, now
            )
        current_case_id.set(str(invitation.case_id))
        informal = _register(reg, invitation)
        return _form(
            request,
            invitation,
            questionnaire,
            language,
            informal,
            status_code=422,
            values={k: v for k, v in fields.items() if k != "action"},
            errors=_describe(invalid, texts_for(language, informal), questionnaire),
        )
    after = {"saved": "1"} if saving else {"thanks": "1"}
    return RedirectResponse(
        _query(language, informal, **after), status_code=303, headers=pages.headers
    )


# --- one click from the email: confirm before anything is kept ----------------------------------


@router.get(
    "/s/{token}/a",
    response_class=HTMLResponse,
    summary="Where an email's answer link lands: asks to confirm, records nothing",
    responses=PAGE_RESPONSES,
)
async def confirm_page(
    token: str, request: Request, rt: Runtime, lang: Lang = None, reg: Reg = None
) -> HTMLResponse:
    language = page_language(lang)
    try:
        async with rt.unit_of_work() as tx:
            invitation, questionnaire = await usecases.show_survey(
                PostgresUnitOfWork(tx), token, datetime.now(UTC)
            )
    except InvitationNotFound:
        return _not_found(request, language, texts_for(language, _register(reg, None)))
    except SurveyClosed as closed:
        text = texts_for(language, _register(reg, None))
        return _closed(request, language, text, closed, answered_status_code=200)
    current_case_id.set(str(invitation.case_id))
    language = page_language(lang, invitation.language)
    informal = _register(reg, invitation)
    text = texts_for(language, informal)
    first = questionnaire.first
    chosen = request.query_params.get(first.code, "")
    labels = dict(_choices(first, language.value, informal, text))
    if chosen not in first.values():
        # a mangled link: show the whole questionnaire instead of guessing
        return _form(request, invitation, questionnaire, language, informal)
    answer = (
        f"{chosen} · {labels[chosen]}"
        if labels.get(chosen) and chosen.isdigit()
        else (labels.get(chosen) or chosen)
    )
    return pages.render(
        request,
        "confirm.html",
        language,
        200,
        heading=text.confirm_title,
        tx=text,
        question=localise(first.text, language.value, informal).format(
            number=invitation.case_number
        ),
        answer=text.confirm_body.format(answer=answer),
        field=first.code,
        value=chosen,
        action=_query(language, informal),
    )


@router.post(
    "/s/{token}/a",
    response_class=HTMLResponse,
    status_code=303,
    openapi_extra={"requestBody": FORM},
    summary="Confirm the email's answer: kept as a partial answer, then the rest of the survey",
    responses={**PAGE_RESPONSES, 422: {"description": "Invalid answer", **HTML_RESPONSE}},
)
async def confirm_answer(
    token: str, request: Request, rt: Runtime, lang: Lang = None, reg: Reg = None
) -> Response:
    language = page_language(lang)
    fields = _fields(await request.form())
    informal = _register(reg, None)
    text = texts_for(language, informal)
    try:
        async with rt.unit_of_work() as tx:
            await usecases.save_draft(PostgresUnitOfWork(tx), token, fields, datetime.now(UTC))
    except InvitationNotFound:
        return _not_found(request, language, text)
    except SurveyClosed as closed:
        return _closed(request, language, text, closed, answered_status_code=409)
    except InvalidAnswer as invalid:
        return _message(
            request, language, 422, text.error_summary, " ".join(_describe(invalid, text).values())
        )
    return RedirectResponse(
        f"{request.url.path.removesuffix('/a')}" + _query(language, informal, saved="1"),
        status_code=303,
        headers=pages.headers,
    )


# --- opt-out -----------------------------------------------------------------------------------


@router.get(
    "/s/{token}/optout",
    response_class=HTMLResponse,
    summary="Decline surveys without login: this kind or all (records nothing until a button)",
    responses={404: PAGE_RESPONSES[404]},
)
async def optout_page(
    token: str, request: Request, rt: Runtime, lang: Lang = None, reg: Reg = None
) -> HTMLResponse:
    language = page_language(lang)
    text = texts_for(language, _register(reg, None))
    return pages.render(
        request,
        "optout.html",
        language,
        200,
        heading=text.optout_title,
        tx=text,
        action=_query(language, _register(reg, None)),
    )


@router.post(
    "/s/{token}/optout",
    response_class=HTMLResponse,
    summary="Opt out (form field scope=kind|all); emits survey.declined, customer.survey_opt_out",
    responses={404: PAGE_RESPONSES[404]},
)
async def optout(
    token: str, request: Request, rt: Runtime, lang: Lang = None, reg: Reg = None
) -> HTMLResponse:
    language = page_language(lang)
    text = texts_for(language, _register(reg, None))
    form = await request.form()
    scope = ALL_KINDS if form.get("scope") == ALL_KINDS else "kind"
    try:
        async with rt.unit_of_work() as tx:
            invitation, opted = await usecases.opt_out(
                PostgresUnitOfWork(tx), token, scope, datetime.now(UTC)
            )
    except InvitationNotFound:
        return _not_found(request, language, text)
    current_case_id.set(str(invitation.case_id))
    body = text.optout_done_all if opted == ALL_KINDS else text.optout_done_kind
    return _message(request, language, 200, text.optout_done_title, body)
