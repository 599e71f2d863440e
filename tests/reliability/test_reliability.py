"""Nothing lost, nothing doubled — proved against real processes, the real broker and database:
a redelivered event has one effect; `kill -9` of a consumer mid-stream loses and doubles nothing;
a malformed message is parked after the delivery limit while the rest keeps flowing."""

import asyncio
import contextlib
import json

import aio_pika
import asyncpg
import httpx
import pytest

from atiende_contracts import Names
from atiende_runtime.outbox import envelope_of, to_amqp_message
from atiende_runtime.parking import list_parked
from atiende_testing import eventually

pytestmark = pytest.mark.reliability


def new_case(i):
    return {
        "customer": {"name": f"Cliente {i}", "email": f"cliente{i}@example.com"},
        "type": "claim",
        "channel": "phone",
        "description": f"Reclamo número {i}",
    }


async def test_kill_9_of_routing_while_cases_flow_assigns_every_case_exactly_once(
    cluster_factory, database_url
):
    cluster = cluster_factory("intake", "routing")
    await cluster.start()
    intake, routing = cluster["intake"], cluster["routing"]
    total, killed_after = 240, 80
    created = []
    async with httpx.AsyncClient(timeout=15, headers=cluster.headers()) as http:
        semaphore = asyncio.Semaphore(8)

        async def open_case(i):
            async with semaphore:
                r = await http.post(f"{intake.url}/cases", json=new_case(i))
                assert r.status_code == 201, r.text
                created.append(r.json()["id"])
                if len(created) == killed_after:
                    routing.kill()  # SIGKILL while it is consuming: no ack, no graceful anything

        await asyncio.gather(*(open_case(i) for i in range(total)))
    assert routing.proc.poll() is not None, "routing was not killed mid-stream"
    routing.start()
    await routing.wait_ready()

    conn = await asyncpg.connect(database_url)
    try:

        async def all_assigned():
            return (
                await conn.fetchval("SELECT count(*) FROM routing.cases WHERE status = 'assigned'")
                == total
            )

        await eventually(
            all_assigned, timeout=60, message="not every case was assigned after restart"
        )
        rows = await conn.fetch("SELECT id, assignments FROM routing.cases")
        assert sorted(str(r["id"]) for r in rows) == sorted(created)  # nothing lost, nothing extra
        assert {r["assignments"] for r in rows} == {1}  # nothing assigned twice
        per_case = await conn.fetch(
            """SELECT subject, count(*) AS n FROM routing.outbox
               WHERE routing_key = 'case.assigned.v1' GROUP BY subject"""
        )
        assert len(per_case) == total
        assert {r["n"] for r in per_case} == {1}  # one case.assigned event per case
    finally:
        await conn.close()


async def test_a_redelivered_event_has_one_effect_in_every_consumer(
    cluster_factory, database_url, amqp_url, broker_namespace, smtp_sink
):
    cluster = cluster_factory("intake", "routing", "notifications", "indicators", "surveys")
    await cluster.start()
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        r = await http.post(f"{cluster['intake'].url}/cases", json=new_case(1))
        assert r.status_code == 201
        case = r.json()
        await smtp_sink.wait_for(lambda m: case["number"] in (m["Subject"] or ""))

        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow(
                "SELECT * FROM intake.outbox WHERE routing_key = 'case.opened.v1' AND subject = $1",
                case["id"],
            )
            assert row["published_at"] is not None
            connection = await aio_pika.connect(amqp_url)
            async with connection:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await channel.get_exchange(Names(broker_namespace).events_exchange)
                # the very same event again, as a redelivery after a lost ack would bring it
                await exchange.publish(
                    to_amqp_message(envelope_of(row)), routing_key=row["routing_key"]
                )

            def all_saw_the_duplicate():
                return all(
                    any("duplicate event ignored" in line for line in cluster[name].log_lines())
                    for name in ("routing", "notifications", "indicators", "surveys")
                )

            await eventually(all_saw_the_duplicate, timeout=30, message="a consumer never saw it")
            assert (
                await conn.fetchval(
                    "SELECT assignments FROM routing.cases WHERE id = $1", row["subject"]
                )
                == 1
            )
        finally:
            await conn.close()

        await asyncio.sleep(1.0)  # give a (wrong) second email time to arrive before counting
        assert len([m for m in smtp_sink.messages if case["number"] in (m["Subject"] or "")]) == 1
        figures = (await http.get(f"{cluster['indicators'].url}/indicators")).json()
        assert figures["cases_opened"] == 1


async def test_a_malformed_message_is_parked_after_the_delivery_limit_while_others_flow(
    cluster_factory, amqp_url, broker_namespace
):
    cluster = cluster_factory("intake", "routing", ATIENDE_DELIVERY_LIMIT="3")
    await cluster.start()
    names = Names(broker_namespace)
    queue = names.queue("routing", "assign-case")
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(names.events_exchange)
        await exchange.publish(
            aio_pika.Message(b"{not json", content_type="application/json"),
            routing_key="case.opened.v1",
        )
        async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
            r = await http.post(f"{cluster['intake'].url}/cases", json=new_case(7))
            assert r.status_code == 201
            case_id = r.json()["id"]

            async def assigned():
                got = await http.get(f"{cluster['routing'].url}/cases/{case_id}")
                return got.status_code == 200 and got.json()["status"] == "assigned"

            await eventually(
                assigned, message="a good message stopped flowing behind the poison one"
            )

        async def parked_count():
            q = await channel.declare_queue(names.parking_queue(queue), passive=True)
            return q.declaration_result.message_count

        assert (
            await eventually(parked_count, timeout=30, message="poison message never parked") == 1
        )
        main = await channel.declare_queue(queue, passive=True)
        assert main.declaration_result.message_count == 0
        [parked] = [json.loads(item) for item in await list_parked(amqp_url, queue, 10)]
        assert parked["reason"] == "delivery_limit"
        assert parked["body"] == "{not json"
        with contextlib.suppress(Exception):
            await channel.close()
