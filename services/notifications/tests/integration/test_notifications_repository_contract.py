"""One contract for notifications' repositories and unit of work, run against the in-memory fakes
and PostgreSQL alike, so the fakes the use-case tests rely on cannot drift from the SQL."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import NotificationSent
from atiende_notifications.domain import (
    Delivery,
    DeliveryStatus,
    Recipient,
    RetryPolicy,
    acknowledgement,
    survey_invitation,
)
from atiende_notifications.repository import PostgresUnitOfWork, UnitOfWork
from atiende_runtime import db
from atiende_runtime.languages import Language
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..fakes import FakeUnitOfWork

SCHEMA = "notifications"
NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
ONE_ATTEMPT = RetryPolicy(1, timedelta(seconds=1), timedelta(seconds=1))


@dataclass
class Backend:
    uow: UnitOfWork
    emitted_keys: Callable[[], Awaitable[list[str]]]


@pytest.fixture(params=["fake", "postgres"])
async def backend(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    # (database_url is taken for the fake too: an async fixture cannot be requested lazily)
    if request.param == "fake":
        fake = FakeUnitOfWork()

        async def fake_emitted() -> list[str]:
            return [e.routing_key() for e in fake.emitted]

        yield Backend(fake, fake_emitted)
        return
    await db.migrate(database_url, SCHEMA, "atiende_notifications")
    conn = await db.connect(database_url, SCHEMA)
    transaction = conn.transaction()
    await transaction.start()

    async def outbox_keys() -> list[str]:
        rows = await conn.fetch("SELECT routing_key FROM outbox ORDER BY position")
        return [r["routing_key"] for r in rows]

    try:
        yield Backend(
            PostgresUnitOfWork(RuntimeUnitOfWork(conn, source="/atiende/notifications")),
            outbox_keys,
        )
    finally:
        await transaction.rollback()
        await conn.close()


def recipient(email: str | None = "ana@example.com", **changes) -> Recipient:
    base = Recipient(
        case_id=uuid.uuid4(),
        case_number="AT-2026-000123",
        customer_name="Ana Pérez",
        customer_email=email,
        language=Language.ES,
    )
    return replace(base, **changes)


def pending(at: datetime = NOW, to: Recipient | None = None) -> Delivery:
    return Delivery.pending(acknowledgement(to or recipient()), "text", "<p>html</p>", at)


# --- recipients ------------------------------------------------------------------------------


async def test_a_saved_recipient_is_found_by_its_case(backend):
    saved = recipient(language=Language.EN)
    await backend.uow.recipients.save(saved)
    assert await backend.uow.recipients.get(saved.case_id) == saved
    assert await backend.uow.recipients.get(uuid.uuid4()) is None


async def test_saving_a_recipient_again_refreshes_it_even_without_email(backend):
    first = recipient()
    await backend.uow.recipients.save(first)
    changed = replace(first, customer_name="Ana P.", customer_email=None, language=Language.EN)
    await backend.uow.recipients.save(changed)
    assert await backend.uow.recipients.get(first.case_id) == changed


# --- deliveries ------------------------------------------------------------------------------


async def test_a_delivery_is_added_once_per_idempotency_key(backend):
    to = recipient()
    delivery = pending(to=to)
    assert await backend.uow.deliveries.add(delivery, {"traceparent": "00-abc-def-01"}) is True
    assert await backend.uow.deliveries.add(pending(NOW + timedelta(minutes=1), to), {}) is False
    assert await backend.uow.deliveries.find(case_id=to.case_id, status=None, limit=10) == [
        delivery
    ]


async def test_claim_due_returns_pending_due_deliveries_earliest_first_with_their_trace(backend):
    deliveries = backend.uow.deliveries
    later = pending(NOW - timedelta(seconds=10))
    earliest = pending(NOW - timedelta(minutes=5))
    future = pending(NOW + timedelta(seconds=1))
    finished, _ = pending(NOW - timedelta(hours=1)).mark_sent(NOW)
    for delivery, headers in (
        (later, {"traceparent": "later"}),
        (earliest, {"traceparent": "earliest"}),
        (future, {}),
        (finished, {}),
    ):
        assert await deliveries.add(delivery, headers)

    claimed = await deliveries.claim_due(10, NOW)
    assert [(c.delivery, dict(c.trace_headers)) for c in claimed] == [
        (earliest, {"traceparent": "earliest"}),
        (later, {"traceparent": "later"}),
    ]
    assert [c.delivery for c in await deliveries.claim_due(1, NOW)] == [earliest]
    assert [c.delivery.id for c in await deliveries.claim_due(10, NOW + timedelta(seconds=1))] == [
        earliest.id,
        later.id,
        future.id,
    ]


async def test_a_saved_attempt_changes_status_attempts_retry_time_error_and_sent_time(backend):
    deliveries = backend.uow.deliveries
    retried = pending(NOW)
    sent = pending(NOW)
    await deliveries.add(retried, {})
    await deliveries.add(sent, {})

    policy = RetryPolicy(3, timedelta(seconds=30), timedelta(minutes=5))
    after_failure, _ = retried.record_failure("timed out", NOW, policy)
    after_send, _ = sent.mark_sent(NOW + timedelta(seconds=1))
    await deliveries.save_attempt(after_failure)
    await deliveries.save_attempt(after_send)

    assert [c.delivery for c in await deliveries.claim_due(10, NOW)] == []
    due_again = await deliveries.claim_due(10, NOW + timedelta(seconds=30))
    assert [c.delivery for c in due_again] == [after_failure]
    found = await deliveries.find(case_id=sent.case_id, status=None, limit=10)
    assert found == [after_send]
    assert (found[0].status, found[0].attempts, found[0].sent_at) == (
        DeliveryStatus.SENT,
        1,
        NOW + timedelta(seconds=1),
    )


async def test_a_rewrite_changes_only_the_words_language_and_register(backend):
    from atiende_contracts import Formality

    delivery = pending(NOW)
    await backend.uow.deliveries.add(delivery, {})
    fresh = replace(
        delivery,
        subject="New subject",
        body_text="new text",
        body_html=None,
        language="en",
        register=Formality.INFORMAL,
    )
    await backend.uow.deliveries.rewrite(fresh)
    assert await backend.uow.deliveries.get(delivery.id) == fresh


async def test_find_lists_newest_first_filtered_by_case_and_status_up_to_the_limit(backend):
    deliveries = backend.uow.deliveries
    to = recipient()
    older = pending(NOW - timedelta(minutes=2), to)
    newer = Delivery.pending(
        survey_invitation(to, uuid.uuid4(), "https://s.example/x", NOW), "t", None, NOW
    )
    other = pending(NOW - timedelta(minutes=1))
    for delivery in (older, newer, other):
        await deliveries.add(delivery, {})
    failed, _ = other.record_failure("550 no such user", NOW, ONE_ATTEMPT, permanent=True)
    await deliveries.save_attempt(failed)

    assert await deliveries.find(case_id=None, status=None, limit=10) == [newer, failed, older]
    assert await deliveries.find(case_id=to.case_id, status=None, limit=10) == [newer, older]
    assert await deliveries.find(case_id=None, status=DeliveryStatus.FAILED, limit=10) == [failed]
    assert await deliveries.find(case_id=None, status=None, limit=2) == [newer, failed]
    assert await deliveries.find(case_id=uuid.uuid4(), status=None, limit=10) == []


# --- unit of work ----------------------------------------------------------------------------


async def test_emitted_events_are_kept_in_order(backend):
    delivery = pending()
    _, event = delivery.mark_sent(NOW)
    await backend.uow.emit(event, subject=delivery.case_id)
    await backend.uow.emit(event, subject=delivery.case_id)
    assert await backend.emitted_keys() == [NotificationSent.routing_key()] * 2


# --- issue 13: preferences, staff, templates, endpoints, the delivery log, erasure -----------


async def test_preferences_round_trip_and_delete(backend):
    from datetime import time

    from atiende_contracts import NotificationChannel
    from atiende_notifications.domain.preferences import CustomerPreferences, QuietHours

    customer = uuid.uuid4()
    prefs = CustomerPreferences(
        customer,
        preferred_channel=NotificationChannel.SMS,
        consent_surveys=False,
        opted_out=frozenset({NotificationChannel.EMAIL}),
        undeliverable=frozenset({NotificationChannel.EMAIL}),
        time_zone="Atlantic/Canary",
        quiet_hours=QuietHours(time(21), time(8)),
    )
    await backend.uow.preferences.save(prefs, "sup@example.com")
    got = await backend.uow.preferences.get(customer)
    assert replace(got, updated_at=None) == replace(prefs, updated_by="sup@example.com")
    await backend.uow.preferences.save(prefs)  # notifications' own change: nobody
    assert (await backend.uow.preferences.get(customer)).updated_by is None
    await backend.uow.preferences.delete(customer)
    assert await backend.uow.preferences.get(customer) is None


async def test_staff_round_trip(backend):
    from atiende_contracts import NotificationChannel
    from atiende_notifications.domain.preferences import StaffMember

    member = StaffMember("luis", "Luis", "luis@x.es", "+34600", (NotificationChannel.SMS,), True)
    await backend.uow.staff.save(member, "sup@example.com")
    assert await backend.uow.staff.get("luis") == replace(member, updated_by="sup@example.com")
    assert await backend.uow.staff.get("nobody") is None
    boss = StaffMember("ana", "Ana", "ana@x.es", rank="manager")
    await backend.uow.staff.save(boss)
    await backend.uow.staff.save(StaffMember("bea", "Bea", "bea@x.es", rank="agent"))
    assert await backend.uow.staff.get("ana") == boss
    assert await backend.uow.staff.of_ranks(["manager", "supervisor"]) == [boss]


async def test_templates_keep_versions_and_the_current_one_per_key(backend):
    from atiende_contracts import Formality, NotificationChannel
    from atiende_notifications.domain import Template
    from atiende_notifications.domain.templating import StoredTemplate, TemplateKey, TemplateText

    email = NotificationChannel.EMAIL
    formal = TemplateKey(Template.CASE_RESOLVED, email, Language.ES, Formality.FORMAL)
    default = TemplateKey(Template.CASE_RESOLVED, email, Language.ES, None)
    for version, key in ((1, formal), (2, formal), (1, default)):
        await backend.uow.templates.add(
            StoredTemplate(key, version, TemplateText("S", f"v{version}"), True, False, NOW, "a")
        )
    await backend.uow.templates.set_outdated(formal, True)
    current = {s.key: s for s in await backend.uow.templates.current(Template.CASE_RESOLVED, email)}
    assert set(current) == {formal, default}
    assert (current[formal].version, current[formal].outdated) == (2, True)
    assert current[default].key.register is None
    assert [v.version for v in await backend.uow.templates.versions(formal)] == [1, 2]
    assert [v.outdated for v in await backend.uow.templates.versions(formal)] == [False, True]
    other = await backend.uow.templates.current(Template.CASE_RESOLVED, NotificationChannel.SMS)
    assert other == []


async def test_endpoints_round_trip(backend):
    from atiende_notifications.domain.webhooks import Endpoint, EndpointSecret

    endpoint = Endpoint(
        uuid.uuid4(),
        "https://hooks.example.com/x",
        ("case.*",),
        (EndpointSecret("whsec_a", NOW, NOW + timedelta(hours=1)), EndpointSecret("whsec_b", NOW)),
        True,
        NOW,
        "crm",
    )
    await backend.uow.endpoints.add(endpoint)
    assert await backend.uow.endpoints.get(endpoint.id) == endpoint
    disabled, _ = endpoint.disable("gone", NOW)
    await backend.uow.endpoints.save(disabled)
    assert await backend.uow.endpoints.all() == [disabled]


async def test_the_delivery_log_and_erasure_keep_rows_but_not_the_person(backend):
    from atiende_notifications.repository import AttemptLog

    to = recipient(customer_id=uuid.uuid4())
    await backend.uow.recipients.save(to)
    delivery = Delivery.pending(acknowledgement(to), "Hola Ana", "<p>Ana</p>", NOW)
    await backend.uow.deliveries.add(delivery, {})
    assert await backend.uow.deliveries.get(delivery.id) == delivery
    entry = AttemptLog(delivery.id, 1, NOW, 12, 250, None, {"channel": "email"}, "replica-a")
    await backend.uow.deliveries.log_attempt(entry)
    assert await backend.uow.deliveries.attempts(delivery.id) == [entry]
    assert await backend.uow.deliveries.erase(to.customer_id, []) == 1
    erased = await backend.uow.deliveries.get(delivery.id)
    assert (erased.recipient, erased.recipient_name, erased.body_text) == ("[erased]", None, "")
    # rows stay; a pending one is never sent now
    assert (erased.body_html, dict(erased.context)) == (None, {})
    assert (erased.status, erased.reason) == (DeliveryStatus.SUPPRESSED, "customer_erased")
    await backend.uow.recipients.erase([to.case_id], to.customer_id)
    kept = await backend.uow.recipients.get(to.case_id)
    assert (kept.customer_name, kept.customer_email, kept.case_number) == (
        "[erased]",
        None,
        to.case_number,
    )
    assert await backend.uow.recipients.of_customer(to.customer_id) == [kept]


async def test_mentions_of_an_erased_customer_leave_staff_messages_and_attempt_logs(backend):
    from atiende_notifications.repository import AttemptLog

    to = recipient(customer_id=uuid.uuid4())
    theirs = Delivery.pending(acknowledgement(to), "Hola Ana Pérez", None, NOW)
    staff = replace(
        Delivery.pending(acknowledgement(to), "Case of ANA PÉREZ is yours", None, NOW),
        id=uuid.uuid4(),
        idempotency_key="staff-key",
        customer_id=None,
        recipient="agent@example.com",
        context={"customer_name": "Ana Pérez", "case_number": to.case_number},
    )
    for d in (theirs, staff):
        await backend.uow.deliveries.add(d, {})
    attempt = AttemptLog(
        theirs.id, 1, NOW, 12, 550, "550 no ana@example.com", {"to": "ana@example.com"}
    )
    await backend.uow.deliveries.log_attempt(attempt)

    changed = await backend.uow.deliveries.scrub_mentions(
        to.customer_id, [to.case_id], ["Ana Pérez", "ana@example.com"]
    )

    assert changed == 1
    kept = await backend.uow.deliveries.get(staff.id)
    assert (kept.body_text, kept.recipient) == ("Case of [erased] is yours", "agent@example.com")
    assert dict(kept.context) == {"customer_name": "[erased]", "case_number": to.case_number}
    [logged] = await backend.uow.deliveries.attempts(theirs.id)
    assert (logged.error, dict(logged.request)) == ("550 no [erased]", {"to": "[erased]"})
    assert not await backend.uow.preferences.is_erased(to.customer_id)
    await backend.uow.preferences.forget(to.customer_id, NOW)
    await backend.uow.preferences.forget(to.customer_id, NOW)  # a redelivery is harmless
    assert await backend.uow.preferences.is_erased(to.customer_id)


async def test_an_attempts_outcome_and_its_log_line_are_saved_together(backend):
    from atiende_notifications.repository import AttemptLog

    to = recipient(customer_id=uuid.uuid4())
    delivery = Delivery.pending(acknowledgement(to), "Hola Ana", None, NOW)
    await backend.uow.deliveries.add(delivery, {})
    sent, _ = delivery.mark_sent(NOW + timedelta(seconds=1))
    entry = AttemptLog(delivery.id, 1, NOW, 12, None, None, {"channel": "email"}, "replica-a")
    await backend.uow.deliveries.save_attempt(sent, entry)
    stored = await backend.uow.deliveries.get(delivery.id)
    assert (stored.status, stored.attempts, stored.sent_at) == (
        DeliveryStatus.SENT,
        1,
        NOW + timedelta(seconds=1),
    )
    assert await backend.uow.deliveries.attempts(delivery.id) == [entry]
