"""Survey links. A link carries a random token; only the token's SHA-256 is stored, so a copy of
the database does not open anyone's survey. The link exists only in the survey.invited event
(and the outbox row that carries it)."""

from __future__ import annotations

import hashlib
import secrets

from atiende_runtime.languages import DEFAULT_LANGUAGE, LANGUAGE_CODES


def new_token() -> str:
    """An unguessable survey token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored and looked up instead of the token (hex SHA-256). A token has 256 bits of
    entropy, so a plain hash cannot be reversed by guessing; no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def survey_url(base_url: str, token: str, language: str | None = None) -> str:
    """The link sent to the customer; it opens in the customer's language when we know it."""
    url = f"{base_url.rstrip('/')}/s/{token}"
    if language and language != DEFAULT_LANGUAGE and language in LANGUAGE_CODES:
        url += f"?lang={language}"
    return url
