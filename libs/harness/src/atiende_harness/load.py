"""The open-loop load generator: POST /cases at a fixed rate, whatever the answers.

Request i is *scheduled* at start + i/rate and sent then (or as soon after as the loop can), in
its own task, without waiting for earlier answers. Latencies are measured from the scheduled
time, not from when the request actually left: a slow server cannot slow the generator down and
so hide its own slowness (the "coordinated omission" of closed-loop load tools).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from .accounting import Outcome, RequestRecord

# not sent at all: the request never reached intake, so it certainly did nothing
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Attempt:
    index: int
    email: str
    scheduled: float
    sent: float = 0.0
    done: float = 0.0
    outcome: Outcome = Outcome.INDETERMINATE
    status: int | None = None
    case_id: str | None = None
    case_number: str | None = None
    detail: str = ""

    @property
    def latency(self) -> float:
        return self.done - self.scheduled

    def record(self) -> RequestRecord:
        return RequestRecord(
            self.index, self.email, self.outcome, self.case_id, self.case_number, self.detail
        )


def customer_email(run_id: str, index: int) -> str:
    """One customer per request, named after the run and the request, so every effect (an event,
    an email) maps back to its request even when the response was lost."""
    return f"h-{run_id}-{index}@example.com"


def new_case(index: int, email: str) -> dict[str, object]:
    return {
        "customer": {"name": f"Cliente {index}", "email": email},
        "type": "complaint",
        "channel": "phone",
        "description": f"Caso de carga número {index}",
    }


class OpenLoopLoad:
    def __init__(
        self,
        intake_url: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        connections: int = 256,
    ) -> None:
        """`headers`: the Authorization of a caller intake lets open cases (role agent or
        intake)."""
        self.run_id = run_id
        self.attempts: list[Attempt] = []
        self._client = httpx.AsyncClient(
            base_url=intake_url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.max_lag = 0.0
        """Latest a request left after its scheduled time: when large, the generator itself was
        the bottleneck and its figures say so."""

    async def close(self) -> None:
        await self._client.aclose()

    async def run(self, rate: float, seconds: float) -> list[Attempt]:
        """Schedule `rate * seconds` requests over `seconds`; returns them once all are answered."""
        count = round(rate * seconds)
        first = len(self.attempts)
        batch = [
            Attempt(first + i, customer_email(self.run_id, first + i), 0.0) for i in range(count)
        ]
        self.attempts.extend(batch)
        start = time.monotonic()
        for i, attempt in enumerate(batch):
            attempt.scheduled = start + i / rate
            delay = attempt.scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._post(attempt))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.gather(*list(self._tasks))
        return batch

    async def _post(self, attempt: Attempt) -> None:
        attempt.sent = time.monotonic()
        self.max_lag = max(self.max_lag, attempt.sent - attempt.scheduled)
        try:
            response = await self._client.post(
                "/cases", json=new_case(attempt.index, attempt.email)
            )
        except _NOT_SENT as exc:
            attempt.outcome, attempt.detail = Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        except httpx.HTTPError as exc:
            # sent, but no answer: intake may or may not have opened the case
            attempt.outcome, attempt.detail = Outcome.INDETERMINATE, f"{type(exc).__name__}: {exc}"
        else:
            attempt.status = response.status_code
            if response.status_code == 201:
                body = response.json()
                attempt.outcome = Outcome.OK
                attempt.case_id, attempt.case_number = str(body["id"]), body["number"]
            elif response.status_code < 500:
                attempt.outcome, attempt.detail = Outcome.FAILED, response.text[:200]
            else:
                # a 5xx may come after the commit: the client cannot tell
                attempt.outcome, attempt.detail = Outcome.INDETERMINATE, response.text[:200]
        attempt.done = time.monotonic()
