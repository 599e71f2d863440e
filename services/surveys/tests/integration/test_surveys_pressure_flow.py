"""The contact-pressure budget, consent and opt-out on the real database and the survey timer:
five resolutions in a week give one invitation and four recorded suppressions; a customer who
declined surveys, or opted out by the link, is not asked."""

import uuid
from datetime import UTC, datetime

from atiende_surveys import usecases
from atiende_surveys.domain import CaseFacts, CustomerFacts
from atiende_surveys.entrypoints.config import survey_config
from atiende_surveys.repository import PostgresUnitOfWork
from atiende_testing import eventually

BASE_URL = "https://encuestas.example.test"


async def rows(svc, sql, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def open_and_resolve(svc, customer_id, *, consent=True):
    case_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with svc.runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        await usecases.remember_case(
            uow,
            CaseFacts(case_id, f"AT-2026-{case_id.int % 10**6:06d}", customer_id, "es", now),
            consent_surveys=consent,
        )
        await usecases.case_resolved(
            uow,
            case_id=case_id,
            case_number="AT-2026-000001",
            now=now,
            config=survey_config(svc.runtime.settings),
        )
    return case_id


async def decided(svc, count):
    async def check():
        done = await rows(svc, "SELECT id FROM scheduled WHERE done_at IS NOT NULL")
        return len(done) == count

    await eventually(check, message="the timer did not decide every due invitation")


async def test_five_resolutions_in_a_week_give_one_invitation_and_four_suppressions(
    service_factory,
):
    async with service_factory("surveys", survey_base_url=BASE_URL) as surveys:
        customer = uuid.uuid4()
        for _ in range(5):
            await open_and_resolve(surveys, customer)
        await decided(surveys, 5)
        assert len(await rows(surveys, "SELECT * FROM invitations")) == 1
        suppressed = await rows(surveys, "SELECT reason FROM suppressions")
        assert [r["reason"] for r in suppressed] == ["too_soon_after_last"] * 4
        events = await rows(surveys, "SELECT type FROM outbox WHERE type LIKE '%survey.%'")
        types = sorted(r["type"].split(".")[-2] for r in events)
        assert types == ["invited"] + ["suppressed"] * 4
        listed = await surveys.client.get("/suppressions", params={"customer_id": str(customer)})
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 4


async def test_consent_and_opt_out_are_respected(service_factory):
    async with service_factory(
        "surveys", survey_base_url=BASE_URL, survey_min_days_between=0, survey_max_invitations=9
    ) as surveys:
        refused = uuid.uuid4()
        await open_and_resolve(surveys, refused, consent=False)
        await decided(surveys, 1)
        (row,) = await rows(surveys, "SELECT reason FROM suppressions")
        assert row["reason"] == "no_consent"

        # consent given later (customer.profile_changed) is respected too
        async with surveys.runtime.unit_of_work() as tx:
            await usecases.note_customer(
                PostgresUnitOfWork(tx),
                CustomerFacts(refused, consent_surveys=True),
                datetime.now(UTC),
            )
        await open_and_resolve(surveys, refused, consent=None)
        await decided(surveys, 2)
        (invited,) = await rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%invited%'")
        links = invited["data"]
        assert links["opt_out_url"].startswith(f"{BASE_URL}/s/")
        assert len(links["answer_links"]) == 5
        path = links["opt_out_url"].removeprefix(BASE_URL)

        # the opt-out page records nothing on GET; the button opts out of all surveys
        page = await surveys.client.get(path)
        assert page.status_code == 200
        assert await rows(surveys, "SELECT * FROM opt_outs") == []
        done = await surveys.client.post(path, data={"scope": "all"})
        assert done.status_code == 200
        assert "No volveremos a enviarle encuestas." in done.text
        assert [r["scope"] for r in await rows(surveys, "SELECT scope FROM opt_outs")] == ["all"]
        declined = await rows(
            surveys, "SELECT type FROM outbox WHERE type LIKE '%declined%' OR type LIKE '%opt_out%'"
        )
        assert len(declined) == 2

        await open_and_resolve(surveys, refused, consent=True)
        await decided(surveys, 3)
        reasons = [
            r["reason"]
            for r in await rows(surveys, "SELECT reason FROM suppressions ORDER BY suppressed_at")
        ]
        assert reasons == ["no_consent", "opted_out"]


async def test_an_email_answer_link_records_nothing_until_confirmed(service_factory):
    async with service_factory("surveys", survey_base_url=BASE_URL) as surveys:
        await open_and_resolve(surveys, uuid.uuid4())
        await decided(surveys, 1)
        (invited,) = await rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%invited%'")
        link = invited["data"]["answer_links"][1]["url"].removeprefix(BASE_URL)  # "2"
        scanned = await surveys.client.get(link)  # what a mail scanner does
        assert scanned.status_code == 200
        assert "Confirmar respuesta" in scanned.text
        (row,) = await rows(surveys, "SELECT draft, status FROM invitations")
        assert (row["draft"], row["status"]) == ({}, "pending")

        confirmed = await surveys.client.post(link.split("?")[0], data={"satisfaction": "2"})
        assert confirmed.status_code == 303
        (row,) = await rows(surveys, "SELECT draft FROM invitations")
        assert row["draft"] == {"satisfaction": 2}
        survey_path = link.split("/a")[0]
        page = await surveys.client.get(survey_path)
        assert 'value="2" required checked>' in page.text

        answered = await surveys.client.post(survey_path, data={"comment": "Tardaron mucho"})
        assert answered.status_code == 303
        detractor = await rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%detractor%'")
        assert detractor[0]["data"]["reasons"] == ["csat<=2"]
        results = (await surveys.client.get("/results")).json()
        assert results["scores"]["csat_percent"] == 0.0
        assert results["scores"]["responses"] == 1
