"""Server-rendered pages, the same way in every service: one Jinja environment (the service's
templates over the shared base.html), the page language negotiated once (`?lang=`, then
Accept-Language, then Spanish), links to the page in the other languages, and one set of security
headers: nothing but the page's own stylesheet runs (its hash is in the CSP; no scripts unless a
page names their hashes), forms post only back here, no framing, nothing cached or leaked in the
Referer.

A service keeps its words per language in `entrypoints/pages/texts.py` and its templates and
stylesheet in `entrypoints/pages/templates/`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from .languages import Language, negotiate

TEMPLATES = "entrypoints/pages/templates"
"""Where a service's page templates live, inside its package."""

HTML_RESPONSE: dict[str, Any] = {"content": {"text/html": {}}}
"""OpenAPI `responses` entry for an HTML page."""


class PageTexts(Protocol):
    """The words of a service's pages in one language (at least these)."""

    @property
    def language_name(self) -> str: ...

    @property
    def other_languages(self) -> str: ...


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class Pages:
    def __init__(
        self,
        package: str,
        texts: Mapping[Language, Any],
        *,
        stylesheet: str = "style.css",
        noindex: bool = False,
        script_hashes: Sequence[str] = (),
    ) -> None:
        """`texts`: the page words per language; `stylesheet`: a file beside the templates;
        `noindex`: keep the pages out of search engines (e.g. pages behind a secret link)."""
        self.texts = texts
        self.env = Environment(
            loader=ChoiceLoader(
                [PackageLoader(package, TEMPLATES), PackageLoader("atiende_runtime", "templates")]
            ),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.css = (files(package).joinpath(TEMPLATES, stylesheet)).read_text(encoding="utf-8")
        self.noindex = noindex
        scripts = " ".join(f"'sha256-{h}'" for h in script_hashes)
        self.headers = {
            "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_sha256(self.css)}'; "
            + (f"script-src {scripts}; " if scripts else "")
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
        if noindex:
            self.headers["X-Robots-Tag"] = "noindex, nofollow"

    def language(self, request: Request, requested: str | None = None) -> Language:
        """The page's language for this request (only languages the pages have words for)."""
        language = negotiate(requested, request.headers.get("accept-language"))
        return language if language in self.texts else next(iter(self.texts))

    def render(
        self,
        request: Request,
        template: str,
        language: Language,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        links = [
            {
                "code": code.value,
                "name": text.language_name,
                "href": "?" + urlencode({**request.query_params, "lang": code.value}),
            }
            for code, text in self.texts.items()
            if code != language
        ]
        html = self.env.get_template(template).render(
            lang=language.value,
            t=self.texts[language],
            css=self.css,
            noindex=self.noindex,
            language_links=links,
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=self.headers)
