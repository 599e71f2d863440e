"""From the web form to a reclassified, re-routed case — real processes (intake, routing,
notifications) on the real PostgreSQL and RabbitMQ, a real SMTP server and Chromium. Marta
writes through the form without knowing what her problem is called ("Otros motivos"); routing
queues it with team general; the agent reads it, sees it is about a double charge and
reclassifies it (PATCH with If-Match); routing's rules now send it to the billing team. Her
out-of-office reply to the acknowledgement, meanwhile, is kept as feedback and joins nothing."""

import re
import shutil
import uuid

import aiosmtplib
import asyncpg
import httpx
import pytest
from playwright.async_api import async_playwright

from atiende_testing import eventually, free_port

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def fill_the_web_form(url):
    """Marta fills the form with the catch-all motive; the case number the page shows."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="es-ES")
            assert (await page.goto(f"{url}/form")).status == 200
            await page.fill("#name", "Marta López")
            await page.fill("#email", "marta@example.com")
            await page.check("#kind-claim")
            await page.select_option("#motive", "OTHER")
            await page.fill(
                "#description",
                "En el extracto del banco aparece dos veces el cargo del pedido 4471.",
            )
            await page.click("button[type=submit]")
            await page.wait_for_url(re.compile(r"/form/thanks"))
            return (await page.text_content("#case-number")).strip()
        finally:
            await browser.close()


def out_of_office(ack):
    """Marta's mail server answers the acknowledgement on its own (Exchange's shape)."""
    from email.message import EmailMessage

    reply = EmailMessage()
    reply["From"] = "Marta López <marta@example.com>"
    reply["To"] = ack["From"]
    reply["Subject"] = f"Respuesta automática: {ack['Subject']}"
    reply["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    reply["In-Reply-To"] = ack["Message-ID"]
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"
    reply.set_content("Estoy fuera de la oficina hasta el lunes.")
    return reply


async def test_a_web_form_case_is_reclassified_and_rerouted(
    cluster_factory, smtp_sink, database_url
):
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    smtp_port = free_port()
    cluster = cluster_factory(
        "intake", "routing", "notifications", ATIENDE_INBOUND_SMTP_PORT=str(smtp_port)
    )
    await cluster.start()
    intake, routing = cluster["intake"], cluster["routing"]

    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        # the billing team and its rule exist before Marta writes
        team = await http.post(f"{routing.url}/teams", json={"id": "billing", "name": "Cobros"})
        assert team.status_code == 201, team.text
        rule = await http.post(
            f"{routing.url}/routing-rules",
            json={
                "id": "billing-to-billing",
                "name": "Billing to the billing team",
                "position": 1,
                "conditions": [{"fact": "motive", "op": "equals", "value": "BILLING"}],
                "outcome": {"team": "billing", "priority": "high"},
            },
        )
        assert rule.status_code == 201, rule.text

        number = await fill_the_web_form(intake.url)
        [case] = (await http.get(f"{intake.url}/cases", params={"limit": 10})).json()["items"]
        assert case["number"] == number
        assert case["motive"] == "OTHER"

        async def routed_to(team_id):
            async def check():
                r = await http.get(f"{routing.url}/cases/{case['id']}")
                return r.status_code == 200 and r.json()["team"] == team_id

            return check

        await eventually(await routed_to("general"), timeout=30, message="never routed")

        # her out-of-office answers the acknowledgement: kept, never a contact
        [ack] = await smtp_sink.wait_for(
            lambda m: "marta@example.com" in (m["To"] or "") and number in (m["Subject"] or "")
        )
        _, answer = await aiosmtplib.send(
            out_of_office(ack), hostname="127.0.0.1", port=smtp_port, start_tls=False, timeout=10
        )
        assert answer.startswith("2.0.0 Auto-reply accepted")
        contacts = (await http.get(f"{intake.url}/cases/{case['id']}/contacts")).json()["items"]
        assert [c["channel"] for c in contacts] == ["web_form"]

        # the agent reads the case, then reclassifies it with the ETag she read
        read = await http.get(f"{intake.url}/cases/{case['id']}")
        stale = await http.patch(
            f"{intake.url}/cases/{case['id']}",
            json={"motive": "BILLING", "reason": "Cobro duplicado"},
        )
        assert stale.status_code == 428
        changed = await http.patch(
            f"{intake.url}/cases/{case['id']}",
            json={
                "motive": "BILLING",
                "cause": "BILLING_DUPLICATE_CHARGE",
                "reason": "Es un cobro duplicado, no un problema de entrega",
            },
            headers={"If-Match": read.headers["ETag"]},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["motive"] == "BILLING"

        await eventually(
            await routed_to("billing"), timeout=30, message="routing never re-routed the case"
        )

    db = await asyncpg.connect(database_url)
    try:
        [event] = await db.fetch(
            "SELECT data->'before'->>'motive' AS before, data->'after'->>'motive' AS after"
            " FROM intake.outbox WHERE routing_key = 'case.reclassified.v1'"
        )
        assert (event["before"], event["after"]) == ("OTHER", "BILLING")
        assert await db.fetchval("SELECT count(*) FROM intake.email_feedback") == 1
        assignments = await db.fetch(
            "SELECT data->>'team' AS team, data->>'reason' AS reason FROM routing.outbox"
            " WHERE routing_key = 'case.assigned.v1' ORDER BY position"
        )
        assert assignments[0]["team"] == "general"
        assert assignments[-1]["team"] == "billing"
    finally:
        await db.close()
