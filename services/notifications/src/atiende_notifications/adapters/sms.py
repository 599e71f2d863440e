"""SMS through a provider speaking Twilio's Messages resource:
`POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP basic auth (Account SID,
auth token), form fields To, From, Body; 201 with the message's `sid` on success, a JSON
`{code, message, status}` on error. Other providers (MessageBird, Vonage) would be another
adapter of the same port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from ..domain import Delivery
from ..usecases import SendFailure


def retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After")
    if value and value.strip().isdigit():
        return timedelta(seconds=int(value))
    return None


@dataclass(frozen=True)
class TwilioSms:
    base_url: str
    account_sid: str
    auth_token: str = field(repr=False)
    sender: str
    timeout: float = 15.0

    async def send(self, delivery: Delivery) -> None:
        url = f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    url,
                    auth=(self.account_sid, self.auth_token),
                    data={
                        "To": delivery.recipient,
                        "From": self.sender,
                        "Body": delivery.body_text,
                    },
                    headers={"Idempotency-Key": str(delivery.id)},
                )
        except httpx.HTTPError as exc:
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        if response.status_code in (200, 201):
            return
        try:
            detail = response.json().get("message", response.text)
        except ValueError:
            detail = response.text
        status = response.status_code
        raise SendFailure(
            f"SMS provider answered {status}: {detail}",
            permanent=400 <= status < 500 and status not in (408, 429),
            status_code=status,
            retry_after=retry_after(response),
        )
