"""The right to erasure, proved on the whole platform: a customer with a distinctive name, email,
phone and document goes through all five services (real processes, PostgreSQL, RabbitMQ, an SMTP
server): a complaint opened with an Idempotency-Key, routed, worked through the steps with a
promise and an escalation, resolved and closed, surveyed and answered with a comment naming them
(a detractor answer, so routing also opens a recovery case), mailed at every turn. Then intake
erases the customer and, once every service has handled `customer.erased`, every text, jsonb and
array column of every table in every schema is searched for any of their data: nothing. The
indicators' figures are the same as before the erasure."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from atiende_testing import eventually

pytestmark = pytest.mark.e2e

SCHEMAS = ("intake", "routing", "surveys", "notifications", "indicators")
CONSUMERS_OF_ERASURE = ("routing", "surveys", "notifications", "indicators")

NAME = "Remedios Quintanilla-Arrebola"
SURNAME = "Quintanilla-Arrebola"
EMAIL = "remedios.quintanilla@example.org"
PHONE = "+34 612 345 678"
DOCUMENT = "X4471953L"
# what must be found nowhere afterwards (matched case-insensitively; the phone with and without
# spaces, as clients write it and as intake normalises it)
NEEDLES = (NAME, SURNAME, EMAIL, PHONE, PHONE.replace(" ", ""), DOCUMENT)

# column types that can hold text; arrays are searched through their text form
SEARCHED_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


def body_text(message):
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return message.get_payload()


async def searchable_columns(conn):
    return await conn.fetch(
        """SELECT table_schema, table_name, column_name
           FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'
             AND c.data_type = ANY($2::text[])
           ORDER BY 1, 2, 3""",
        list(SCHEMAS),
        list(SEARCHED_TYPES),
    )


async def find_everywhere(conn, needles):
    """Every (schema.table.column, value) whose text contains one of the needles."""
    patterns = [f"%{n}%" for n in needles]
    hits = []
    for col in await searchable_columns(conn):
        qualified = f'"{col["table_schema"]}"."{col["table_name"]}"'
        column = f'"{col["column_name"]}"'
        rows = await conn.fetch(
            f"SELECT {column}::text AS v FROM {qualified} WHERE {column}::text ILIKE ANY($1)",
            patterns,
        )
        hits += [
            (f"{col['table_schema']}.{col['table_name']}.{col['column_name']}", r["v"])
            for r in rows
        ]
    return hits


async def quiet(conn):
    """Nothing left to publish or deliver anywhere: no copy is still on its way. (A delivery held
    for quiet hours waits; erasure must scrub it where it waits.)"""
    for schema in SCHEMAS:
        if await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"):
            return False
    pending = await conn.fetchval(
        "SELECT count(*) FROM notifications.deliveries"
        " WHERE status = 'pending' AND next_attempt_at <= now()"
    )
    return pending == 0


async def test_an_erased_customer_is_found_in_no_schema(cluster, smtp_sink, database_url):
    intake, routing, surveys = cluster["intake"], cluster["routing"], cluster["surveys"]
    indicators = cluster["indicators"]
    db = await asyncpg.connect(database_url)
    try:
        async with httpx.AsyncClient(timeout=10, headers=cluster.headers(sub="ana")) as http:
            agent = await http.post(
                f"{routing.url}/agents",
                json={
                    "id": "ana",
                    "name": "Ana",
                    "email": "ana@example.com",
                    "teams": ["general"],
                    "availability": "available",
                },
            )
            assert agent.status_code == 201, agent.text
            created = await http.post(
                f"{intake.url}/cases",
                headers={"Idempotency-Key": f"erasure-{uuid.uuid4()}"},
                json={
                    "customer": {
                        "name": NAME,
                        "email": EMAIL,
                        "phone": PHONE,
                        "document_id": DOCUMENT,
                    },
                    "type": "complaint",
                    "channel": "phone",
                    "description": f"{NAME} (documento {DOCUMENT}) recibió la nevera abollada",
                    "expectation": f"que llamen a {NAME} al {PHONE}",
                },
            )
            assert created.status_code == 201, created.text
            case = created.json()
            case_id, customer_id = case["id"], case["customer_id"]
            url = f"{routing.url}/cases/{case_id}"

            await smtp_sink.wait_for(lambda m: EMAIL in (m["To"] or ""))

            async def assigned():
                r = await http.get(url)
                return r.status_code == 200 and r.json()["agent_id"] == "ana"

            await eventually(assigned, message="case was not assigned")

            async def command(path, body=None, *, status=200):
                r = await http.post(f"{url}{path}", json=body)
                assert r.status_code == status, r.text
                return r.json()

            await command("/steps/3", {"text": f"{NAME} quiere una nevera sin golpes"})
            await command(
                "/steps/4", {"text": f"¿Le cambiamos la nevera, {SURNAME}?", "confirmed": True}
            )
            await command(
                "/steps/5",
                {
                    "text": f"Cambio o descuento para {NAME}",
                    "options": ["cambio", "descuento"],
                    "chosen": "cambio",
                },
            )
            promise = await command(
                "/commitments",
                {
                    "description": f"Llamar a {NAME} al {PHONE} antes de las doce",
                    "due_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat(),
                    "to_whom": NAME,
                    "channel": "phone",
                },
                status=201,
            )
            await command(
                "/steps/6",
                {"text": f"Nevera nueva enviada a {NAME}", "commitment_id": promise["id"]},
            )
            await command(f"/commitments/{promise['id']}/kept")
            await command("/escalate", {"upset": True, "note": f"{NAME} llamó muy enfadada"})
            await command(
                "/resolve",
                {
                    "resolution": f"Nevera cambiada; {EMAIL} avisada",
                    # the root cause's note is free text routing keeps: it must be scrubbed too
                    "root_cause": {"category": "isolated_incident", "note": f"{NAME} llamó"},
                },
            )
            await command("/steps/7a", {"text": f"{NAME} confirma la entrega"})
            await command("/steps/7b", {"text": f"{SURNAME} está satisfecha"})
            await command("/close", {})

            # the survey arrives by email; the answer's comment names the customer (detractor)
            [invite] = await smtp_sink.wait_for(
                lambda m: EMAIL in (m["To"] or "") and "/s/" in body_text(m)
            )
            link = re.search(r"https?://\S+/s/[A-Za-z0-9_\-]+", body_text(invite)).group(0)
            answered = await http.post(
                link,
                data={
                    "satisfaction": "1",
                    "comment": f"Soy {NAME}, mi teléfono {PHONE}, ¡tres semanas sin nevera!",
                },
            )
            assert answered.status_code == 303, answered.text
            invitations = await http.get(f"{surveys.url}/invitations", params={"case_id": case_id})
            (invitation,) = invitations.json()["items"]
            recovery_id = uuid.uuid5(uuid.UUID(case_id), str(invitation["id"]))

            async def recovery_opened():
                r = await http.get(f"{routing.url}/cases/{recovery_id}")
                return r.status_code == 200

            await eventually(recovery_opened, timeout=30, message="no recovery case")

            # the figures before erasure, once everything in flight has landed
            async def settled_figures():
                if not await quiet(db):
                    return False
                first = (await http.get(f"{indicators.url}/indicators")).json()
                if first["surveys_answered"] != 1 or first["cases_resolved"] < 1:
                    return False
                again = (await http.get(f"{indicators.url}/indicators")).json()
                return first == again and first

            before = await eventually(settled_figures, timeout=60, message="never settled")
            assert await find_everywhere(db, NEEDLES), "the flow left no data to erase"

            erased = await http.post(f"{intake.url}/customers/{customer_id}/erase")
            assert erased.status_code == 200, erased.text

            async def everyone_erased():
                for schema in CONSUMERS_OF_ERASURE:
                    handled = await db.fetchval(
                        f"SELECT count(*) FROM {schema}.inbox"
                        " WHERE event_type LIKE '%.customer.erased.%'"
                    )
                    if not handled:
                        return False
                return await quiet(db)

            await eventually(
                everyone_erased, timeout=60, message="a service never handled customer.erased"
            )

            assert await find_everywhere(db, NEEDLES) == []
            # the survey link in their mailbox no longer opens anything of theirs
            assert (await http.get(link)).status_code == 404
            after = (await http.get(f"{indicators.url}/indicators")).json()
            assert after == before
    finally:
        await db.close()
