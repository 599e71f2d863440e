"""The case lifecycle on real PostgreSQL and RabbitMQ: a case intake opens is routed by a rule to
a skilled, available agent; a pause keeps its reason; a commitment reminds, then is missed and
escalates; an upset customer's case starts escalated; stale writes get 412 and illegal moves 409."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from atiende_testing import eventually

CUSTOMER = {"name": "Ana Pérez", "email": "ana@example.com"}


def complaint(**fields):
    return {
        "customer": CUSTOMER,
        "type": "complaint",
        "channel": "email",
        "description": "The invoice is wrong",
        **fields,
    }


async def outbox(svc, event_type, case_id):
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM outbox WHERE type = 'io.atiende.' || $1 || '.v1' AND subject = $2"
            " ORDER BY position",
            event_type,
            str(case_id),
        )
    return [r["data"] if isinstance(r["data"], dict) else json.loads(r["data"]) for r in rows]


async def routed(routing, case_id, **expected):
    async def ready():
        r = await routing.client.get(f"/cases/{case_id}")
        body = r.json() if r.status_code == 200 else None
        return body if body and all(body.get(k) == v for k, v in expected.items()) else None

    return await eventually(ready, timeout=15, message=f"case never became {expected}")


async def test_a_case_opened_by_intake_is_routed_by_rule_to_a_skilled_available_agent(
    service_factory,
):
    async with service_factory("intake") as intake, service_factory("routing") as routing:
        team = await routing.client.post("/teams", json={"id": "english", "name": "English desk"})
        assert team.status_code == 201, team.text
        for agent_id, languages in (("ana", ["es"]), ("john", ["en"])):
            made = await routing.client.post(
                "/agents",
                json={
                    "id": agent_id,
                    "name": agent_id.title(),
                    "email": f"{agent_id}@example.com",
                    "teams": ["english"],
                    "skills": {"languages": languages},
                    "availability": "available",
                },
            )
            assert made.status_code == 201, made.text
        rule = await routing.client.post(
            "/routing-rules",
            json={
                "id": "english-speakers",
                "name": "Customers writing in English",
                "position": 10,
                "conditions": [{"fact": "language", "op": "in", "values": ["en"]}],
                "outcome": {"team": "english", "priority": "high", "skills": {"languages": ["en"]}},
            },
        )
        assert rule.status_code == 201, rule.text

        customer = await intake.client.post(
            "/customers", json={"name": "John Smith", "email": "john@example.com", "language": "en"}
        )
        assert customer.status_code == 201, customer.text
        created = await intake.client.post(
            "/cases", json=complaint(customer={"id": customer.json()["id"]})
        )
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]

        body = await routed(routing, case_id, agent_id="john")
        assert (body["status"], body["team"], body["priority"], body["rule_id"]) == (
            "assigned",
            "english",
            "high",
            "english-speakers",
        )
        assert {c["clock"] for c in body["clocks"]} == {"first_response", "resolution"}
        assert [e["kind"] for e in body["timeline"]][:2] == ["opened", "assigned"]
        [assigned] = await outbox(routing, "case.assigned", case_id)
        assert (assigned["agent_id"], assigned["rule_id"]) == ("john", "english-speakers")

        mine = await routing.client.get("/queues/mine", params={"agent_id": "john"})
        assert [c["id"] for c in mine.json()["items"]] == [case_id]


async def test_a_pause_stops_the_clock_and_keeps_its_reason_and_409_names_the_statuses(
    service_factory,
):
    async with service_factory("intake") as intake, service_factory("routing") as routing:
        created = await intake.client.post("/cases", json=complaint())
        case_id = created.json()["id"]
        body = await routed(routing, case_id, status="assigned")

        paused = await routing.client.post(
            f"/cases/{case_id}/status",
            json={
                "status": "waiting_on_customer",
                "reason": "customer_information",
                "note": "asked for the invoice number",
            },
            headers={"If-Match": f'"{body["version"]}"'},
        )
        assert paused.status_code == 200, paused.text
        assert paused.headers["ETag"] == f'"{body["version"] + 1}"'
        view = (await routing.client.get(f"/cases/{case_id}")).json()
        resolution = next(c for c in view["clocks"] if c["clock"] == "resolution")
        assert resolution["state"] == "paused"
        assert resolution["pauses"][-1]["reason"] == "customer_information"
        assert resolution["pauses"][-1]["note"] == "asked for the invoice number"
        assert view["waiting_reason"] == "customer_information"

        stale = await routing.client.post(
            f"/cases/{case_id}/status",
            json={"status": "in_progress"},
            headers={"If-Match": f'"{body["version"]}"'},
        )
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"

        no_reason = await routing.client.post(
            f"/cases/{case_id}/status", json={"status": "waiting_on_third_party"}
        )
        assert no_reason.status_code == 422
        assert no_reason.json()["errors"][0]["field"] == "reason"

        illegal = await routing.client.post(f"/cases/{case_id}/reopen", json={"reason": "why not"})
        assert illegal.status_code == 409
        problem = illegal.json()
        assert problem["current_status"] == "waiting_on_customer"
        assert set(problem["allowed_statuses"]) == {
            "in_progress",
            "waiting_on_third_party",
            "resolved",
        }

        early = await routing.client.post(f"/cases/{case_id}/resolve", json={"resolution": "x"})
        assert early.status_code == 409
        assert early.json()["detail"] == "resolution requires step 3: expectation discovered"
        assert early.json()["errors"][0]["field"] == "steps.3"


async def test_a_commitment_reminds_then_is_missed_and_escalates(service_factory):
    async with (
        service_factory("intake") as intake,
        service_factory("routing", commitment_reminder_minutes=0.05) as routing,
    ):
        created = await intake.client.post("/cases", json=complaint())
        case_id = created.json()["id"]
        await routed(routing, case_id, status="assigned")

        due = datetime.now(UTC) + timedelta(seconds=5)
        made = await routing.client.post(
            f"/cases/{case_id}/commitments",
            json={
                "description": "I will call you back before twelve",
                "due_at": due.isoformat(),
                "owner_id": "ana",
            },
        )
        assert made.status_code == 201, made.text
        commitment_id = made.json()["id"]
        assert made.headers["Location"] == f"/cases/{case_id}/commitments/{commitment_id}"

        async def missed():
            return await outbox(routing, "commitment.missed", case_id)

        [miss] = await eventually(missed, timeout=15, message="commitment never missed")
        [soon] = await outbox(routing, "commitment.due_soon", case_id)
        assert soon["commitment_id"] == miss["commitment_id"] == commitment_id
        missed_at = datetime.fromisoformat(miss["missed_at"])
        assert timedelta(0) <= missed_at - due < timedelta(seconds=1.5)
        [escalated] = await outbox(routing, "case.escalated", case_id)
        assert escalated["reason"] == "commitment_missed"
        assert escalated["level"] == "senior"
        view = (await routing.client.get(f"/cases/{case_id}")).json()
        assert view["escalation"] == "senior"
        assert view["commitments"][0]["state"] == "missed"

        late = await routing.client.post(f"/cases/{case_id}/commitments/{commitment_id}/kept")
        assert late.status_code == 409


async def test_an_upset_customers_case_starts_escalated_and_sorts_first(service_factory):
    async with service_factory("intake") as intake, service_factory("routing") as routing:
        calm = await intake.client.post("/cases", json=complaint())
        upset = await intake.client.post(
            "/cases",
            json=complaint(
                customer={"name": "Luis", "email": "luis@example.com"},
                upset=True,
                description="Third time I write about this!",
            ),
        )
        assert upset.status_code == 201, upset.text
        upset_id = upset.json()["id"]
        body = await routed(routing, upset_id, escalation="senior")
        assert body["upset"] is True
        [escalated] = await outbox(routing, "case.escalated", upset_id)
        assert escalated["reason"] == "customer_upset"
        await routed(routing, calm.json()["id"], status="assigned")

        queue = await routing.client.get("/queues/teams/general", params={"limit": 1})
        page = queue.json()
        assert [c["id"] for c in page["items"]] == [upset_id]
        assert page["next_cursor"]
        rest = await routing.client.get(
            "/queues/teams/general", params={"cursor": page["next_cursor"]}
        )
        assert [c["id"] for c in rest.json()["items"]] == [calm.json()["id"]]
        assert rest.json()["next_cursor"] is None

        phrases = await routing.client.get(f"/cases/{upset_id}/phrases")
        assert phrases.status_code == 200
        assert len(phrases.json()) == 6
        assert {p["language"] for p in phrases.json()} == {"es"}


async def test_a_merge_closes_the_absorbed_case_and_erasure_pseudonymises(service_factory):
    from atiende_contracts import CaseMerged, CustomerErased

    async with service_factory("intake") as intake, service_factory("routing") as routing:
        first = (await intake.client.post("/cases", json=complaint())).json()
        second = (await intake.client.post("/cases", json=complaint(description="again"))).json()
        await routed(routing, first["id"], status="assigned")
        await routed(routing, second["id"], status="assigned")
        noted = await routing.client.post(
            f"/cases/{second['id']}/steps/2", json={"text": "Ana says IBAN ES12 3456"}
        )
        assert noted.status_code == 200, noted.text
        escalated = await routing.client.post(
            f"/cases/{first['id']}/escalate", json={"note": "Ana read out IBAN ES12 3456"}
        )
        assert escalated.status_code == 200, escalated.text

        async def outbox_mentioning(text):
            return await routing.runtime.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE data::text LIKE '%' || $1 || '%'", text
            )

        assert await outbox_mentioning("IBAN") == 1  # case.escalated, kept after publishing

        async with routing.foreign_unit_of_work() as tx:
            await tx.emit(
                CaseMerged(
                    case_id=uuid.UUID(second["id"]),
                    case_number=second["number"],
                    into_case_id=uuid.UUID(first["id"]),
                    into_case_number=first["number"],
                    customer_id=uuid.UUID(second["customer_id"]),
                    reason="same invoice",
                    merged_at=datetime.now(UTC),
                ),
                subject=second["id"],
            )
        merged = await routed(routing, second["id"], status="closed")
        assert (merged["close_reason"], merged["merged_into"]) == ("merged", first["id"])
        assert merged["clocks"]  # the history of its clocks stays

        async with routing.foreign_unit_of_work() as tx:
            await tx.emit(
                CustomerErased(
                    customer_id=uuid.UUID(second["customer_id"]),
                    case_ids=[uuid.UUID(second["id"])],
                    erased_at=datetime.now(UTC),
                ),
                subject=second["customer_id"],
            )

        async def erased():
            body = (await routing.client.get(f"/cases/{second['id']}")).json()
            return body if body["steps"] and body["steps"][0]["text"] == "[erased]" else None

        body = await eventually(erased, timeout=15, message="free text never erased")
        assert all("IBAN" not in e["summary"] for e in body["timeline"])
        # the other case of the same customer, and the event routing kept, lost the note too
        assert await outbox_mentioning("IBAN") == 0
        notes = await routing.runtime.pool.fetch(
            "SELECT data->>'note' AS note FROM outbox WHERE type LIKE '%case.escalated%'"
        )
        assert [r["note"] for r in notes] == ["[erased]"]
