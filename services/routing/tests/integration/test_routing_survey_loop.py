"""The closed loop with surveys on real PostgreSQL and RabbitMQ: a detractor's answer about a case
agent ana handled opens one escalated recovery case assigned to ana (even when the event arrives
twice); a satisfied answer after the resolution records step 7b."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

from atiende_contracts import (
    CaseOpened,
    CaseType,
    Channel,
    SurveyAnswered,
    SurveyDetractor,
)
from atiende_testing import eventually

CUSTOMER = uuid.uuid4()


async def emit(svc, event, subject):
    """Write `event` to the service's outbox as its producer would; the relay publishes it."""
    async with svc.foreign_unit_of_work() as uow:
        return await uow.emit(event, subject=subject)


async def outbox(svc, event_type, subject):
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM outbox WHERE type = 'io.atiende.' || $1 || '.v1' AND subject = $2"
            " ORDER BY position",
            event_type,
            str(subject),
        )
    return [r["data"] if isinstance(r["data"], dict) else json.loads(r["data"]) for r in rows]


async def case_when(routing, case_id, check, message):
    async def ready():
        r = await routing.client.get(f"/cases/{case_id}")
        body = r.json() if r.status_code == 200 else None
        return body if body is not None and check(body) else None

    return await eventually(ready, timeout=20, message=message)


async def resolved_complaint_handled_by_ana(routing):
    for path, body in (
        ("/teams", {"id": "care", "name": "Customer care"}),
        (
            "/agents",
            {
                "id": "ana",
                "name": "Ana",
                "email": "ana@example.com",
                "teams": ["care"],
                "availability": "available",
            },
        ),
        (
            "/routing-rules",
            {
                "id": "everything-to-care",
                "name": "Everything to care",
                "position": 10,
                "conditions": [{"fact": "language", "op": "in", "values": ["es"]}],
                "outcome": {"team": "care"},
            },
        ),
    ):
        made = await routing.client.post(path, json=body)
        assert made.status_code == 201, made.text
    case_id = uuid.uuid4()
    number = f"AT-2026-{case_id.int % 1_000_000:06d}"
    await emit(
        routing,
        CaseOpened(
            case_id=case_id,
            case_number=number,
            customer_id=CUSTOMER,
            customer_name="Marta",
            customer_email="marta@example.com",
            type=CaseType.COMPLAINT,
            channel=Channel.EMAIL,
            description="The invoice is wrong",
            expectation="a corrected invoice",
            language="es",
            opened_at=datetime.now(UTC),
        ),
        case_id,
    )
    await case_when(routing, case_id, lambda b: b["agent_id"] == "ana", "ana never got the case")
    for step, body in (
        ("4", {"text": "a corrected invoice, confirmed", "confirmed": True}),
        ("5", {"text": "offered", "options": ["refund", "new invoice"], "chosen": "refund"}),
        ("6", {"text": "refund sent"}),
    ):
        done = await routing.client.post(f"/cases/{case_id}/steps/{step}", json=body)
        assert done.status_code in (200, 201), done.text
    resolved = await routing.client.post(
        f"/cases/{case_id}/resolve",
        json={"resolution": "refunded", "root_cause": {"category": "isolated_incident"}},
    )
    assert resolved.status_code == 200, resolved.text
    return case_id, number


async def test_a_detractor_opens_one_escalated_recovery_case_for_the_agent_who_handled_it(
    service_factory,
):
    async with service_factory("routing") as routing:
        case_id, number = await resolved_complaint_handled_by_ana(routing)
        invitation = uuid.uuid4()
        detractor = SurveyDetractor(
            invitation_id=invitation,
            case_id=case_id,
            case_number=number,
            customer_id=CUSTOMER,
            agent_id="ana",
            team="care",
            questionnaire_kind="nps",
            scores={"nps": 2.0},
            reasons=["nps<=6"],
            comment="nobody called me back",
            detected_at=datetime.now(UTC),
        )
        # delivered twice (two envelopes, as a producer's retry would send)
        await emit(routing, detractor, case_id)
        await emit(routing, detractor, case_id)

        recovery_id = uuid.uuid5(case_id, str(invitation))
        body = await case_when(
            routing,
            recovery_id,
            lambda b: b["escalation"] is not None,
            "the recovery case was never opened and escalated",
        )
        assert (body["number"], body["type"], body["status"], body["team"]) == (
            f"{number}-R",
            "complaint",
            "assigned",
            "care",
        )
        assert (body["agent_id"], body["recovery_of"], body["customer_id"]) == (
            "ana",
            str(case_id),
            str(CUSTOMER),
        )
        assert {c["clock"] for c in body["clocks"]} == {"first_response", "resolution"}
        assert [e["reason"] for e in body["escalations"]] == ["detractor"]
        assert any(f"recovery of case {number}" in e["summary"] for e in body["timeline"])

        original = (await routing.client.get(f"/cases/{case_id}")).json()
        assert original["status"] == "resolved"
        assert any(f"recovery case {number}-R opened" in e["summary"] for e in original["timeline"])

        # both deliveries consumed, still exactly one recovery case and one of each event
        async def both_consumed():
            async with routing.runtime.pool.acquire() as conn:
                return (
                    await conn.fetchval(
                        "SELECT count(*) FROM inbox WHERE event_type LIKE '%survey.detractor%'"
                    )
                    == 2
                ) or None

        await eventually(both_consumed, timeout=20, message="the second delivery never came")
        await asyncio.sleep(0.2)
        async with routing.runtime.pool.acquire() as conn:
            recoveries = await conn.fetchval(
                "SELECT count(*) FROM cases WHERE recovery_of = $1", case_id
            )
        assert recoveries == 1
        [assigned] = await outbox(routing, "case.assigned", recovery_id)
        assert (assigned["agent_id"], assigned["reason"]) == ("ana", "recovery")
        [changed] = await outbox(routing, "case.status_changed", recovery_id)
        assert (changed["to_status"], changed["reason"]) == ("assigned", "recovery")
        [escalated] = await outbox(routing, "case.escalated", recovery_id)
        assert escalated["reason"] == "detractor"


async def test_a_satisfied_answer_records_step_7b(service_factory):
    async with service_factory("routing") as routing:
        case_id, _ = await resolved_complaint_handled_by_ana(routing)
        verified = await routing.client.post(
            f"/cases/{case_id}/steps/7a", json={"text": "refund arrived"}
        )
        assert verified.status_code in (200, 201), verified.text
        await emit(
            routing,
            SurveyAnswered(
                invitation_id=uuid.uuid4(),
                case_id=case_id,
                satisfaction=5,
                answered_at=datetime.now(UTC),
                questionnaire_kind="csat",
                customer_id=CUSTOMER,
                scores={"csat": 5.0},
            ),
            case_id,
        )
        body = await case_when(
            routing,
            case_id,
            lambda b: any(s["step"] == "7b" for s in b["steps"]),
            "step 7b was never recorded",
        )
        [seven_b] = [s for s in body["steps"] if s["step"] == "7b"]
        assert seven_b["author"] == "surveys"
        closed = await routing.client.post(f"/cases/{case_id}/close", json={})
        assert closed.status_code == 200, closed.text
        assert closed.json()["close_reason"] == "verified"
