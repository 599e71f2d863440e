"""The surveys service on the real database and broker: invitations from case.resolved, the
survey page, answers, duplicates and expiry."""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import aio_pika
from prometheus_client.parser import text_string_to_metric_families

from atiende_contracts import CaseResolved, Envelope, Names
from atiende_testing import eventually

BASE_URL = "https://encuestas.example.test"
CONSUMER = "surveys.invite-after-resolution"
WALK_TO_RESOLUTION = [
    ("3", {"text": "wants the invoice corrected"}),
    ("4", {"text": "you want a corrected invoice, right?", "confirmed": True}),
    (
        "5",
        {
            "text": "offered a corrected invoice or a refund",
            "options": ["corrected invoice", "refund"],
            "chosen": "refund",
        },
    ),
    ("6", {"text": "refund ordered"}),
]


async def outbox_rows(svc, event_type):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT * FROM outbox WHERE type LIKE $1 ORDER BY position", f"%{event_type}%"
        )


async def invitation_rows(svc):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM invitations ORDER BY invited_at")


def page_path(invited_row):
    """The survey page's path, from the link in a survey.invited outbox row."""
    url = invited_row["data"]["survey_url"]
    assert url.startswith(f"{BASE_URL}/s/"), url
    return url.removeprefix(BASE_URL)


async def resolve_directly(routing, case_id, number="AT-2026-000042"):
    """A case.resolved written to routing's outbox, so its relay publishes it for real."""
    event = CaseResolved(
        case_id=case_id, case_number=number, resolution="refund", resolved_at=datetime.now(UTC)
    )
    async with routing.runtime.unit_of_work() as uow:
        return await uow.emit(event, subject=case_id)


async def events_handled(svc, outcome):
    metrics = (await svc.client.get("/metrics")).text
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "atiende_events_handled_total" and sample.labels == {
                "consumer": CONSUMER,
                "outcome": outcome,
            }:
                return sample.value
    return 0.0


async def test_resolved_case_gets_a_survey_that_takes_exactly_one_answer(service_factory):
    async with (
        service_factory("intake") as intake,
        service_factory("routing") as routing,
        service_factory("surveys", survey_base_url=BASE_URL) as surveys,
    ):
        opened = await intake.client.post(
            "/cases",
            json={
                "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
                "type": "complaint",
                "channel": "phone",
                "description": "The invoice is wrong",
            },
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()

        async def routed():
            return (await routing.client.get(f"/cases/{case['id']}")).status_code == 200

        await eventually(routed, message="routing never learnt of the case")
        # routing resolves a complaint only once steps 3 to 6 of the seven are recorded
        for step, body in WALK_TO_RESOLUTION:
            walked = await routing.client.post(f"/cases/{case['id']}/steps/{step}", json=body)
            assert walked.status_code == 200, walked.text
        resolved = await routing.client.post(
            f"/cases/{case['id']}/resolve",
            json={"root_cause": {"category": "isolated_incident"}},
        )
        assert resolved.status_code == 200, resolved.text

        invited = await eventually(
            lambda: outbox_rows(surveys, "survey.invited"), message="no survey.invited emitted"
        )
        assert len(invited) == 1
        assert invited[0]["subject"] == case["id"]
        assert invited[0]["data"]["case_number"] == case["number"]
        path = page_path(invited[0])
        token = path.removeprefix("/s/")

        # the database keeps the token's hash, never the token
        (stored,) = await invitation_rows(surveys)
        assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps({k: str(v) for k, v in dict(stored).items()})

        page = await surveys.client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["referrer-policy"] == "no-referrer"
        assert '<html lang="es">' in page.text
        assert f"¿Cómo valora la forma en que atendimos su caso {case['number']}?" in page.text
        assert page.text.count('type="radio" ') == 5
        assert "Responder es opcional" in page.text

        english = await surveys.client.get(path, params={"lang": "en"})
        assert '<html lang="en">' in english.text
        assert (
            f"How satisfied are you with how we handled your case {case['number']}?" in english.text
        )

        invalid = await surveys.client.post(
            path, params={"lang": "en"}, data={"satisfaction": "9", "comment": "<b>hola</b>"}
        )
        assert invalid.status_code == 422
        assert invalid.headers["content-type"].startswith("text/html")
        assert '<p class="error" id="satisfaction-error">' in invalid.text
        assert "Satisfaction: The rating must be a number from 1 to 5." in invalid.text
        assert "&lt;b&gt;hola&lt;/b&gt;</textarea>" in invalid.text  # kept, and escaped
        too_long = await surveys.client.post(
            path, data={"satisfaction": "3", "comment": "x" * 1001}
        )
        assert too_long.status_code == 422
        assert '<p class="error" id="comment-error">' in too_long.text
        assert 'value="3" required checked>' in too_long.text  # the rating chosen is kept
        assert await outbox_rows(surveys, "survey.answered") == []

        answered = await surveys.client.post(
            path, data={"satisfaction": "4", "comment": "Muy amables"}
        )
        assert answered.status_code == 303
        thanks = await surveys.client.get(path + answered.headers["location"])
        assert thanks.status_code == 200
        assert "¡Muchas gracias!" in thanks.text

        (answer_event,) = await outbox_rows(surveys, "survey.answered")
        assert answer_event["subject"] == case["id"]
        assert answer_event["data"]["satisfaction"] == 4
        assert answer_event["data"]["comment"] == "Muy amables"
        assert answer_event["data"]["invitation_id"] == str(stored["id"])

        again = await surveys.client.post(path, data={"satisfaction": "1"})
        assert again.status_code == 409
        assert "Encuesta ya respondida" in again.text
        assert len(await outbox_rows(surveys, "survey.answered")) == 1
        async with surveys.runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT array_agg(satisfaction) FROM responses") == [4]

        revisited = await surveys.client.get(path)
        assert revisited.status_code == 200
        assert "Encuesta ya respondida" in revisited.text

        listing = await surveys.client.get("/invitations", params={"case_id": case["id"]})
        assert listing.status_code == 200, listing.text
        (item,) = listing.json()["items"]
        assert (item["status"], item["satisfaction"], item["case_number"]) == (
            "answered",
            4,
            case["number"],
        )

        for response in (
            await surveys.client.get("/s/not-a-real-token"),
            await surveys.client.post("/s/not-a-real-token", data={"satisfaction": "5"}),
        ):
            assert response.status_code == 404
            assert "Encuesta no encontrada" in response.text

        bad_filter = await surveys.client.get("/invitations", params={"case_id": "nope"})
        assert bad_filter.status_code == 422
        assert bad_filter.json()["errors"][0]["field"] == "query.case_id"


async def test_one_invitation_however_often_the_case_is_reported_resolved(
    service_factory, amqp_url, broker_namespace
):
    async with (
        service_factory("routing") as routing,
        service_factory("surveys", survey_base_url=BASE_URL) as surveys,
    ):
        case_id = uuid.uuid4()
        envelope = await resolve_directly(routing, case_id)
        await eventually(lambda: invitation_rows(surveys), message="no invitation created")
        duplicates_before = await events_handled(surveys, "duplicate")

        # the very same event again, as a relay that crashed between the broker's confirm and
        # its own commit would publish it
        published = await outbox_rows(routing, "case.resolved")
        assert [row["event_id"] for row in published] == [envelope.id]
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(Names(broker_namespace).events_exchange)
            await exchange.publish(
                aio_pika.Message(
                    body=json.dumps(envelope.data).encode(),
                    headers=dict(envelope.amqp_headers()),
                    content_type="application/json",
                    message_id=str(envelope.id),
                ),
                routing_key=envelope.routing_key,
            )

        async def duplicate_dropped():
            return await events_handled(surveys, "duplicate") == duplicates_before + 1

        await eventually(duplicate_dropped, message="the duplicate never reached surveys")

        # a different event for the same case while its survey is pending: still no second one
        second: Envelope = await resolve_directly(routing, case_id)

        async def second_handled():
            async with surveys.runtime.pool.acquire() as conn:
                return await conn.fetchval(
                    "SELECT true FROM inbox WHERE consumer = $1 AND event_id = $2",
                    CONSUMER,
                    second.id,
                )

        await eventually(second_handled, message="the second case.resolved was not handled")
        assert len(await invitation_rows(surveys)) == 1
        assert len(await outbox_rows(surveys, "survey.invited")) == 1


async def test_an_expired_survey_is_closed_and_a_later_resolution_does_not_ask_again(
    service_factory,
):
    # at most one survey per case, however often it is resolved: the later resolution is a
    # recorded suppression, not a second invitation
    async with (
        service_factory("routing") as routing,
        service_factory("surveys", survey_base_url=BASE_URL) as surveys,
    ):
        case_id = uuid.uuid4()
        await resolve_directly(routing, case_id)
        (first_invited,) = await eventually(
            lambda: outbox_rows(surveys, "survey.invited"), message="no survey.invited emitted"
        )
        first_path = page_path(first_invited)
        async with surveys.runtime.pool.acquire() as conn:
            await conn.execute(
                """UPDATE invitations SET invited_at = now() - interval '15 days',
                                          expires_at = now() - interval '1 day'"""
            )

        expired = await surveys.client.get(first_path)
        assert expired.status_code == 410
        assert "Encuesta vencida" in expired.text
        too_late = await surveys.client.post(first_path, data={"satisfaction": "5"})
        assert too_late.status_code == 410
        assert await outbox_rows(surveys, "survey.answered") == []

        await resolve_directly(routing, case_id)

        suppressed = await eventually(
            lambda: outbox_rows(surveys, "survey.suppressed"), message="no suppression recorded"
        )
        assert suppressed[0]["data"]["reason"] == "case_already_surveyed"
        assert len(await outbox_rows(surveys, "survey.invited")) == 1
        listing = await surveys.client.get("/invitations", params={"case_id": str(case_id)})
        assert [item["status"] for item in listing.json()["items"]] == ["expired"]
