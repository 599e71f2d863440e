"""Triage over HTTP on the real database: PATCH /cases/{id} with If-Match (428 without, 412 when
stale) emits case.reclassified with before and after; a contact split off a case opens a related
case; two cases of one customer merge; a contact about a resolved case carries its status; the
customer's history shows what other services said."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from atiende_contracts import CaseAssigned, CaseResolved, CommitmentMade
from atiende_testing import eventually


async def fetch(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(query, *args)


async def events(svc, routing_key):
    rows = await fetch(
        svc, "SELECT data FROM outbox WHERE routing_key = $1 ORDER BY position", routing_key
    )
    return [r["data"] for r in rows]


async def post_contact(svc, **changes):
    body = {
        "customer": {"name": "Ana Ruiz", "email": "ana@example.com"},
        "kind": "claim",
        "channel": "phone",
        "text": "Mi pedido no ha llegado",
        **changes,
    }
    answer = await svc.client.post("/contacts", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_reclassifying_needs_if_match_and_emits_before_and_after(service_factory):
    async with service_factory("intake") as intake:
        opened = await post_contact(intake)
        case_id = opened["case"]["id"]
        read = await intake.client.get(f"/cases/{case_id}")
        etag = read.headers["ETag"]
        change = {"motive": "DELIVERY", "cause": "DELIVERY_LATE", "severity": "high",
                  "upset": True, "reason": "Es un retraso de entrega"}  # fmt: skip

        missing = await intake.client.patch(f"/cases/{case_id}", json=change)
        assert missing.status_code == 428, missing.text
        no_reason = await intake.client.patch(
            f"/cases/{case_id}", json={"motive": "DELIVERY"}, headers={"If-Match": etag}
        )
        assert no_reason.status_code == 422

        changed = await intake.client.patch(
            f"/cases/{case_id}", json=change, headers={"If-Match": etag}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["motive"] == "DELIVERY"
        assert changed.json()["cause"] == "DELIVERY_LATE"
        assert changed.headers["ETag"] != etag

        stale = await intake.client.patch(
            f"/cases/{case_id}",
            json={"motive": "BILLING", "reason": "otra vez"},
            headers={"If-Match": etag},
        )
        assert stale.status_code == 412, stale.text
        assert stale.json()["current_version"] == 2

        [event] = await events(intake, "case.reclassified.v1")
        assert event["before"]["motive"] == "OTHER"
        assert event["after"] == {
            "type": "claim",
            "motive": "DELIVERY",
            "cause": "DELIVERY_LATE",
            "touchpoint": None,
            "product": None,
            "severity": "high",
            "upset": True,
        }
        assert event["reason"] == "Es un retraso de entrega"
        assert event["case_id"] == case_id


async def test_an_unknown_code_is_a_422_naming_the_field(service_factory):
    async with service_factory("intake") as intake:
        opened = await post_contact(intake)
        case_id = opened["case"]["id"]
        etag = (await intake.client.get(f"/cases/{case_id}")).headers["ETag"]
        answer = await intake.client.patch(
            f"/cases/{case_id}",
            json={"motive": "NOPE", "reason": "x"},
            headers={"If-Match": etag},
        )
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "motive"


async def test_split_and_merge(service_factory):
    async with service_factory("intake") as intake:
        first = await post_contact(intake, motive="DELIVERY")
        second = await post_contact(intake, motive="DELIVERY", text="Y me cobraron dos veces")
        case_id = first["case"]["id"]
        assert second["case"]["id"] == case_id

        split = await intake.client.post(
            f"/cases/{case_id}/contacts/{second['id']}/split",
            json={"reason": "Es otro problema", "motive": "BILLING"},
        )
        assert split.status_code == 201, split.text
        new_case = split.json()["case"]
        assert new_case["related_case_id"] == case_id
        assert new_case["motive"] == "BILLING"
        opened = await events(intake, "case.opened.v1")
        assert opened[-1]["case_id"] == new_case["id"]
        assert opened[-1]["related_case_id"] == case_id

        merged = await intake.client.post(
            f"/cases/{new_case['id']}/merge",
            json={"into_case_id": case_id, "reason": "Era el mismo pedido"},
        )
        assert merged.status_code == 200, merged.text
        assert merged.json()["absorbed"]["status"] == "closed"
        assert merged.json()["absorbed"]["merged_into"] == case_id
        assert merged.json()["moved_contact_ids"] == [second["id"]]
        [event] = await events(intake, "case.merged.v1")
        assert (event["case_id"], event["into_case_id"]) == (new_case["id"], case_id)
        contacts = (await intake.client.get(f"/cases/{case_id}/contacts")).json()["items"]
        assert [c["id"] for c in contacts] == [first["id"], second["id"]]

        again = await intake.client.post(
            f"/cases/{new_case['id']}/merge", json={"into_case_id": case_id, "reason": "x"}
        )
        assert again.status_code == 409


async def test_a_contact_about_a_resolved_case_carries_its_status(service_factory):
    async with service_factory("intake") as intake:
        first = await post_contact(intake, motive="DELIVERY")
        case_id = uuid.UUID(first["case"]["id"])
        async with intake.foreign_unit_of_work() as uow:
            await uow.emit(
                CaseResolved(
                    case_id=case_id,
                    case_number=first["case"]["number"],
                    resolution="Entregado",
                    resolved_at=datetime.now(UTC),
                ),
                subject=case_id,
            )

        async def resolved():
            rows = await fetch(intake, "SELECT status FROM cases WHERE id = $1", case_id)
            return rows[0]["status"] == "resolved"

        await eventually(resolved, message="intake never learnt the resolution")
        await post_contact(intake, case_number=first["case"]["number"], upset=True)

        [linked] = await events(intake, "case.contact_linked.v1")
        assert (linked["case_status"], linked["upset"]) == ("resolved", True)


async def test_the_history_shows_what_other_services_said(service_factory):
    async with service_factory("intake") as intake:
        first = await post_contact(intake, motive="DELIVERY")
        case_id = uuid.UUID(first["case"]["id"])
        number = first["case"]["number"]
        now = datetime.now(UTC)
        async with intake.foreign_unit_of_work() as uow:
            await uow.emit(
                CaseAssigned(case_id=case_id, case_number=number, team="general",
                             agent_id="agent-7", assigned_at=now),
                subject=case_id,
            )  # fmt: skip
            await uow.emit(
                CommitmentMade(
                    commitment_id=uuid.uuid4(), case_id=case_id, case_number=number,
                    description="Llamar antes de las 12", due_at=now, owner_id="agent-7",
                    made_at=now,
                ),
                subject=case_id,
            )  # fmt: skip

        async def kept():
            return len(await fetch(intake, "SELECT 1 FROM case_facts")) == 2

        await eventually(kept, message="intake never kept the facts")
        history = await intake.client.get(
            f"/customers/{first['customer_id']}/history", params={"limit": 2}
        )
        assert history.status_code == 200, history.text
        items = history.json()["items"]
        assert [i["type"] for i in items] == ["event", "event"]
        assert {i["event_type"] for i in items} == {"case.assigned", "commitment.made"}
        assert all(i["case_number"] == number for i in items)
        rest = await intake.client.get(
            f"/customers/{first['customer_id']}/history",
            params={"cursor": history.json()["next_cursor"]},
        )
        assert [i["type"] for i in rest.json()["items"]] == ["contact", "case"] or [
            i["type"] for i in rest.json()["items"]
        ] == ["case", "contact"]
