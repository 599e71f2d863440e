"""In-memory stand-ins for notifications' ports: the unit of work and its repositories, a mailer
that keeps what it is given (or refuses it as told), a template-free renderer and a clock that
moves only when told. The repository contract tests run against these and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from atiende_contracts import EventData
from atiende_notifications.domain import Body, Delivery, DeliveryStatus, Notice, Recipient
from atiende_notifications.repository import DueDelivery
from atiende_notifications.usecases import SendFailure


class FakeRecipientsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Recipient] = {}

    async def save(self, recipient: Recipient) -> None:
        self.rows[recipient.case_id] = recipient

    async def get(self, case_id: uuid.UUID) -> Recipient | None:
        return self.rows.get(case_id)


class FakeDeliveriesRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, DueDelivery] = {}

    async def add(self, delivery: Delivery, trace_headers: Mapping[str, str]) -> bool:
        if any(r.delivery.idempotency_key == delivery.idempotency_key for r in self.rows.values()):
            return False
        self.rows[delivery.id] = DueDelivery(delivery, dict(trace_headers))
        return True

    async def claim_due(self, limit: int, now: datetime) -> list[DueDelivery]:
        due = [
            r
            for r in self.rows.values()
            if r.delivery.status is DeliveryStatus.PENDING and r.delivery.next_attempt_at <= now
        ]
        return sorted(due, key=lambda r: r.delivery.next_attempt_at)[:limit]

    async def save_attempt(self, delivery: Delivery) -> None:
        stored = self.rows[delivery.id].delivery
        self.rows[delivery.id] = replace(
            self.rows[delivery.id],
            delivery=replace(
                stored,
                status=delivery.status,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                last_error=delivery.last_error,
                sent_at=delivery.sent_at,
            ),
        )

    async def find(
        self, *, case_id: uuid.UUID | None, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        found = [
            r.delivery
            for r in self.rows.values()
            if (case_id is None or r.delivery.case_id == case_id)
            and (status is None or r.delivery.status is status)
        ]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found[:limit]

    def get(self, delivery_id: uuid.UUID) -> Delivery:
        return self.rows[delivery_id].delivery


@dataclass
class FakeUnitOfWork:
    recipients: FakeRecipientsRepository = field(default_factory=FakeRecipientsRepository)
    deliveries: FakeDeliveriesRepository = field(default_factory=FakeDeliveriesRepository)
    emitted: list[EventData] = field(default_factory=list)
    subjects: list[str | uuid.UUID | None] = field(default_factory=list)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> None:
        self.emitted.append(data)
        self.subjects.append(subject)


class FakeMailer:
    """Accepts every email, unless told to refuse the next ones (`refuse`)."""

    def __init__(self) -> None:
        self.sent: list[Delivery] = []
        self.attempts: list[Delivery] = []
        self._refusals: deque[SendFailure] = deque()

    def refuse(self, error: str, *, permanent: bool = False, times: int = 1) -> None:
        self._refusals.extend(SendFailure(error, permanent=permanent) for _ in range(times))

    async def send(self, delivery: Delivery) -> None:
        self.attempts.append(delivery)
        if self._refusals:
            raise self._refusals.popleft()
        self.sent.append(delivery)


def fake_render(notice: Notice) -> Body:
    """The notice's facts as text: enough to tell which notice a body came from."""
    facts = ", ".join(f"{k}={v}" for k, v in sorted(notice.context.items()))
    return Body(
        text=f"{notice.subject} [{notice.language}] {facts}",
        html=f"<p>{notice.subject}</p>",
    )


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 3, 12, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
