import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
from prometheus_client import REGISTRY

from atiende_contracts import (
    CaseOpened,
    CaseResolved,
    CaseType,
    Channel,
    Names,
    NotificationChannel,
    NotificationSent,
    SurveyAnswered,
)
from atiende_runtime.auth import mint_token
from atiende_testing import eventually

CONSUMER = "indicators.project-events"


async def emit(svc, event, subject):
    """Write `event` to the service's outbox; its relay publishes it to the real exchange."""
    async with svc.foreign_unit_of_work() as uow:
        return await uow.emit(event, subject=subject)


async def indicators_when(svc, expected, params=None):
    """The indicators once every key of `expected` has the expected value."""

    async def check():
        response = await svc.client.get("/indicators", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return body if all(body[k] == v for k, v in expected.items()) else None

    return await eventually(check, message=f"indicators never reached {expected}")


def case_opened(case_id, opened_at):
    return CaseOpened(
        case_id=case_id,
        case_number=f"AT-2026-{case_id.hex[:6]}",
        customer_id=uuid.uuid4(),
        customer_name="Ana Pérez",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.EMAIL,
        description="The invoice is wrong",
        opened_at=opened_at,
    )


def survey_answered(case_id, satisfaction):
    return SurveyAnswered(
        invitation_id=uuid.uuid4(),
        case_id=case_id,
        satisfaction=satisfaction,
        answered_at=datetime.now(UTC),
    )


async def test_cases_opened_in_intake_and_resolved_in_routing_are_counted(service_factory):
    # what is counted is under test here, not routing's seven-step gate on resolving
    async with (
        service_factory("intake") as intake,
        service_factory("routing", require_steps=False) as routing,
        service_factory("indicators") as indicators,
    ):
        case_ids = []
        for email in ("ana@example.com", "luis@example.com"):
            response = await intake.client.post(
                "/cases",
                json={
                    "customer": {"name": "Cliente", "email": email},
                    "type": "complaint",
                    "channel": "phone",
                    "description": "The invoice is wrong",
                },
            )
            assert response.status_code == 201, response.text
            case_ids.append(response.json()["id"])

        async def known_to_routing():
            return (await routing.client.get(f"/cases/{case_ids[0]}")).status_code == 200

        await eventually(known_to_routing, message="routing never received the case")
        resolved = await routing.client.post(
            f"/cases/{case_ids[0]}/resolve",
            json={"root_cause": {"category": "isolated_incident"}},
        )
        assert resolved.status_code == 200, resolved.text

        body = await indicators_when(
            indicators, {"cases_opened": 2, "cases_assigned": 2, "cases_resolved": 1}
        )
        assert body["median_minutes_to_resolution"] >= 0
        assert body["surveys_answered"] == 0
        assert body["average_satisfaction"] is None


async def test_survey_answers_give_the_average_and_the_satisfied_share(service_factory):
    async with service_factory("indicators") as svc:
        for satisfaction in (4, 2):
            case_id = uuid.uuid4()
            await emit(svc, survey_answered(case_id, satisfaction), subject=case_id)

        body = await indicators_when(svc, {"surveys_answered": 2})
        assert body["average_satisfaction"] == 3.0
        assert body["satisfied_share"] == 0.5


async def test_an_event_delivered_twice_is_counted_once(
    service_factory, amqp_url, broker_namespace
):
    async with service_factory("indicators") as svc:
        sent = NotificationSent(
            delivery_id=uuid.uuid4(),
            case_id=None,
            template="case_opened",
            channel=NotificationChannel.EMAIL,
            recipient="ana@example.com",
            sent_at=datetime.now(UTC),
        )
        envelope = await emit(svc, sent, subject=None)
        await indicators_when(svc, {"notifications_sent": 1})

        labels = {"consumer": CONSUMER, "outcome": "duplicate"}
        duplicates_before = REGISTRY.get_sample_value("atiende_events_handled_total", labels) or 0
        # the same message again, as the relay would send it after a crash before its commit
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(Names(broker_namespace).events_exchange)
            await exchange.publish(
                aio_pika.Message(
                    body=json.dumps(envelope.data).encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(envelope.id),
                    type=envelope.type,
                    app_id=envelope.source,
                    timestamp=envelope.time,
                    headers=envelope.amqp_headers(),
                ),
                routing_key=envelope.routing_key,
            )

        def duplicate_dropped():
            seen = REGISTRY.get_sample_value("atiende_events_handled_total", labels) or 0
            return seen == duplicates_before + 1

        await eventually(duplicate_dropped, message="the duplicate was never delivered")
        body = (await svc.client.get("/indicators")).json()
        assert body["notifications_sent"] == 1


async def test_a_resolution_arriving_before_the_opening_still_gives_the_time_to_resolve(
    service_factory,
):
    async with service_factory("indicators") as svc:
        case_id = uuid.uuid4()
        opening = case_opened(case_id, datetime.now(UTC) - timedelta(minutes=90))
        resolution = CaseResolved(
            case_id=case_id,
            case_number=opening.case_number,
            resolution="refund",
            resolved_at=opening.opened_at + timedelta(minutes=90),
        )
        # one subject: the relay keeps this order, so indicators sees the resolution first
        await emit(svc, resolution, subject=case_id)
        await indicators_when(svc, {"cases_resolved": 1})
        body = (await svc.client.get("/indicators")).json()
        assert body["median_minutes_to_resolution"] is None  # the opening is not known yet

        await emit(svc, opening, subject=case_id)
        body = await indicators_when(svc, {"cases_opened": 1})
        assert body["median_minutes_to_resolution"] == 90.0
        async with svc.runtime.pool.acquire() as conn:
            facts = await conn.fetchrow("SELECT * FROM case_facts WHERE case_id = $1", case_id)
        assert facts["opened_at"] == opening.opened_at
        assert facts["type"] == "complaint"
        assert facts["resolved_at"] == resolution.resolved_at


async def test_a_day_range_restricts_the_indicators_and_the_daily_series(service_factory):
    async with service_factory("indicators") as svc:
        for day in (1, 3, 3):
            case_id = uuid.uuid4()
            opened_at = datetime(2026, 3, day, 12, 0, tzinfo=UTC)
            await emit(svc, case_opened(case_id, opened_at), subject=case_id)
        await indicators_when(svc, {"cases_opened": 3})

        in_range = await indicators_when(
            svc, {"cases_opened": 2}, params={"from": "2026-03-02", "to": "2026-03-31"}
        )
        assert in_range["cases_resolved"] == 0
        series = await svc.client.get(
            "/indicators/daily",
            params={"metric": "cases_opened", "from": "2026-02-28", "to": "2026-03-04"},
        )
        assert series.status_code == 200, series.text
        assert series.json() == [
            {"day": "2026-02-28", "value": 0},
            {"day": "2026-03-01", "value": 1},
            {"day": "2026-03-02", "value": 0},
            {"day": "2026-03-03", "value": 2},
            {"day": "2026-03-04", "value": 0},
        ]


async def test_bad_queries_get_a_problem_naming_the_field_and_roles_are_enforced(
    service_factory,
):
    secret = "test-secret-of-at-least-32-bytes!"

    def bearer(*roles):
        token = mint_token(secret, subject="u1", roles=roles)
        return {"Authorization": f"Bearer {token}"}

    async with service_factory("indicators", jwt_secret=secret) as svc:
        assert (await svc.client.get("/indicators", headers=bearer("agent"))).status_code == 403
        manager = bearer("manager")
        assert (await svc.client.get("/indicators", headers=manager)).status_code == 200
        assert (
            await svc.client.get("/indicators", headers=bearer("supervisor"))
        ).status_code == 200

        bad = {
            "/indicators?from=2026-03-02&to=2026-03-01": "query.from",
            "/indicators?from=yesterday": "query.from",
            "/indicators/daily?metric=cases_opened&from=2026-03-02&to=2026-03-01": "query.from",
            "/indicators/daily?metric=complaints": "query.metric",
            "/indicators/daily": "query.metric",
            "/indicators/daily?metric=cases_opened&from=2000-01-01&to=2026-01-01": "query.to",
        }
        for url, field in bad.items():
            response = await svc.client.get(url, headers=manager)
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert [e["field"] for e in problem["errors"]] == [field], url
            assert field in problem["detail"], url


async def test_the_cost_of_compensations_is_summed_per_month_team_kind_and_currency(
    service_factory,
):
    from decimal import Decimal

    from atiende_contracts import CompensationGranted, CompensationKind, CompensationReversed

    secret = "indicators-secret-at-least-32-bytes-long"
    headers = {"Authorization": "Bearer " + mint_token(secret, subject="boss", roles=["manager"])}
    async with service_factory("indicators", jwt_secret=secret) as svc:
        case_id, grant_id = uuid.uuid4(), uuid.uuid4()
        at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        common = {
            "case_id": case_id,
            "case_number": "AT-2026-000042",
            "team": "care",
            "catalogue_code": "VOUCHER",
            "catalogue_version": 1,
            "kind": CompensationKind.DISCOUNT,
            "currency": "EUR",
        }
        for amount in ("30.00", "20.00"):
            granted = CompensationGranted(
                **common,
                amount=Decimal(amount),
                grant_id=uuid.uuid4() if amount == "20.00" else grant_id,
                granted_by="ana",
                granted_at=at,
            )
            await emit(svc, granted, subject=case_id)
        reversed_ = CompensationReversed(
            **common,
            amount=Decimal("12.50"),
            reversal_id=uuid.uuid4(),
            grant_id=grant_id,
            remaining=Decimal("17.50"),
            reversed_by="marta",
            reason="returned",
            reversed_at=at + timedelta(days=15),
        )
        await emit(svc, reversed_, subject=case_id)

        async def costs():
            r = await svc.client.get(
                "/indicators/compensation-costs",
                params={"from": "2026-03-01", "to": "2026-04-30", "period": "month"},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            rows = r.json()
            return rows if rows and rows[0]["reversals"] == 1 else None

        [march] = await eventually(costs, message="the costs never added up")
        assert march == {
            "period": "2026-03-01",
            "team": "care",
            "kind": "discount",
            "currency": "EUR",
            "granted": "50.00",
            "reversed": "12.50",
            "net": "37.50",
            "grants": 2,
            "reversals": 1,
        }
        bad = await svc.client.get(
            "/indicators/compensation-costs", params={"period": "year"}, headers=headers
        )
        assert bad.status_code == 422
