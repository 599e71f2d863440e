"""The periodic survey of a segment on the real database and timer: `POST /campaigns` schedules
one invitation per matching customer, the timer decides each through the one budget, and what is
not sent is a recorded suppression."""

import uuid
from datetime import UTC, datetime, timedelta

from atiende_surveys import usecases
from atiende_surveys.domain import CaseFacts, Contact
from atiende_surveys.repository import PostgresUnitOfWork
from atiende_testing import eventually

BASE_URL = "https://encuestas.example.test"


async def rows(svc, sql, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def known_customer(svc, *, tier, language="es", consent=True, days_ago=10):
    customer_id, case_id = uuid.uuid4(), uuid.uuid4()
    opened = datetime.now(UTC) - timedelta(days=days_ago)
    async with svc.runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        await usecases.remember_case(
            uow,
            CaseFacts(case_id, "AT-2026-000009", customer_id, language, opened, tier=tier),
            consent_surveys=consent,
        )
        await usecases.case_closed(uow, case_id)
    return customer_id


async def test_a_campaign_surveys_its_segment_through_the_budget(service_factory):
    async with service_factory(
        "surveys", survey_base_url=BASE_URL, survey_poll_interval=0.2
    ) as surveys:
        asked = await known_customer(surveys, tier="gold", language="en")
        refused = await known_customer(surveys, tier="gold", consent=False)
        recently = await known_customer(surveys, tier="gold")
        async with surveys.runtime.unit_of_work() as tx:
            await PostgresUnitOfWork(tx).customers.add_contact(
                recently, uuid.uuid4(), Contact(at=datetime.now(UTC) - timedelta(days=2))
            )
        await known_customer(surveys, tier="silver")
        await known_customer(surveys, tier="gold", days_ago=400)
        until = (datetime.now(UTC) + timedelta(days=7)).isoformat()

        bad = await surveys.client.post(
            "/campaigns", json={"questionnaire_id": "nope", "send_until": until}
        )
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["questionnaire_id"]
        past = await surveys.client.post(
            "/campaigns", json={"send_until": "2020-01-01T00:00:00+00:00"}
        )
        assert past.status_code == 422
        assert [e["field"] for e in past.json()["errors"]] == ["send_until"]
        assert await rows(surveys, "SELECT * FROM campaigns") == []

        body = {
            "questionnaire_id": "periodic",
            "segment": {"tier": "gold", "contacted_within_days": 90},
            "send_until": until,
        }
        started = await surveys.client.post(
            "/campaigns", json=body, headers={"Idempotency-Key": "campaign-1"}
        )
        assert started.status_code == 201, started.text
        campaign = started.json()
        assert campaign["scheduled"] == 3
        assert started.headers["location"] == f"/campaigns/{campaign['id']}"
        # a retry of the same request schedules nothing more
        retried = await surveys.client.post(
            "/campaigns", json=body, headers={"Idempotency-Key": "campaign-1"}
        )
        assert retried.json()["id"] == campaign["id"]
        assert len(await rows(surveys, "SELECT * FROM scheduled")) == 3

        async def decided():
            done = await rows(surveys, "SELECT id FROM scheduled WHERE done_at IS NOT NULL")
            return len(done) == 3

        await eventually(decided, message="the timer did not decide the campaign's invitations")
        (invitation,) = await rows(surveys, "SELECT * FROM invitations")
        assert (invitation["customer_id"], invitation["trigger"], invitation["kind"]) == (
            asked,
            "periodic",
            "periodic",
        )
        assert invitation["language"] == "en"
        suppressed = await rows(surveys, "SELECT customer_id, reason FROM suppressions")
        assert {r["customer_id"]: r["reason"] for r in suppressed} == {
            refused: "no_consent",
            recently: "too_soon_after_last",
        }
        listed = await surveys.client.get("/suppressions", params={"customer_id": str(refused)})
        assert [s["reason"] for s in listed.json()["items"]] == ["no_consent"]

        read = await surveys.client.get(f"/campaigns/{campaign['id']}")
        assert read.status_code == 200
        assert read.json()["segment"] == {
            "language": None,
            "tier": "gold",
            "contacted_within_days": 90,
        }
        assert (await surveys.client.get(f"/campaigns/{uuid.uuid4()}")).status_code == 404
