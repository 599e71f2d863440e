"""The dispatcher: a background worker that sends due deliveries (the `dispatch_due` use case)
through the Mailer it is given.

Each round is one transaction: claim due rows (FOR UPDATE SKIP LOCKED), send them, record each
outcome and its notification.sent / notification.failed event, commit. Hence:
- two replicas never send the same delivery at once: SKIP LOCKED gives them different rows;
- a crash after the SMTP server accepted an email but before the commit leaves the row pending,
  so it is sent once more, with the same Message-ID (at-least-once; the receiver deduplicates);
- a failed attempt is retried with exponential backoff, and after the last one the delivery is
  marked failed and notification.failed says so: nothing disappears silently;
- each send and its record run in the trace of the handler that recorded the delivery.

The runtime's PollingWorker wakes it on the NOTIFY the deliveries insert trigger sends, and polls
as a fallback (which also picks up retries as they fall due).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from prometheus_client import Counter

from atiende_runtime.service import ServiceRuntime
from atiende_runtime.worker import PollingWorker, listen

from .. import usecases
from ..domain import RetryPolicy
from ..domain.deliveries import RetrySchedule
from ..repository import EndpointsCache, PostgresUnitOfWork
from ..settings import NotificationsSettings

SEND_ATTEMPTS = Counter(
    "atiende_notification_attempts_total",
    "Send attempts (email, SMS, webhook), by template and outcome (sent, retry, failed)",
    ["template", "outcome"],
)


def dispatcher(
    runtime: ServiceRuntime[NotificationsSettings], senders: usecases.Mailer | usecases.Senders
) -> PollingWorker:
    """Sends pending deliveries; one per service process (replicas share the work)."""
    settings = runtime.settings
    policy = RetryPolicy(
        max_attempts=settings.max_attempts,
        base_delay=timedelta(seconds=settings.retry_base_delay),
        max_delay=timedelta(seconds=settings.retry_max_delay),
    )
    schedule = RetrySchedule.of_seconds(
        settings.webhook_retry_schedule, settings.webhook_retry_jitter
    )

    async def dispatch_round() -> int:
        async with runtime.unit_of_work() as tx:
            attempts = await usecases.dispatch_due(
                PostgresUnitOfWork(tx),
                senders,
                policy,
                batch_size=settings.dispatch_batch_size,
                schedule=schedule,
                admins=settings.admin_emails,
                dispatcher=settings.dispatcher_id,
                admin_ranks=settings.admin_ranks,
            )
        # counted once committed: an attempt whose record rolled back is made again
        for attempt in attempts:
            SEND_ATTEMPTS.labels(attempt.delivery.template.value, attempt.outcome.value).inc()
        return len(attempts)

    return PollingWorker(
        "deliveries-dispatch",
        dispatch_round,
        database_url=settings.session_database_url,
        channel=f"{settings.db_schema}_deliveries",
        batch_size=settings.dispatch_batch_size,
        poll_interval=settings.dispatch_poll_interval,
        grace=settings.shutdown_timeout,
    )


class EndpointsWatch:
    """Keeps an EndpointsCache true: LISTENs on the channel the webhook_endpoints trigger
    notifies (every change, from any replica, announced at its commit) and forgets the cached
    endpoints on each notification. The cache is trusted only while this connection is up and
    answering its probe; otherwise every fan-out reads the table, as without a cache."""

    def __init__(
        self, cache: EndpointsCache, *, database_url: str, channel: str, probe_interval: float
    ) -> None:
        self.cache = cache
        self._database_url = database_url
        self._channel = channel
        self._probe_interval = probe_interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(
            listen(
                self._database_url,
                self._channel,
                lambda *_: self.cache.invalidate(),
                probe_interval=self._probe_interval,
                stopping=self._stopping,
                on_up=lambda: self.cache.set_live(True),  # from now on every change is heard
                on_down=lambda: self.cache.set_live(False),
                lost="webhook endpoints listener lost; reading them each time meanwhile",
            ),
            name="webhook-endpoints-watch",
        )

    async def stop(self) -> None:
        self._stopping.set()
        self.cache.set_live(False)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def endpoints_watch(
    runtime: ServiceRuntime[NotificationsSettings], cache: EndpointsCache
) -> EndpointsWatch:
    settings = runtime.settings
    return EndpointsWatch(
        cache,
        database_url=settings.session_database_url,
        channel=f"{settings.db_schema}_webhook_endpoints",
        probe_interval=settings.dispatch_poll_interval,
    )
