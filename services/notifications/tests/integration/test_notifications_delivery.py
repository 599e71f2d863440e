"""The dispatcher under faults: an SMTP server that is down, a crash between sending and
recording, two replicas sharing the work, and an event about a case it does not know."""

import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import aio_pika
import asyncpg
import pytest
from aiosmtpd.controller import Controller

from atiende_contracts import CaseOpened, Names, NotificationFailed, NotificationSent, SurveyInvited
from atiende_testing import SmtpSink, eventually, free_port


def case_opened(number: str) -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number=number,
        customer_id=uuid.uuid4(),
        customer_name="Ana Pérez",
        customer_email="ana@example.com",
        type="complaint",
        channel="phone",
        description="The invoice is wrong",
        opened_at=datetime.now(UTC),
    )


async def emit(svc, *events) -> None:
    """Write events to the service's own outbox: its relay publishes them to the real broker."""
    async with svc.foreign_unit_of_work() as uow:
        for event in events:
            await uow.emit(event, subject=event.case_id)


async def rows(svc, sql, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def outbox_data(svc, event) -> list[dict]:
    found = await rows(
        svc, "SELECT data FROM outbox WHERE routing_key = $1 ORDER BY position", event.routing_key()
    )
    return [r["data"] for r in found]


async def test_unreachable_smtp_server_fails_the_delivery_after_max_attempts(service_factory):
    closed_port = free_port()
    async with service_factory(
        "notifications",
        smtp_port=closed_port,
        max_attempts=2,
        retry_base_delay=0.2,
        dispatch_poll_interval=0.2,
    ) as svc:
        opened = case_opened("AT-2026-000010")
        await emit(svc, opened)

        async def failed():
            response = await svc.client.get("/deliveries", params={"case_id": str(opened.case_id)})
            found = response.json()
            return found and found[0]["status"] == "failed" and found[0]

        delivery = await eventually(failed, message="delivery never marked failed")
        assert delivery["attempts"] == 2
        assert "SMTPConnect" in delivery["last_error"]

        [event] = await eventually(lambda: outbox_data(svc, NotificationFailed))
        assert event["delivery_id"] == delivery["id"]
        assert event["case_id"] == str(opened.case_id)
        assert event["attempts"] == 2
        assert event["error"] == delivery["last_error"]
        assert await outbox_data(svc, NotificationSent) == []
        # the email itself is kept, ready for an operator to resend
        [kept] = await rows(svc, "SELECT subject, body_text FROM deliveries")
        assert kept["subject"] == "[AT-2026-000010] Hemos recibido su caso"
        assert "AT-2026-000010" in kept["body_text"]


async def test_a_new_delivery_wakes_the_dispatcher_without_waiting_for_a_poll(
    service_factory, smtp_sink
):
    async with service_factory(
        "notifications",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        dispatch_poll_interval=60,
    ) as svc:
        await emit(svc, case_opened("AT-2026-000030"))
        # well inside the poll interval: only the deliveries trigger's NOTIFY can have woken it
        await smtp_sink.wait_for(lambda m: m["X-Atiende-Case"] == "AT-2026-000030", timeout=10)


@pytest.fixture
def crashing_smtp(database_url):
    """An SMTP server that accepts every email but, on the first, kills the notifications
    database session that is waiting for the answer: like a crash after sending and before
    recording it."""
    sink = SmtpSink("127.0.0.1", free_port())

    class KillSenderOnFirstEmail:
        async def handle_DATA(self, server, session, envelope):
            if not sink.messages:
                conn = await asyncpg.connect(database_url)
                try:
                    killed = await conn.fetchval(
                        """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                           WHERE datname = current_database()
                             AND application_name = 'atiende-notifications'
                             AND state = 'idle in transaction'"""
                    )
                finally:
                    await conn.close()
                assert killed == 1, f"expected the dispatcher's session, found {killed}"
            sink.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 Message accepted"

    controller = Controller(KillSenderOnFirstEmail(), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


async def test_email_sent_but_not_recorded_is_resent_with_the_same_message_id(
    service_factory, crashing_smtp
):
    async with service_factory(
        "notifications",
        smtp_host=crashing_smtp.host,
        smtp_port=crashing_smtp.port,
        dispatch_poll_interval=0.2,
    ) as svc:
        opened = case_opened("AT-2026-000020")
        await emit(svc, opened)

        first, second = await crashing_smtp.wait_for(lambda m: True, count=2)
        assert first["Message-ID"] == second["Message-ID"]
        assert first["X-Atiende-Delivery"] == second["X-Atiende-Delivery"]

        [sent] = await eventually(lambda: outbox_data(svc, NotificationSent))
        [delivery] = await rows(svc, "SELECT id, status, attempts FROM deliveries")
        assert (delivery["status"], delivery["attempts"]) == ("sent", 1)
        assert first["Message-ID"] == f"<{delivery['id']}@atiende>"
        assert sent["delivery_id"] == str(delivery["id"])
        assert len(crashing_smtp.messages) == 2


async def test_two_replicas_send_each_email_once(service_factory, smtp_sink):
    replica = {
        "smtp_host": smtp_sink.host,
        "smtp_port": smtp_sink.port,
        "dispatch_poll_interval": 0.2,
        "dispatch_batch_size": 2,
    }
    async with (
        service_factory("notifications", **replica) as one,
        service_factory("notifications", **replica) as two,
    ):
        events = [case_opened(f"AT-2026-{n:06d}") for n in range(100, 116)]
        await emit(one, *events[::2])
        await emit(two, *events[1::2])

        await smtp_sink.wait_for(lambda m: True, count=len(events))

        async def all_sent():
            found = await rows(one, "SELECT status, attempts FROM deliveries")
            return len(found) == len(events) and all(r["status"] == "sent" for r in found) and found

        recorded = await eventually(all_sent, message="not every delivery recorded as sent")
        assert {r["attempts"] for r in recorded} == {1}
        message_ids = [m["Message-ID"] for m in smtp_sink.messages]
        assert len(message_ids) == len(set(message_ids)) == len(events)
        assert {m["X-Atiende-Case"] for m in smtp_sink.messages} == {e.case_number for e in events}


async def test_survey_invitation_for_an_unknown_case_is_parked_not_lost(
    service_factory, smtp_sink, amqp_url, broker_namespace
):
    async with service_factory(
        "notifications", smtp_port=smtp_sink.port, delivery_limit=1, dispatch_poll_interval=0.2
    ) as svc:
        invitation = SurveyInvited(
            invitation_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            case_number="AT-2026-000404",
            survey_url="http://surveys.test/s/x",
            expires_at=datetime.now(UTC) + timedelta(days=7),
        )
        await emit(svc, invitation)

        parked = Names.parking_queue(
            Names(broker_namespace).queue("notifications", "send-survey-invitation")
        )
        connection = await aio_pika.connect(amqp_url)
        async with connection:

            async def parked_count():
                channel = await connection.channel()
                queue = await channel.declare_queue(parked, passive=True)
                await channel.close()
                return queue.declaration_result.message_count

            await eventually(parked_count, message="the invitation was not parked")
        assert await rows(svc, "SELECT id FROM deliveries") == []
