"""Templates as data: their key, the fallback chain that picks one, the variables each message
may use, and the sandboxed Jinja2 that checks and renders them (pure: no I/O).

Fallback chain for (message, channel, language, register): the exact key, then the language's
default (register None), then the default language in the same register, then the default
language's default. At each step an administrator's saved template wins over the shipped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2 import Template as Compiled
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from atiende_contracts import Formality, NotificationChannel
from atiende_runtime.languages import DEFAULT_LANGUAGE, Language

from .errors import NoTemplate, TemplateInvalid
from .notices import Template
from .texts import BUILTIN

SMS_MAX_CHARS = 320
"""Two concatenated GSM-7 segments (153 characters each, rounded): longer texts cost more and
arrive split."""

_COMMON = ("case_number",)
_CUSTOMER = ("customer_name", *_COMMON)
_STAFF = ("agent_name", *_COMMON)

VARIABLES: dict[Template, tuple[str, ...]] = {
    Template.CASE_ACKNOWLEDGEMENT: _CUSTOMER,
    Template.COMMITMENT_MADE: (*_CUSTOMER, "commitment", "due"),
    Template.WAITING_ON_YOU: (*_CUSTOMER, "note"),
    Template.CASE_RESOLVED: (*_CUSTOMER, "resolution"),
    Template.COMPENSATION_GRANTED: (*_CUSTOMER, "compensation"),
    Template.SURVEY_INVITATION: (*_CUSTOMER, "survey_url", "expires_on"),
    Template.SURVEY_REMINDER: (*_CUSTOMER, "survey_url", "expires_on"),
    Template.PROBLEM_RESOLVED: (*_CUSTOMER, "problem"),
    Template.STAFF_CASE_ASSIGNED: (*_STAFF, "team", "priority", "reason"),
    Template.STAFF_SLA_WARNING: (*_STAFF, "target", "threshold", "due"),
    Template.STAFF_SLA_BREACHED: (*_STAFF, "target", "due"),
    Template.STAFF_COMMITMENT_DUE_SOON: (*_STAFF, "commitment", "due"),
    Template.STAFF_COMMITMENT_MISSED: (*_STAFF, "due"),
    Template.STAFF_ESCALATED: (*_STAFF, "level", "reason", "note"),
    Template.STAFF_APPROVAL_REQUESTED: (*_STAFF, "what", "requested_by"),
    # about an endpoint, not a case: no case_number
    Template.STAFF_WEBHOOK_DISABLED: ("agent_name", "url", "reason", "endpoint_id", "last_error"),
    Template.WEBHOOK_EVENT: (),
}
"""The documented variables of each message (docs/notifications.md); nothing else renders."""

SAMPLE: dict[str, str] = {
    "customer_name": "Ana Pérez",
    "agent_name": "Luis",
    "case_number": "AT-2026-000123",
    "commitment": "Le llamaremos para confirmar la devolución",
    "due": "12 de marzo de 2026, 12:00",
    "note": "",
    "resolution": "Hemos devuelto el importe a su tarjeta.",
    "compensation": "un bono de 20 €",
    "survey_url": "https://surveys.example/s/abc",
    "expires_on": "26 de marzo de 2026",
    "problem": "un fallo en la pasarela de pago",
    "team": "billing",
    "priority": "high",
    "reason": "",
    "target": "resolution",
    "threshold": "75%",
    "level": "supervisor",
    "what": "Reembolso de 120 €",
    "requested_by": "María",
    "url": "https://hooks.example/atiende",
    "endpoint_id": "0b6a4f6e-3c1d-4e2a-9f0b-5d7c8e9a1b2c",
    "last_error": "HTTP 410",
}
"""Sample values for previews and the save-time render check."""


@dataclass(frozen=True)
class TemplateKey:
    template: Template
    channel: NotificationChannel
    language: Language
    register: Formality | None  # None: the language's default, whatever the register


@dataclass(frozen=True)
class TemplateText:
    """A template's sources (Jinja2): subject (email), plain text, optional HTML."""

    subject: str | None
    body_text: str
    body_html: str | None = None


@dataclass(frozen=True)
class StoredTemplate:
    """A version of an administrator's template."""

    key: TemplateKey
    version: int
    text: TemplateText
    active: bool
    outdated: bool
    created_at: datetime
    actor: str | None = None


_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)

COMPILED_CACHE_SIZE = 512
"""Compiled templates kept (least recently used dropped): every shipped text and a generous
number of administrators' versions; compiling was ~5 % of the service's CPU when done per
render."""


@lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compiled(source: str, escape_html: bool) -> Compiled:
    """A template compiled once per source text. Keyed by the text itself, never by a name: an
    administrator's edit is a new text, so it can never be served from a stale entry. (A
    compiled template is immutable and renders concurrently.)"""
    return (_html_env if escape_html else _env).from_string(source)


def chain(key: TemplateKey) -> list[TemplateKey]:
    """The keys tried, in order, for `key`."""
    t, c = key.template, key.channel
    keys = [
        key,
        TemplateKey(t, c, key.language, None),
        TemplateKey(t, c, DEFAULT_LANGUAGE, key.register),
        TemplateKey(t, c, DEFAULT_LANGUAGE, None),
    ]
    seen: list[TemplateKey] = []
    for k in keys:
        if k not in seen:
            seen.append(k)
    return seen


def builtin(key: TemplateKey) -> TemplateText | None:
    """The shipped text for a key (a language's default register is formal)."""
    text = BUILTIN.get((key.template, key.language, key.register or Formality.FORMAL))
    if text is None:
        return None
    if key.channel is NotificationChannel.SMS:
        return TemplateText(subject=None, body_text=text.sms or text.text)
    return TemplateText(subject=text.subject, body_text=text.text)


def select(
    key: TemplateKey, saved: Mapping[TemplateKey, TemplateText]
) -> tuple[TemplateKey, TemplateText]:
    """The template that serves `key`, and the key it was found at."""
    for candidate in chain(key):
        if candidate in saved:
            return candidate, saved[candidate]
        shipped = builtin(candidate)
        if shipped is not None:
            return candidate, shipped
    raise NoTemplate(f"no template for {key}")


def _check_source(field: str, source: str, allowed: set[str], env: SandboxedEnvironment) -> None:
    try:
        parsed = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid.at(field, exc.lineno, f"syntax error: {exc.message}") from exc
    assigned = {n.name for n in parsed.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in parsed.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in allowed and name.name not in assigned:
            raise TemplateInvalid.at(
                field,
                name.lineno,
                f"unknown variable {name.name!r} (this message has: {', '.join(sorted(allowed))})",
            )
    try:
        env.from_string(source).render(SAMPLE)
    except TemplateError as exc:
        raise TemplateInvalid.at(field, _line_of(exc), str(exc)) from exc


def _line_of(exc: Exception) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def check(key: TemplateKey, text: TemplateText) -> None:
    """Refuse a template that does not render (syntax, unknown variable, too long an SMS),
    naming the field and the line."""
    allowed = set(VARIABLES[key.template])
    if key.channel is NotificationChannel.EMAIL and not (text.subject or "").strip():
        raise TemplateInvalid.at("subject", None, "an email template needs a subject")
    if text.subject is not None:
        _check_source("subject", text.subject, allowed, _env)
    _check_source("body_text", text.body_text, allowed, _env)
    if text.body_html is not None:
        _check_source("body_html", text.body_html, allowed, _html_env)
    if key.channel is NotificationChannel.SMS:
        rendered = render(text, SAMPLE, Language.ES, emphasise=None)
        if len(rendered.text) > SMS_MAX_CHARS:
            raise TemplateInvalid.at(
                "body_text",
                None,
                f"an SMS renders to {len(rendered.text)} characters with the sample values; "
                f"at most {SMS_MAX_CHARS}",
            )


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None


_URL = re.compile(r"https?://[^\s<>\"]+")


def html_from_text(text: str, language: str, subject: str, emphasise: str | None) -> str:
    """An HTML body from a plain-text one: escaped, paragraphs, links, the case number bold."""
    paragraphs: list[str] = []
    for block in text.strip().split("\n\n"):
        escaped = html.escape(block, quote=False)
        escaped = _URL.sub(
            lambda m: f'<a href="{html.escape(html.unescape(m[0]))}">{m[0]}</a>', escaped
        )
        if emphasise:
            escaped = escaped.replace(
                html.escape(emphasise), f"<strong>{html.escape(emphasise)}</strong>"
            )
        paragraphs.append("<p>" + escaped.replace("\n", "<br>\n") + "</p>")
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">'
        f"\n<title>{html.escape(subject)}</title>\n</head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5;">'
        '\n<div style="max-width:560px;margin:0 auto;">\n'
        + "\n".join(paragraphs)
        + "\n</div>\n</body>\n</html>\n"
    )


def render(
    text: TemplateText, context: Mapping[str, Any], language: str, *, emphasise: str | None
) -> Rendered:
    """Render a template (sandboxed; a missing variable is an error, never a blank)."""
    subject = _compiled(text.subject, False).render(context) if text.subject else None
    body = _compiled(text.body_text, False).render(context)
    if text.body_html is not None:
        body_html: str | None = _compiled(text.body_html, True).render(context)
    else:
        body_html = html_from_text(body, language, subject or "", emphasise)
    return Rendered(subject=subject, text=body, html=body_html)
