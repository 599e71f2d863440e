"""In-memory stand-ins for notifications' ports: the unit of work and its repositories, a mailer
that keeps what it is given (or refuses it as told), a template-free renderer and a clock that
moves only when told. The repository contract tests run against these and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from atiende_contracts import EventData, NotificationChannel
from atiende_notifications.domain import Body, Delivery, DeliveryStatus, Notice, Recipient
from atiende_notifications.domain.preferences import CustomerPreferences, StaffMember
from atiende_notifications.domain.templating import StoredTemplate, TemplateKey
from atiende_notifications.domain.webhooks import Endpoint
from atiende_notifications.repository import MENTIONS, AttemptLog, DueDelivery
from atiende_notifications.usecases import SendFailure
from atiende_runtime.erasure import Scrubbed, scrub_document, scrub_text, searchable


class FakeRecipientsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Recipient] = {}

    async def save(self, recipient: Recipient) -> None:
        self.rows[recipient.case_id] = recipient

    async def get(self, case_id: uuid.UUID) -> Recipient | None:
        return self.rows.get(case_id)

    async def of_customer(self, customer_id: uuid.UUID) -> list[Recipient]:
        return [r for r in self.rows.values() if r.customer_id == customer_id]

    async def erase(self, case_ids: list[uuid.UUID], customer_id: uuid.UUID) -> None:
        for case_id, r in list(self.rows.items()):
            if case_id in case_ids or r.customer_id == customer_id:
                self.rows[case_id] = replace(
                    r, customer_name="[erased]", customer_email=None, customer_phone=None
                )


class FakePreferencesRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, CustomerPreferences] = {}
        self.erased: dict[uuid.UUID, datetime] = {}

    async def get(self, customer_id: uuid.UUID) -> CustomerPreferences | None:
        return self.rows.get(customer_id)

    async def save(self, prefs: CustomerPreferences, actor: str | None = None) -> None:
        self.rows[prefs.customer_id] = replace(prefs, updated_by=actor)

    async def forget(self, customer_id: uuid.UUID, at: datetime) -> None:
        self.erased.setdefault(customer_id, at)

    async def is_erased(self, customer_id: uuid.UUID) -> bool:
        return customer_id in self.erased

    async def delete(self, customer_id: uuid.UUID) -> None:
        self.rows.pop(customer_id, None)


class FakeStaffRepository:
    def __init__(self) -> None:
        self.rows: dict[str, StaffMember] = {}

    async def get(self, agent_id: str) -> StaffMember | None:
        return self.rows.get(agent_id)

    async def save(self, member: StaffMember, actor: str | None = None) -> None:
        self.rows[member.agent_id] = replace(member, updated_by=actor)

    async def of_ranks(self, ranks: Sequence[str]) -> list[StaffMember]:
        return sorted((m for m in self.rows.values() if m.rank in ranks), key=lambda m: m.agent_id)


class FakeTemplatesRepository:
    def __init__(self) -> None:
        self.rows: list[StoredTemplate] = []

    async def current(self, template: object, channel: NotificationChannel) -> list[StoredTemplate]:
        latest: dict[TemplateKey, StoredTemplate] = {}
        for s in self.rows:
            same = s.key.template == template and s.key.channel == channel
            if same and (s.key not in latest or s.version > latest[s.key].version):
                latest[s.key] = s
        return list(latest.values())

    async def versions(self, key: TemplateKey) -> list[StoredTemplate]:
        return sorted((s for s in self.rows if s.key == key), key=lambda s: s.version)

    async def add(self, stored: StoredTemplate) -> None:
        self.rows.append(stored)

    async def set_outdated(self, key: TemplateKey, outdated: bool) -> None:
        versions = await self.versions(key)
        if versions:
            last = versions[-1]
            self.rows[self.rows.index(last)] = replace(last, outdated=outdated)


class FakeEndpointsRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Endpoint] = {}

    async def add(self, endpoint: Endpoint) -> None:
        self.rows[endpoint.id] = endpoint

    async def save(self, endpoint: Endpoint) -> None:
        self.rows[endpoint.id] = endpoint

    async def get(self, endpoint_id: uuid.UUID) -> Endpoint | None:
        return self.rows.get(endpoint_id)

    async def all(self) -> list[Endpoint]:
        return sorted(self.rows.values(), key=lambda e: (e.created_at, e.id))


class FakeDeliveriesRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, DueDelivery] = {}
        self.log: list[AttemptLog] = []

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None:
        row = self.rows.get(delivery_id)
        return row.delivery if row else None

    async def of_endpoint(
        self, endpoint_id: uuid.UUID, since: datetime | None, until: datetime | None
    ) -> list[Delivery]:
        found = [
            r.delivery
            for r in self.rows.values()
            if r.delivery.endpoint_id == endpoint_id
            and (since is None or r.delivery.created_at >= since)
            and (until is None or r.delivery.created_at < until)
        ]
        return sorted(found, key=lambda d: (d.created_at, d.id))

    async def log_attempt(self, entry: AttemptLog) -> None:
        self.log.append(entry)

    async def attempts(self, delivery_id: uuid.UUID) -> list[AttemptLog]:
        return [e for e in self.log if e.delivery_id == delivery_id]

    async def erase(self, customer_id: uuid.UUID, case_ids: list[uuid.UUID]) -> int:
        count = 0
        for key, r in list(self.rows.items()):
            d = r.delivery
            if (
                d.channel is not NotificationChannel.WEBHOOK
                and d.customer_id is not None
                and (d.customer_id == customer_id or d.case_id in case_ids)
            ):
                erased = replace(
                    d,
                    recipient="[erased]",
                    recipient_name=None,
                    subject="[erased]",
                    body_text="",
                    body_html=None,
                    context={},
                )
                if d.status is DeliveryStatus.PENDING:
                    erased = replace(
                        erased, status=DeliveryStatus.SUPPRESSED, reason="customer_erased"
                    )
                self.rows[key] = replace(r, delivery=erased)
                count += 1
        return count

    async def scrub_mentions(
        self, customer_id: uuid.UUID, case_ids: list[uuid.UUID], values: Sequence[str]
    ) -> int:
        needles = [v.casefold() for v in searchable(values)]
        changed = 0
        for key, r in list(self.rows.items()):
            d = r.delivery
            if d.case_id not in case_ids or not (
                d.customer_id is None or d.channel is NotificationChannel.WEBHOOK
            ):
                continue
            scrubbed = replace(
                d,
                subject=scrub_text(d.subject, values),
                body_text=scrub_text(d.body_text, values),
                body_html=None if d.body_html is None else scrub_text(d.body_html, values),
                context=scrub_document(dict(d.context), needles, MENTIONS, about=True),
            )
            if scrubbed != d:
                self.rows[key] = replace(r, delivery=scrubbed)
                changed += 1
        theirs = {
            r.delivery.id
            for r in self.rows.values()
            if r.delivery.customer_id == customer_id or r.delivery.case_id in case_ids
        }
        self.log = [
            replace(
                e,
                request=scrub_document(dict(e.request), needles, (), about=False),
                error=None if e.error is None else scrub_text(e.error, values),
            )
            if e.delivery_id in theirs
            else e
            for e in self.log
        ]
        return changed

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

    async def rewrite(self, delivery: Delivery) -> None:
        stored = self.rows[delivery.id].delivery
        self.rows[delivery.id] = replace(
            self.rows[delivery.id],
            delivery=replace(
                stored,
                subject=delivery.subject,
                body_text=delivery.body_text,
                body_html=delivery.body_html,
                language=delivery.language,
                register=delivery.register,
            ),
        )

    async def save_attempt(self, delivery: Delivery, log: AttemptLog | None = None) -> None:
        if log is not None:
            await self.log_attempt(log)
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
                reason=delivery.reason,
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

    def stored(self, delivery_id: uuid.UUID) -> Delivery:
        return self.rows[delivery_id].delivery


@dataclass
class FakeUnitOfWork:
    recipients: FakeRecipientsRepository = field(default_factory=FakeRecipientsRepository)
    deliveries: FakeDeliveriesRepository = field(default_factory=FakeDeliveriesRepository)
    preferences: FakePreferencesRepository = field(default_factory=FakePreferencesRepository)
    staff: FakeStaffRepository = field(default_factory=FakeStaffRepository)
    templates: FakeTemplatesRepository = field(default_factory=FakeTemplatesRepository)
    endpoints: FakeEndpointsRepository = field(default_factory=FakeEndpointsRepository)
    emitted: list[EventData] = field(default_factory=list)
    subjects: list[str | uuid.UUID | None] = field(default_factory=list)

    scrubbed: list[tuple[frozenset[str], frozenset[str], frozenset[str]]] = field(
        default_factory=list
    )

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> None:
        self.emitted.append(data)
        self.subjects.append(subject)

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """No outbox here: records the subjects, values and keys it was asked to scrub."""
        self.scrubbed.append(
            (
                frozenset(map(str, subjects)),
                frozenset(v for v in values if v),
                frozenset(free_text),
            )
        )
        return Scrubbed(0, 0)


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
