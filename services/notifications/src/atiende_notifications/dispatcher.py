"""The dispatcher: a background worker that sends due deliveries over SMTP.

Each batch is one transaction: claim due rows (FOR UPDATE SKIP LOCKED), send them, record each
outcome and its notification.sent / notification.failed event, commit. Hence:
- two replicas never send the same delivery at once: SKIP LOCKED gives them different rows;
- a crash after the SMTP server accepted an email but before the commit leaves the row pending,
  so it is sent once more, with the same Message-ID (at-least-once; the receiver deduplicates);
- a failed attempt is retried with exponential backoff, and after the last one the delivery is
  marked failed and notification.failed says so: nothing disappears silently.

It wakes on the NOTIFY the deliveries insert trigger sends, and polls as a fallback (which also
picks up retries as they fall due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter

from atiende_runtime.logs import current_case_id
from atiende_runtime.service import ServiceRuntime
from atiende_runtime.uow import UnitOfWork

from .domain import Delivery, RetryPolicy
from .mail import Mailer, SendFailure, message_id
from .repository import NotificationsRepository

if TYPE_CHECKING:
    from .app import NotificationsSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("atiende.notifications.dispatcher")

SEND_ATTEMPTS = Counter(
    "atiende_notification_attempts_total",
    "Email send attempts, by template and outcome (sent, retry, failed)",
    ["template", "outcome"],
)


@contextlib.contextmanager
def _within(trace_headers: dict[str, Any], case_id: object) -> Iterator[None]:
    """Run in the trace of the handler that recorded the delivery, logging its case id."""
    trace_token = otel_context.attach(propagate.extract(trace_headers))
    case_token = current_case_id.set(str(case_id) if case_id else None)
    try:
        yield
    finally:
        current_case_id.reset(case_token)
        otel_context.detach(trace_token)


class Dispatcher:
    """Sends pending deliveries; one per service process (replicas share the work)."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        settings = cast("NotificationsSettings", runtime.settings)
        self._runtime = runtime
        self._mailer = Mailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_start_tls,
        )
        self._policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_delay=timedelta(seconds=settings.retry_base_delay),
            max_delay=timedelta(seconds=settings.retry_max_delay),
        )
        self._batch_size = settings.dispatch_batch_size
        self._poll_interval = settings.dispatch_poll_interval
        self._grace = settings.shutdown_timeout
        self._channel = f"{settings.db_schema}_deliveries"
        self._database_url = settings.database_url
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listen_task = asyncio.create_task(self._listen(), name="deliveries-listen")
        self._task = asyncio.create_task(self._run(), name="deliveries-dispatch")

    async def stop(self) -> None:
        """Let the batch in flight finish (its emails are out: record them), then stop."""
        self._stopping.set()
        self._wake.set()
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listen_task
        if self._task is not None:
            _, running = await asyncio.wait({self._task}, timeout=self._grace)
            for task in running:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _listen(self) -> None:
        """Keep a LISTEN connection; on any failure rely on polling and reconnect."""
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._database_url)
                await conn.add_listener(self._channel, lambda *_: self._wake.set())
                self._wake.set()  # catch up on anything inserted while not listening
                while not self._stopping.is_set():
                    # a query notices a dead connection, which otherwise stays silent
                    await conn.fetchval("SELECT 1")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=self._poll_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("deliveries listener lost; polling", extra={"error": str(exc)})
                await asyncio.sleep(self._poll_interval)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()

    async def _run(self) -> None:
        backoff = self._poll_interval
        while not self._stopping.is_set():
            # cleared before claiming: a NOTIFY that arrives while the batch runs is not lost
            self._wake.clear()
            try:
                count = await self.dispatch_batch()
                backoff = self._poll_interval
            except Exception as exc:
                log.warning("dispatching failed; retrying", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if count >= self._batch_size:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)

    async def dispatch_batch(self) -> int:
        """Claim, send and record one batch of due deliveries; returns how many were attempted."""
        outcomes: list[tuple[str, str]] = []
        async with self._runtime.unit_of_work() as uow:
            repo = NotificationsRepository(uow.conn)
            due = await repo.claim_due(self._batch_size)
            if not due:
                return 0
            # concurrently, so a hanging server holds the transaction for one timeout, not n
            failures = await asyncio.gather(*(self._send(d, headers) for d, headers in due))
            for (delivery, headers), failure in zip(due, failures, strict=True):
                with _within(headers, delivery.case_id):
                    outcome = await self._record(uow, repo, delivery, failure)
                outcomes.append((delivery.template.value, outcome))
        for template, outcome in outcomes:
            SEND_ATTEMPTS.labels(template, outcome).inc()
        return len(due)

    async def _send(self, delivery: Delivery, trace_headers: dict[str, Any]) -> SendFailure | None:
        with (
            _within(trace_headers, delivery.case_id),
            tracer.start_as_current_span(
                "smtp send",
                kind=SpanKind.CLIENT,
                attributes={
                    "atiende.delivery_id": str(delivery.id),
                    "atiende.case_id": str(delivery.case_id or ""),
                    "atiende.template": delivery.template.value,
                    "atiende.attempt": delivery.attempts + 1,
                },
            ) as span,
        ):
            try:
                await self._mailer.send(delivery)
            except SendFailure as failure:
                span.set_status(Status(StatusCode.ERROR, failure.error))
                return failure
            return None

    async def _record(
        self,
        uow: UnitOfWork,
        repo: NotificationsRepository,
        delivery: Delivery,
        failure: SendFailure | None,
    ) -> str:
        """Store the attempt's outcome and emit its event; returns the outcome's name."""
        now = datetime.now(UTC)
        facts = {
            "delivery_id": str(delivery.id),
            "template": delivery.template.value,
            "attempt": delivery.attempts + 1,
        }
        if failure is None:
            updated, event = delivery.mark_sent(now)
            await repo.save_attempt(updated)
            await uow.emit(event, subject=delivery.case_id)
            log.info("email sent", extra={**facts, "message_id": message_id(delivery)})
            return "sent"
        updated, failed = delivery.record_failure(
            failure.error, now, self._policy, permanent=failure.permanent
        )
        await repo.save_attempt(updated)
        if failed is None:
            retry_at = updated.next_attempt_at.isoformat()
            log.warning(
                "email not sent; will retry",
                extra={**facts, "error": failure.error, "retry_at": retry_at},
            )
            return "retry"
        await uow.emit(failed, subject=delivery.case_id)
        log.error(
            "email not sent; giving up",
            extra={**facts, "error": failure.error, "permanent": failure.permanent},
        )
        return "failed"
