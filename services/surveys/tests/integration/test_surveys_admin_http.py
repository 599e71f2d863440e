"""The staff API over HTTP on the real database: publishing a questionnaire version
(`PUT /questionnaires/{id}`) and the `/results` filters."""

import uuid
from datetime import UTC, datetime, timedelta

from atiende_surveys import usecases
from atiende_surveys.domain import CaseFacts
from atiende_surveys.entrypoints.config import survey_config
from atiende_surveys.repository import PostgresUnitOfWork

BASE_URL = "https://encuestas.example.test"
CUSTOM = {
    "kind": "custom",
    "title": {"es": "Prueba", "en": "Test"},
    "questions": [
        {"code": "fixed", "type": "yes_no", "text": {"es": "¿Se resolvió?", "en": "Solved?"}}
    ],
}


async def test_publishing_a_questionnaire_makes_a_new_version_and_an_empty_one_is_refused(
    service_factory,
):
    async with service_factory("surveys", survey_base_url=BASE_URL) as surveys:
        empty = await surveys.client.put(
            "/questionnaires/followup", json={**CUSTOM, "questions": []}
        )
        assert empty.status_code == 422
        assert empty.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in empty.json()["errors"]] == ["questions"]
        assert (await surveys.client.get("/questionnaires/followup")).status_code == 404
        bad_type = await surveys.client.put(
            "/questionnaires/followup",
            json={**CUSTOM, "questions": [{**CUSTOM["questions"][0], "type": "essay"}]},
        )
        assert bad_type.status_code == 422
        assert [e["field"] for e in bad_type.json()["errors"]] == ["questions.0.type"]
        bad_kind = await surveys.client.put(
            "/questionnaires/followup", json={**CUSTOM, "kind": "x"}
        )
        assert [e["field"] for e in bad_kind.json()["errors"]] == ["kind"]

        first = await surveys.client.put("/questionnaires/followup", json=CUSTOM)
        assert first.status_code == 201, first.text
        assert (first.json()["id"], first.json()["version"]) == ("followup", 1)
        retitled = {**CUSTOM, "title": {"es": "Seguimiento", "en": "Follow-up"}}
        second = await surveys.client.put("/questionnaires/followup", json=retitled)
        assert second.json()["version"] == 2
        current = (await surveys.client.get("/questionnaires/followup")).json()
        assert (current["version"], current["title"]["es"]) == (2, "Seguimiento")
        assert "followup" in (await surveys.client.get("/questionnaires")).json()["items"]
        # a stock questionnaire's next version is 2: invitations keep the version they were sent
        stock = await surveys.client.put("/questionnaires/csat", json=retitled)
        assert stock.json()["version"] == 2


async def answered(surveys, *, agent, team, satisfaction):
    """A case resolved by `agent` of `team`, invited and answered through its page."""
    case_id, customer_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    config = survey_config(surveys.runtime.settings)
    async with surveys.runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        await usecases.remember_case(
            uow, CaseFacts(case_id, "AT-2026-000005", customer_id, "es", now), True
        )
        due = await usecases.case_resolved(
            uow,
            case_id=case_id,
            case_number="AT-2026-000005",
            now=now,
            config=config,
            agent_id=agent,
            team=team,
        )
        invited = await usecases.invite(uow, due, now, config)
        await uow.schedule.done(due.id, now)
    assert invited is not None
    page = invited.survey_url.removeprefix(BASE_URL)
    sent = await surveys.client.post(page, data={"satisfaction": str(satisfaction)})
    assert sent.status_code == 303, sent.text
    return case_id, customer_id


async def test_results_are_filtered_by_questionnaire_case_customer_agent_team_and_period(
    service_factory,
):
    async with service_factory("surveys", survey_base_url=BASE_URL) as surveys:
        happy_case, happy_customer = await answered(
            surveys, agent="ana", team="billing", satisfaction=5
        )
        unhappy_case, _ = await answered(surveys, agent="luis", team="shipping", satisfaction=1)

        async def results(**params):
            got = await surveys.client.get("/results", params=params)
            assert got.status_code == 200, got.text
            return got.json()

        everything = await results()
        assert everything["scores"]["responses"] == 2
        assert everything["scores"]["csat_percent"] == 50.0
        assert {i["case_id"] for i in everything["items"]} == {str(happy_case), str(unhappy_case)}
        for params, case in (
            ({"agent_id": "ana"}, happy_case),
            ({"team": "shipping"}, unhappy_case),
            ({"case_id": str(unhappy_case)}, unhappy_case),
            ({"customer_id": str(happy_customer)}, happy_case),
        ):
            found = await results(**params)
            assert [i["case_id"] for i in found["items"]] == [str(case)], params
            assert found["scores"]["responses"] == 1
        assert (await results(agent_id="ana"))["scores"]["csat_percent"] == 100.0
        assert (await results(team="shipping"))["scores"]["csat_percent"] == 0.0
        assert (await results(questionnaire="csat"))["scores"]["responses"] == 2
        assert (await results(questionnaire="nps"))["scores"]["responses"] == 0
        assert (await results(agent_id="ana", team="shipping"))["items"] == []

        hour = timedelta(hours=1)
        now = datetime.now(UTC)
        assert (await results(**{"from": (now - hour).isoformat()}))["scores"]["responses"] == 2
        assert (await results(**{"from": (now + hour).isoformat()}))["scores"]["responses"] == 0
        assert (await results(to=(now - hour).isoformat()))["scores"]["responses"] == 0
        assert (await results(to=(now + hour).isoformat()))["scores"]["responses"] == 2
        summary_only = await results(include_items="false")
        assert (summary_only["items"], summary_only["scores"]["responses"]) == ([], 2)

        bad = await surveys.client.get("/results", params={"from": "yesterday"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "query.from"
