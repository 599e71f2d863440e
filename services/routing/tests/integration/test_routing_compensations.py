"""Compensations on real PostgreSQL and RabbitMQ, with authentication on: a grant above the
agent's limit is asked of a supervisor, approved, and compensation.requested/approved/granted
reach the bus; grants racing against one customer's cap never exceed it; bad input is refused
naming the field and rule, and leaves the ledger untouched."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aio_pika
import jwt
import pytest

from atiende_contracts import CaseOpened, CaseType, Channel, Names
from atiende_routing.repository import PostgresUnitOfWork
from atiende_routing.usecases import compensations
from atiende_runtime.errors import Invalid
from atiende_testing import eventually

SECRET = "compensations-secret-at-least-32-bytes"
PROBLEM_JSON = "application/problem+json"


def bearer(subject, *roles):
    claims = {"sub": subject, "aud": "atiende", "roles": list(roles), "exp": time.time() + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, 'HS256')}"}


ADMIN = bearer("root", "admin")
ANA = bearer("ana", "agent")
MARTA = bearer("marta@example.com", "agent")  # a supervisor in routing, found by email


async def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def organisation(routing, *, agent_limit="25.00", catalogue=None):
    """Team care with ana (agent) and marta (supervisor), a voucher up to 300 EUR, limits."""
    client = routing.client
    await ok(await client.post("/teams", json={"id": "care", "name": "Care"}, headers=ADMIN), 201)
    for agent_id, rank in (("ana", "agent"), ("marta", "supervisor")):
        body = {
            "id": agent_id,
            "name": agent_id.title(),
            "email": f"{agent_id}@example.com",
            "teams": ["care"],
            "rank": rank,
        }
        await ok(await client.post("/agents", json=body, headers=ADMIN), 201)
    entry = {
        "code": "VOUCHER",
        "kind": "discount",
        "descriptions": {"es": "Un bono de descuento", "en": "A discount voucher"},
        "value_rule": "up_to",
        "maximum": "300.00",
        "currency": "EUR",
        "case_types": ["complaint", "claim"],
        "cost_centre": "CC-CARE",
        **(catalogue or {}),
    }
    await ok(await client.post("/compensation-catalogue", json=entry, headers=ADMIN), 201)
    for rank, limit in (("agent", agent_limit), ("supervisor", "200.00")):
        await ok(
            await client.put(
                f"/compensation-limits/{rank}/EUR", json={"max_amount": limit}, headers=ADMIN
            )
        )


async def open_case(routing, customer_id, motive="LATE_DELIVERY"):
    case_id = uuid.uuid4()
    async with routing.foreign_unit_of_work() as uow:
        await uow.emit(
            CaseOpened(
                case_id=case_id,
                case_number=f"AT-2026-{case_id.int % 1_000_000:06d}",
                customer_id=customer_id,
                customer_name="Lucía",
                customer_email="lucia@example.com",
                type=CaseType.COMPLAINT,
                channel=Channel.EMAIL,
                description="The parcel came a week late",
                motive=motive,
                language="es",
                opened_at=datetime.now(UTC),
            ),
            subject=case_id,
        )

    async def known():
        r = await routing.client.get(f"/cases/{case_id}", headers=ANA)
        return r.status_code == 200

    await eventually(known, timeout=15, message="routing never stored the case")
    return case_id


async def probe(amqp_url, broker_namespace):
    """A throwaway queue bound to every compensation event on the real exchange."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.get_exchange(Names(broker_namespace).events_exchange)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="compensation.#")
    return connection, queue


async def heard(queue, count):
    messages: list[tuple[str, dict]] = []

    async def enough():
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            messages.append((message.routing_key, json.loads(message.body)))
        return len(messages) >= count

    await eventually(enough, timeout=15, message=f"the bus carried {messages}")
    return messages


async def test_above_the_agents_limit_a_supervisor_approves_and_the_grant_is_on_the_bus(
    service_factory, amqp_url, broker_namespace
):
    async with service_factory("routing", jwt_secret=SECRET) as routing:
        client = routing.client
        await organisation(routing)
        customer = uuid.uuid4()
        case_id = await open_case(routing, customer)
        connection, queue = await probe(amqp_url, broker_namespace)
        try:
            ask = {"catalogue_code": "VOUCHER", "currency": "EUR", "amount": "150.00",
                   "reason": "second late delivery"}  # fmt: skip
            key = {"Idempotency-Key": "grant-1", **ANA}
            asked = await client.post(f"/cases/{case_id}/compensations", json=ask, headers=key)
            body = await ok(asked, 202)
            assert body["outcome"] == "requested"
            request = body["request"]
            assert (request["approver_rank"], request["requested_rank"], request["amount"]) == (
                "supervisor",
                "agent",
                "150.00",
            )
            assert asked.headers["location"] == f"/compensation-requests/{request['id']}"
            again = await client.post(f"/cases/{case_id}/compensations", json=ask, headers=key)
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json() == body

            mine = await ok(await client.get("/compensation-requests", headers=ANA))
            assert mine == []
            pending = await ok(await client.get("/compensation-requests", headers=MARTA))
            assert [r["id"] for r in pending] == [request["id"]]

            path = f"/compensation-requests/{request['id']}"
            refused = await client.post(
                f"{path}/approval", json={"reason": "fine by me"}, headers=ANA
            )
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == PROBLEM_JSON
            assert refused.json()["errors"][0]["rule"] == "approver_rank"

            approved = await ok(
                await client.post(f"{path}/approval", json={"reason": "loyal"}, headers=MARTA)
            )
            assert approved["request"]["status"] == "approved"
            assert approved["request"]["decided_rank"] == "supervisor"
            grant = approved["grant"]
            assert (grant["amount"], grant["approved_by"], grant["actor"]) == (
                "150.00",
                "marta@example.com",
                "ana",
            )
            twice = await client.post(f"{path}/rejection", json={"reason": "no"}, headers=MARTA)
            assert twice.status_code == 409, twice.text
            assert twice.json()["errors"][0]["rule"] == "decided_once"

            events = dict(await heard(queue, 3))
            assert set(events) == {
                "compensation.requested.v1",
                "compensation.approved.v1",
                "compensation.granted.v1",
            }
            granted = events["compensation.granted.v1"]
            assert (granted["case_id"], granted["customer_id"], granted["amount"]) == (
                str(case_id),
                str(customer),
                "150.00",
            )
            assert (granted["cost_centre"], granted["catalogue_version"], granted["kind"]) == (
                "CC-CARE",
                1,
                "discount",
            )
            assert granted["descriptions"]["es"] == "Un bono de descuento"

            back = await client.post(
                f"/compensations/{grant['grant_id']}/reversals",
                json={"amount": "50.00", "reason": "part of the order was returned"},
                headers=MARTA,
            )
            assert (await ok(back, 201))["remaining"] == "100.00"
            too_much = await client.post(
                f"/compensations/{grant['grant_id']}/reversals",
                json={"amount": "100.01", "reason": "all of it"},
                headers=MARTA,
            )
            assert too_much.status_code == 422, too_much.text
            assert too_much.json()["errors"][0] == {
                "field": "amount",
                "rule": "remaining",
                "message": too_much.json()["errors"][0]["message"],
            }
            reversed_event = dict(await heard(queue, 1))["compensation.reversed.v1"]
            assert (reversed_event["amount"], reversed_event["remaining"]) == ("50.00", "100.00")

            ledger = await ok(
                await client.get("/compensations", params={"case_id": str(case_id)}, headers=ANA)
            )
            assert [e["amount"] for e in ledger["items"]] == ["-50.00", "150.00"]
            assert ledger["totals"] == [
                {
                    "currency": "EUR",
                    "granted": "150.00",
                    "reversed": "50.00",
                    "net": "100.00",
                    "grants": 1,
                    "reversals": 1,
                }
            ]
        finally:
            await connection.close()


async def test_a_retried_decision_replays_its_answer_and_another_decision_is_refused(
    service_factory,
):
    async with service_factory("routing", jwt_secret=SECRET) as routing:
        client = routing.client
        await organisation(routing)
        case_id = await open_case(routing, uuid.uuid4())
        ask = {"catalogue_code": "VOUCHER", "currency": "EUR", "amount": "150.00"}
        paths = []
        for _ in range(2):
            asked = await client.post(f"/cases/{case_id}/compensations", json=ask, headers=ANA)
            paths.append(f"/compensation-requests/{(await ok(asked, 202))['request']['id']}")
        to_approve, to_reject = paths
        decision = {"reason": "a loyal customer"}
        key = {"Idempotency-Key": "decide-once", **MARTA}

        approved = await ok(await client.post(f"{to_approve}/approval", json=decision, headers=key))
        retried = await client.post(f"{to_approve}/approval", json=decision, headers=key)
        assert retried.status_code == 200, retried.text
        assert retried.headers["idempotent-replayed"] == "true"
        assert retried.json() == approved
        # a retry without the key, and the other decision, find the request decided
        for route, headers in (("approval", MARTA), ("rejection", key)):
            again = await client.post(f"{to_approve}/{route}", json=decision, headers=headers)
            assert again.status_code == 409, (route, again.text)
            assert again.json()["errors"][0]["rule"] == "decided_once"
        reused = await client.post(
            f"{to_approve}/approval", json={"reason": "another reason"}, headers=key
        )
        assert reused.status_code == 422, reused.text

        rejected = await ok(await client.post(f"{to_reject}/rejection", json=decision, headers=key))
        assert rejected["status"] == "rejected"
        replayed = await client.post(f"{to_reject}/rejection", json=decision, headers=key)
        assert replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json() == rejected
        changed_mind = await client.post(f"{to_reject}/approval", json=decision, headers=MARTA)
        assert changed_mind.status_code == 409, changed_mind.text

        # one approval, one grant: the replay granted nothing more
        ledger = await ok(
            await client.get("/compensations", params={"case_id": str(case_id)}, headers=ANA)
        )
        assert [e["grant_id"] for e in ledger["items"]] == [approved["grant"]["grant_id"]]


async def test_grants_racing_against_one_customers_cap_never_exceed_it(service_factory):
    async with service_factory("routing", jwt_secret=SECRET) as routing:
        client = routing.client
        await organisation(routing, agent_limit="100.00")
        cap = {"max_amount": "100.00", "currency": "EUR", "period_unit": "months",
               "period_length": 12}  # fmt: skip
        await ok(await client.put("/compensation-caps/year", json=cap, headers=ADMIN))
        customer = uuid.uuid4()
        # several cases of one customer, so the case locks do not serialise the grants
        cases = [await open_case(routing, customer) for _ in range(3)]
        grant = {"catalogue_code": "VOUCHER", "currency": "EUR", "amount": "30.00"}
        answers = await asyncio.gather(
            *(
                client.post(f"/cases/{cases[n % 3]}/compensations", json=grant, headers=ANA)
                for n in range(8)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] * 3 + [422] * 5, [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 422)
        assert refused.json()["errors"][0]["rule"] == "customer_cap"
        ledger = await ok(
            await client.get("/compensations", params={"customer_id": str(customer)}, headers=ANA)
        )
        assert [t["net"] for t in ledger["totals"]] == ["90.00"]
        assert Decimal(ledger["totals"][0]["net"]) <= Decimal(cap["max_amount"])


async def test_bad_input_is_refused_naming_the_rule_and_the_ledger_stays_empty(service_factory):
    async with service_factory("routing", jwt_secret=SECRET, require_steps=False) as routing:
        client = routing.client
        await organisation(routing, catalogue={"motives": ["LATE_DELIVERY"]})
        past = {
            "code": "XMAS",
            "kind": "courtesy_gift",
            "descriptions": {"es": "Un regalo"},
            "value_rule": "fixed",
            "amount": "10.00",
            "currency": "EUR",
            "valid_until": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        }
        await ok(await client.post("/compensation-catalogue", json=past, headers=ADMIN), 201)
        case_id = await open_case(routing, uuid.uuid4())
        other_motive = await open_case(routing, uuid.uuid4(), motive="BILLING")
        grant = {"catalogue_code": "VOUCHER", "currency": "EUR", "amount": "20.00"}

        for case, change, field, rule in (
            (case_id, {"currency": "USD"}, "currency", "catalogue_currency"),
            (case_id, {"amount": "300.01"}, "amount", "catalogue_maximum"),
            (case_id, {"catalogue_code": "XMAS", "amount": None}, "catalogue_code", "validity"),
            (other_motive, {}, "catalogue_code", "motive"),
            (case_id, {"catalogue_code": "NOPE"}, "catalogue_code", "unknown"),
            (case_id, {"amount": "1.234"}, "amount", "decimal_max_places"),
            (case_id, {"currency": "euro"}, "currency", None),
        ):
            body = {k: v for k, v in {**grant, **change}.items() if v is not None}
            refused = await client.post(f"/cases/{case}/compensations", json=body, headers=ANA)
            assert refused.status_code == 422, (change, refused.text)
            assert refused.headers["content-type"] == PROBLEM_JSON
            errors = refused.json()["errors"]
            assert errors[0]["field"] == field, (change, errors)
            if rule:
                assert errors[0]["rule"] == rule, (change, errors)

        unknown_case = await client.post(
            f"/cases/{uuid.uuid4()}/compensations", json=grant, headers=ANA
        )
        assert unknown_case.status_code == 404
        unknown_request = await client.post(
            f"/compensation-requests/{uuid.uuid4()}/approval", json={"reason": "x"}, headers=MARTA
        )
        assert unknown_request.status_code == 404
        not_admin = await client.put(
            "/compensation-limits/agent/EUR", json={"max_amount": "1000"}, headers=MARTA
        )
        assert not_admin.status_code == 403

        await ok(
            await client.post(
                f"/cases/{case_id}/resolve",
                json={"root_cause": {"category": "isolated_incident"}},
                headers=ANA,
            )
        )
        await ok(await client.post(f"/cases/{case_id}/close", json={}, headers=ANA))
        closed = await client.post(f"/cases/{case_id}/compensations", json=grant, headers=ANA)
        assert closed.status_code == 409, closed.text
        assert closed.json()["errors"][0] == {
            "field": "case_id",
            "rule": "case_closed",
            "message": "a closed case takes no compensation",
        }

        ledger = await ok(await client.get("/compensations", headers=ADMIN))
        assert (ledger["items"], ledger["totals"]) == ([], [])
        async with routing.runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM compensation_requests") == 0
            assert await conn.fetchval("SELECT count(*) FROM compensation_ledger") == 0


async def test_a_grant_waits_for_a_concurrent_grant_to_the_same_customer_then_sees_it(
    service_factory,
):
    """Two transactions interleaved by hand: the second grant is decided while the first has not
    committed. The customer's lock makes it wait, then count the first, so the cap holds."""
    async with service_factory("routing", jwt_secret=SECRET) as routing:
        client = routing.client
        await organisation(routing, agent_limit="100.00")
        cap = {"max_amount": "100.00", "currency": "EUR", "period_unit": "days",
               "period_length": 30}  # fmt: skip
        await ok(await client.put("/compensation-caps/month", json=cap, headers=ADMIN))
        customer = uuid.uuid4()
        first_case, second_case = [await open_case(routing, customer) for _ in range(2)]
        actor = compensations.Actor("ana", frozenset({"agent"}))

        async def give(case_id):
            async with routing.runtime.unit_of_work() as tx:
                return await compensations.grant_on_case(
                    PostgresUnitOfWork(tx),
                    case_id,
                    catalogue_code="VOUCHER",
                    currency="EUR",
                    amount=Decimal("80.00"),
                    order_value=None,
                    cost_centre=None,
                    reason=None,
                    actor=actor,
                    now=datetime.now(UTC),
                )

        async with routing.runtime.unit_of_work() as tx:
            first = await compensations.grant_on_case(
                PostgresUnitOfWork(tx),
                first_case,
                catalogue_code="VOUCHER",
                currency="EUR",
                amount=Decimal("80.00"),
                order_value=None,
                cost_centre=None,
                reason=None,
                actor=actor,
                now=datetime.now(UTC),
            )
            second = asyncio.create_task(give(second_case))
            # room for the second grant to read the customer's grants before this one commits,
            # were nothing serialising them
            await asyncio.sleep(0.5)
        assert first.grant is not None
        with pytest.raises(Invalid) as refused:
            await second
        assert [(e.field, e.rule) for e in refused.value.errors] == [("amount", "customer_cap")]
        async with routing.runtime.pool.acquire() as conn:
            total = await conn.fetchval(
                "SELECT sum(amount) FROM compensation_ledger WHERE customer_id = $1", customer
            )
        assert total == Decimal("80.00")
