"""Case acknowledgement and survey invitation emails, end to end through the real broker,
database and SMTP server; redelivered events; the deliveries API."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

import aio_pika

from atiende_contracts import CaseOpened, Names, NotificationSent, SurveyInvited
from atiende_runtime.outbox import envelope_of
from atiende_testing import eventually

CUSTOMER = {"name": "Ana Pérez", "email": "ana.perez@example.com"}


def notifications(service_factory, smtp_sink, **overrides):
    return service_factory(
        "notifications",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        dispatch_poll_interval=0.2,
        **overrides,
    )


async def open_case(intake) -> dict:
    response = await intake.client.post(
        "/cases",
        json={
            "customer": CUSTOMER,
            "type": "complaint",
            "channel": "email",
            "description": "The invoice charges me twice",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def header(message: Message, name: str) -> str:
    """A header's value with any RFC 2047 encoded words decoded."""
    return str(make_header(decode_header(message[name] or "")))


def subject(message: Message) -> str:
    return header(message, "Subject")


def plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/plain part in {subject(message)!r}")


async def outbox_data(svc, event) -> list[dict]:
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT subject, data FROM outbox WHERE routing_key = $1 ORDER BY position",
            event.routing_key(),
        )
    return [{"subject": r["subject"], **r["data"]} for r in rows]


async def deliveries(svc, case_id) -> list[dict]:
    response = await svc.client.get("/deliveries", params={"case_id": str(case_id)})
    assert response.status_code == 200, response.text
    return response.json()


async def events_handled(svc, consumer: str, outcome: str) -> float:
    """The service's own counter of events its inbox handled or dropped, from /metrics."""
    metrics = (await svc.client.get("/metrics")).text
    pattern = rf'atiende_events_handled_total{{consumer="{consumer}",outcome="{outcome}"}} (\S+)'
    found = re.search(pattern, metrics)
    return float(found.group(1)) if found else 0.0


async def test_opened_case_is_acknowledged_then_survey_invitation_is_emailed(
    service_factory, smtp_sink
):
    async with (
        service_factory("intake") as intake,
        notifications(service_factory, smtp_sink) as svc,
    ):
        case = await open_case(intake)

        [ack] = await smtp_sink.wait_for(lambda m: case["number"] in subject(m))
        assert parseaddr(header(ack, "To")) == (CUSTOMER["name"], CUSTOMER["email"])
        assert subject(ack) == f"[{case['number']}] Hemos recibido su caso"
        delivery_id = ack["X-Atiende-Delivery"]
        assert ack["Message-ID"] == f"<{delivery_id}@atiende>"
        assert ack["X-Atiende-Case"] == case["number"]
        assert case["number"] in plain_text(ack)

        sent = await eventually(
            lambda: outbox_data(svc, NotificationSent), message="no notification.sent emitted"
        )
        assert [(e["subject"], e["delivery_id"]) for e in sent] == [(case["id"], delivery_id)]
        [delivery] = await deliveries(svc, case["id"])
        assert delivery["id"] == delivery_id
        assert delivery["template"] == "case_acknowledgement"
        assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
            "sent",
            1,
            None,
        )

        survey_url = f"http://surveys.test/s/{uuid.uuid4().hex}"
        async with svc.foreign_unit_of_work() as uow:
            await uow.emit(
                SurveyInvited(
                    invitation_id=uuid.uuid4(),
                    case_id=case["id"],
                    case_number=case["number"],
                    survey_url=survey_url,
                    expires_at=datetime.now(UTC) + timedelta(days=7),
                ),
                subject=case["id"],
            )

        [survey] = await smtp_sink.wait_for(lambda m: survey_url in plain_text(m))
        assert parseaddr(header(survey, "To"))[1] == CUSTOMER["email"]
        assert subject(survey) == f"[{case['number']}] ¿Cómo le atendimos?"
        assert case["number"] in plain_text(survey)
        assert "opcional" in plain_text(survey)

        async def both_sent():
            found = await deliveries(svc, case["id"])
            return len(found) == 2 and all(d["status"] == "sent" for d in found) and found

        found = await eventually(both_sent, message="survey delivery not recorded as sent")
        assert {d["template"] for d in found} == {"case_acknowledgement", "survey_invitation"}
        assert len(smtp_sink.messages) == 2


async def test_english_speaking_customer_is_written_to_in_english(service_factory, smtp_sink):
    async with notifications(service_factory, smtp_sink) as svc:
        case_id = uuid.uuid4()
        async with svc.foreign_unit_of_work() as uow:
            await uow.emit(
                CaseOpened(
                    case_id=case_id,
                    case_number="AT-2026-000777",
                    customer_id=uuid.uuid4(),
                    customer_name="John Smith",
                    customer_email="john@example.com",
                    type="claim",
                    channel="phone",
                    description="Broken on arrival",
                    opened_at=datetime.now(UTC),
                    language="en-GB",
                ),
                subject=case_id,
            )

        [ack] = await smtp_sink.wait_for(lambda m: "AT-2026-000777" in subject(m))
        assert subject(ack) == "[AT-2026-000777] We have received your case"
        assert plain_text(ack).startswith("Dear John Smith,")


async def test_case_opened_delivered_twice_sends_one_acknowledgement(
    service_factory, smtp_sink, amqp_url, broker_namespace
):
    consumer = "notifications.acknowledge-case"
    async with (
        service_factory("intake") as intake,
        notifications(service_factory, smtp_sink) as svc,
    ):
        case = await open_case(intake)
        await smtp_sink.wait_for(lambda m: case["number"] in subject(m))
        async with intake.runtime.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM outbox WHERE routing_key = $1", CaseOpened.routing_key()
            )
        original = envelope_of(row)
        # the same event again (a redelivery), and a copy under a new event id (a re-emission)
        reemitted = original.model_copy(update={"id": uuid.uuid4()})
        duplicates_before = await events_handled(svc, consumer, "duplicate")
        handled_before = await events_handled(svc, consumer, "handled")

        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(Names(broker_namespace).events_exchange)
            for envelope in (original, reemitted):
                await exchange.publish(
                    aio_pika.Message(
                        body=json.dumps(envelope.data).encode(),
                        content_type="application/json",
                        message_id=str(envelope.id),
                        headers=envelope.amqp_headers(),
                    ),
                    routing_key=envelope.routing_key,
                )

        async def both_consumed():
            return (
                await events_handled(svc, consumer, "duplicate") == duplicates_before + 1
                and await events_handled(svc, consumer, "handled") == handled_before + 1
            )

        await eventually(both_consumed, message="the two copies were not both consumed")
        [delivery] = await deliveries(svc, case["id"])
        assert delivery["status"] == "sent"
        assert len(smtp_sink.messages) == 1
        assert len(await outbox_data(svc, NotificationSent)) == 1


async def test_deliveries_api_names_the_invalid_query_field(service_factory, smtp_sink):
    async with notifications(service_factory, smtp_sink) as svc:
        response = await svc.client.get("/deliveries", params={"case_id": "not-a-uuid"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["query.case_id"]

        response = await svc.client.get("/deliveries", params={"status": "lost"})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["query.status"]

        response = await svc.client.get("/deliveries", params={"status": "failed"})
        assert response.status_code == 200
        assert response.json() == []
