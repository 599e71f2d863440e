"""Webhook deliveries over HTTP, signed per Standard Webhooks 1.0 (webhook-id = the delivery
id, stable across retries; webhook-timestamp; webhook-signature, one `v1,` signature per live
secret), with an SSRF guard: the host is resolved and every address must be public unless
private addresses are explicitly allowed (tests allow loopback)."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..domain import Delivery
from ..domain.webhooks import is_private, signature_header
from ..usecases import SendFailure
from .sms import retry_after


async def _resolves_privately(host: str) -> bool:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return any(is_private(str(info[4][0])) for info in infos)


@dataclass(frozen=True)
class HttpWebhookSender:
    timeout: float = 15.0
    allow_private: bool = False

    async def send(self, delivery: Delivery, secrets: list[str]) -> int:
        host = urlsplit(delivery.recipient).hostname or ""
        if not self.allow_private:
            try:
                private = await _resolves_privately(host)
            except OSError as exc:
                raise SendFailure(f"cannot resolve {host}: {exc}", permanent=False) from exc
            if private:
                raise SendFailure(f"{host} resolves to a private address", permanent=True)
        body = delivery.body_text.encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": str(delivery.id),
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets, str(delivery.id), timestamp, body),
            "user-agent": "Atiende-Webhooks/1",
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(delivery.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        raise SendFailure(
            f"endpoint answered {status}",
            permanent=False,  # anything but 410 may be fixed: retried on the schedule
            status_code=status,
            retry_after=retry_after(response) if status in (429, 503) else None,
            gone=status == 410,
        )
