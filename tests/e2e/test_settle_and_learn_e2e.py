"""Settle and learn through the five services as real processes (issue 11): a late-delivery
complaint opened through intake is settled with a courtesy above its agent's limit, which a
supervisor approves — the customer is told by email and indicators count the cost — and resolved
blaming the delivery procedure; four more such complaints open one problem whose magnitude shows
five cases and that cost; resolving the problem tells the customer whose case is still open."""

import json
from decimal import Decimal

import aio_pika
import httpx
import pytest

from atiende_contracts import Names
from atiende_testing import eventually

pytestmark = pytest.mark.e2e

MOTIVE = "DELIVERY"
PROCEDURE = "courier-handover"
BLAME = {"category": "procedure_design_fault", "procedure": PROCEDURE}
GIFT_WORDS = "Una cesta de productos de temporada"


def body_text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return message.get_payload()


async def bus_probe(amqp_url: str, namespace: str):
    """A throwaway queue on the real exchange, hearing every compensation and problem event."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.get_exchange(Names(namespace).events_exchange)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for key in ("compensation.#", "problem.#"):
        await queue.bind(exchange, routing_key=key)
    return connection, queue


class Heard:
    """What the probe has heard so far, by event type."""

    def __init__(self, queue) -> None:
        self.queue = queue
        self.events: list[tuple[str, dict]] = []

    async def wait_for(self, event_type: str, count: int = 1) -> list[dict]:
        async def enough():
            while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
                self.events.append((message.routing_key, json.loads(message.body)))
            found = [data for key, data in self.events if key == f"{event_type}.v1"]
            return len(found) >= count and found

        return await eventually(
            enough, timeout=30, message=f"{event_type} never reached the bus: {self.events}"
        )


async def test_a_courtesy_approved_above_the_limit_and_five_complaints_open_a_problem(
    cluster, smtp_sink, amqp_url, broker_namespace
):
    intake, routing, indicators = cluster["intake"], cluster["routing"], cluster["indicators"]
    admin = httpx.AsyncClient(timeout=15, headers=cluster.headers("admin", sub="root"))
    ana = httpx.AsyncClient(timeout=15, headers=cluster.headers("agent", sub="ana"))
    marta = httpx.AsyncClient(timeout=15, headers=cluster.headers("supervisor", sub="marta"))
    connection, queue = await bus_probe(amqp_url, broker_namespace)
    heard = Heard(queue)
    try:
        # --- the organisation: Ana works the cases, Marta is a supervisor who approves
        for body in (
            {
                "id": "ana",
                "name": "Ana",
                "email": "ana@example.com",
                "rank": "agent",
                "availability": "available",
                "capacity": {"total": 10},
            },
            {"id": "marta", "name": "Marta", "email": "marta@example.com", "rank": "supervisor"},
        ):
            made = await admin.post(f"{routing.url}/agents", json={**body, "teams": ["general"]})
            assert made.status_code == 201, made.text

        # --- managed data: the catalogue, the limits, the procedure and the problem threshold
        entry = await admin.post(
            f"{routing.url}/compensation-catalogue",
            json={
                "code": "SEASON-BASKET",
                "kind": "courtesy_gift",
                "descriptions": {"es": GIFT_WORDS, "en": "A basket of seasonal produce"},
                "value_rule": "up_to",
                "maximum": "300.00",
                "currency": "EUR",
                "case_types": ["complaint"],
                "motives": [MOTIVE],
                "cost_centre": "CC-DELIVERY",
            },
        )
        assert entry.status_code == 201, entry.text
        for rank, limit in (("agent", "25.00"), ("supervisor", "200.00")):
            set_limit = await admin.put(
                f"{routing.url}/compensation-limits/{rank}/EUR", json={"max_amount": limit}
            )
            assert set_limit.status_code == 200, set_limit.text
        procedure = await admin.post(
            f"{routing.url}/procedures",
            json={
                "code": PROCEDURE,
                "motive": MOTIVE,
                "texts": {
                    "es": {
                        "title": "Entrega fallida por el transportista",
                        "steps": [
                            "Le confirmamos hoy dónde está su paquete",
                            "Acordamos con usted una nueva entrega",
                        ],
                    }
                },
            },
        )
        assert procedure.status_code == 201, procedure.text
        threshold = await admin.post(
            f"{routing.url}/problem-thresholds",
            json={
                "id": "courier-failures",
                "name": "Failed courier handovers",
                "motive": MOTIVE,
                "root_cause": "procedure_design_fault",
                "cases": 5,
                "window_hours": 24,
                "owner": "marta",
            },
        )
        assert threshold.status_code == 201, threshold.text

        async def open_complaint(n: int) -> dict:
            """Through intake, as the customer's call is recorded; routed to Ana."""
            created = await ana.post(
                f"{intake.url}/cases",
                json={
                    "customer": {"name": f"Cliente {n}", "email": f"cliente{n}@example.com"},
                    "type": "complaint",
                    "channel": "phone",
                    "motive": MOTIVE,
                    "description": f"El repartidor dejó el paquete {n} en otra dirección",
                },
            )
            assert created.status_code == 201, created.text
            case = created.json()

            async def assigned():
                r = await ana.get(f"{routing.url}/cases/{case['id']}")
                return r.status_code == 200 and r.json()["agent_id"] == "ana" and r.json()

            await eventually(assigned, timeout=30, message=f"{case['number']} never reached Ana")
            return case

        async def resolve(case: dict) -> None:
            url = f"{routing.url}/cases/{case['id']}"
            for step, body in (
                ("3", {"text": "Quiere recibir el paquete esta semana"}),
                ("4", {"text": "¿Se lo llevamos el jueves?", "confirmed": True}),
                (
                    "5",
                    {
                        "text": "Entrega el jueves o recogida en tienda",
                        "options": ["jueves", "tienda"],
                        "chosen": "jueves",
                    },
                ),
                ("6", {"text": "Entrega reprogramada para el jueves"}),
            ):
                walked = await ana.post(f"{url}/steps/{step}", json=body)
                assert walked.status_code == 200, walked.text
            resolved = await ana.post(
                f"{url}/resolve",
                json={"resolution": "Paquete entregado el jueves", "root_cause": BLAME},
            )
            assert resolved.status_code == 200, resolved.text
            assert (resolved.json()["root_cause"], resolved.json()["root_cause_procedure"]) == (
                "procedure_design_fault",
                PROCEDURE,
            )

        # --- the first complaint, and the procedure in force for it
        first = await open_complaint(1)
        in_force = await ana.get(f"{routing.url}/cases/{first['id']}/procedure")
        assert in_force.status_code == 200, in_force.text
        assert in_force.json()["code"] == PROCEDURE

        # --- Ana offers 150 EUR, above her 25 EUR: the request goes to the supervisors
        asked = await ana.post(
            f"{routing.url}/cases/{first['id']}/compensations",
            json={
                "catalogue_code": "SEASON-BASKET",
                "currency": "EUR",
                "amount": "150.00",
                "reason": "third failed delivery",
            },
            headers={"Idempotency-Key": f"basket-{first['id']}"},
        )
        assert asked.status_code == 202, asked.text
        request = asked.json()["request"]
        assert (request["approver_rank"], request["status"]) == ("supervisor", "pending")
        [requested] = await heard.wait_for("compensation.requested")
        assert (requested["case_id"], requested["amount"]) == (first["id"], "150.00")
        # notifications asks the supervisors it knows from routing: Marta, by email
        await smtp_sink.wait_for(lambda m: "marta@example.com" in (m.get("To") or ""))
        nothing_yet = await ana.get(f"{routing.url}/compensations", params={"case_id": first["id"]})
        assert nothing_yet.json()["items"] == []

        # --- Marta (a supervisor in routing, found by her token's subject) approves
        pending = await marta.get(f"{routing.url}/compensation-requests")
        assert [r["id"] for r in pending.json()] == [request["id"]]
        approved = await marta.post(
            f"{routing.url}/compensation-requests/{request['id']}/approval",
            json={"reason": "a loyal customer, third failure in a month"},
        )
        assert approved.status_code == 200, approved.text
        grant = approved.json()["grant"]
        assert (grant["actor"], grant["approved_by"]) == ("ana", "marta")
        [granted] = await heard.wait_for("compensation.granted")
        assert (granted["grant_id"], granted["amount"]) == (grant["grant_id"], "150.00")

        ledger = (
            await ana.get(f"{routing.url}/compensations", params={"case_id": first["id"]})
        ).json()
        assert [(e["amount"], e["currency"], e["cost_centre"]) for e in ledger["items"]] == [
            ("150.00", "EUR", "CC-DELIVERY")
        ]
        assert [(t["net"], t["grants"]) for t in ledger["totals"]] == [("150.00", 1)]

        # the customer is told what she gets, in the catalogue's words
        [told] = await smtp_sink.wait_for(
            lambda m: "cliente1@example.com" in (m.get("To") or "") and GIFT_WORDS in body_text(m)
        )
        assert first["number"] in body_text(told)

        # indicators counts it as the cost of loyalty
        async def costed():
            r = await marta.get(
                f"{indicators.url}/indicators/compensation-costs",
                params={"period": "day", "kind": "courtesy_gift", "currency": "EUR"},
            )
            assert r.status_code == 200, r.text
            return r.json() or False

        [cost] = await eventually(costed, timeout=30, message="indicators never saw the grant")
        assert (Decimal(cost["granted"]), Decimal(cost["net"]), cost["grants"]) == (
            Decimal("150.00"),
            Decimal("150.00"),
            1,
        )

        # --- resolved blaming the procedure; four more such complaints open one problem
        await resolve(first)
        others = [await open_complaint(n) for n in range(2, 6)]
        for case in others[:3]:
            await resolve(case)
        assert (await ana.get(f"{routing.url}/problems")).json() == []
        await resolve(others[3])

        [detected] = await heard.wait_for("problem.detected")
        five = [first, *others]
        assert sorted(detected["case_ids"]) == sorted(c["id"] for c in five)
        [problem] = (await ana.get(f"{routing.url}/problems", params={"status": "open"})).json()
        assert (problem["id"], problem["owner"]) == (detected["problem_id"], "marta")
        detail = (await ana.get(f"{routing.url}/problems/{problem['id']}")).json()
        magnitude = detail["magnitude"]
        assert (magnitude["cases"], magnitude["customers"], magnitude["open_cases"]) == (5, 5, 0)
        assert {k: Decimal(v) for k, v in magnitude["compensation"].items()} == {
            "EUR": Decimal("150.00")
        }

        # --- a sixth customer calls about the same thing: the open case joins the problem
        sixth = await open_complaint(6)
        [linked] = await heard.wait_for("problem.case_linked")
        assert (linked["case_id"], linked["reason"]) == (sixth["id"], "automatic")
        joined = (await ana.get(f"{routing.url}/cases/{sixth['id']}/problems")).json()
        assert [p["id"] for p in joined] == [problem["id"]]

        # --- the problem is resolved: the customer whose case is still open is told
        fixed = await marta.post(
            f"{routing.url}/problems/{problem['id']}/resolve",
            json={"resolution": "Courier now photographs every handover"},
        )
        assert fixed.status_code == 200, fixed.text
        [resolved_event] = await heard.wait_for("problem.resolved")
        assert [c["case_id"] for c in resolved_event["open_cases"]] == [sixth["id"]]
        [news] = await smtp_sink.wait_for(
            lambda m: (
                "cliente6@example.com" in (m.get("To") or "") and problem["title"] in body_text(m)
            )
        )
        assert sixth["number"] in body_text(news)
        # the five resolved customers hear nothing about the problem
        assert not [
            m
            for c in five
            for m in smtp_sink.to(c["customer_email"])
            if problem["title"] in body_text(m)
        ]
    finally:
        await connection.close()
        for client in (admin, ana, marta):
            await client.aclose()
