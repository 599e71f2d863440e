"""Webhook endpoints and Standard Webhooks 1.0 signing (pure): the secret format, the signed
content `{id}.{timestamp}.{body}`, HMAC-SHA256, `v1,<base64>` and one signature per live
secret during a rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets as random_secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from atiende_contracts import WebhookEndpointDisabled, WebhookEndpointEnabled

from .errors import UnsafeUrl

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the spec allows 24-64)."""
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature: `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per live secret (so a receiver on either secret of a
    rotation verifies)."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


@dataclass(frozen=True)
class EndpointSecret:
    value: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Endpoint:
    id: uuid.UUID
    url: str
    event_types: tuple[str, ...]
    """Event types it receives; "case.*" matches a family, empty means every one."""
    secrets: tuple[EndpointSecret, ...]
    enabled: bool
    created_at: datetime
    description: str | None = None
    disabled_reason: str | None = None

    def wants(self, event_type: str) -> bool:
        if not self.event_types:
            return True
        for pattern in self.event_types:
            if pattern == event_type or (
                pattern.endswith(".*") and event_type.startswith(pattern[:-1])
            ):
                return True
        return False

    def live_secrets(self, now: datetime) -> list[str]:
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def rotated(self, secret: str, now: datetime, overlap: timedelta) -> Endpoint:
        """A new secret; the old ones keep signing for `overlap` so receivers can switch."""
        kept = tuple(
            replace(s, expires_at=min(s.expires_at or now + overlap, now + overlap))
            for s in self.secrets
            if s.expires_at is None or s.expires_at > now
        )
        return replace(self, secrets=(*kept, EndpointSecret(secret, now)))

    def disable(
        self, reason: str, at: datetime, actor: str | None = None
    ) -> tuple[Endpoint, WebhookEndpointDisabled]:
        return replace(self, enabled=False, disabled_reason=reason), WebhookEndpointDisabled(
            endpoint_id=self.id, url=self.url, reason=reason, disabled_at=at, actor=actor
        )

    def enable(
        self, at: datetime, actor: str | None = None
    ) -> tuple[Endpoint, WebhookEndpointEnabled]:
        return replace(self, enabled=True, disabled_reason=None), WebhookEndpointEnabled(
            endpoint_id=self.id, url=self.url, enabled_at=at, actor=actor
        )


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """Refuse a webhook URL that is not https (unless allowed), has no host, or names a
    private/loopback address or localhost (unless allowed). Names are resolved again at send
    time (adapters/webhooks.py), since DNS can change."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_http):
        raise UnsafeUrl.field("body.url", "https", "a webhook URL must be https")
    host = parts.hostname
    if not host:
        raise UnsafeUrl.field("body.url", "host", "a webhook URL needs a host")
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
            raise UnsafeUrl.field("body.url", "public", "a webhook URL may not point at this host")
        try:
            private = is_private(host)
        except ValueError:
            private = False  # a name: checked when resolved
        if private:
            raise UnsafeUrl.field(
                "body.url", "public", "a webhook URL may not point at a private address"
            )
    return url
