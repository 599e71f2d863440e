"""One customer, one problem, three channels — real processes (intake, routing, notifications) on
the real PostgreSQL and RabbitMQ, a real SMTP server and Chromium. Marta fills the web form about
a late delivery, replies by email to the acknowledgement, then phones; she ends with one case
holding her three contacts, and routing assigned it once."""

import re
import shutil
import uuid
from email.message import EmailMessage

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


def plain_text(message):
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the acknowledgement has no text part")


async def fill_the_web_form(url):
    """Marta fills the form in the browser; the case number the thank-you page shows."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="es-ES")
            assert (await page.goto(f"{url}/form")).status == 200
            await page.fill("#name", "Marta López")
            await page.fill("#email", "marta@example.com")
            await page.fill("#phone", "+34 612 345 678")
            await page.check("#kind-complaint")
            await page.select_option("#motive", "DELIVERY")
            await page.fill(
                "#description", "Mi pedido 4471 tenía que llegar el lunes y todavía no ha llegado."
            )
            await page.fill("#expectation", "Recibirlo antes del viernes")
            await page.click("button[type=submit]")
            await page.wait_for_url(re.compile(r"/form/thanks"))
            return (await page.text_content("#case-number")).strip()
        finally:
            await browser.close()


def reply_to(ack):
    """Marta's reply from her mail client: "Re: " + the subject, threaded, the ack quoted."""
    reply = EmailMessage()
    reply["From"] = "Marta López <marta@example.com>"
    reply["To"] = ack["From"]
    reply["Subject"] = f"Re: {ack['Subject']}"
    reply["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    reply["In-Reply-To"] = ack["Message-ID"]
    reply["References"] = ack["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in plain_text(ack).splitlines())
    reply.set_content(
        "Buenos días. Hoy tampoco ha llegado: el seguimiento dice «en reparto» desde el martes.\n\n"
        "Marta\n\n"
        f"El lun, 24 nov 2026 a las 10:00, Atiende <{ack['From']}> escribió:\n\n{quoted}\n"
    )
    return reply


async def test_one_customer_three_channels_one_case(cluster_factory, smtp_sink, database_url):
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    smtp_port = free_port()
    cluster = cluster_factory(
        "intake", "routing", "notifications", ATIENDE_INBOUND_SMTP_PORT=str(smtp_port)
    )
    await cluster.start()
    intake, routing = cluster["intake"], cluster["routing"]

    # (1) the web form opens the case; its acknowledgement arrives by email
    number = await fill_the_web_form(intake.url)
    assert re.fullmatch(r"AT-\d{4}-\d{6}", number)
    [ack] = await smtp_sink.wait_for(
        lambda m: "marta@example.com" in (m["To"] or "") and number in (m["Subject"] or "")
    )

    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        [case] = (await http.get(f"{intake.url}/cases", params={"limit": 10})).json()["items"]
        assert case["number"] == number

        # (2) she replies to the acknowledgement through intake's SMTP listener
        _, answer = await aiosmtplib.send(
            reply_to(ack),
            hostname="127.0.0.1",
            port=smtp_port,
            start_tls=False,
            timeout=10,
        )
        assert answer.startswith("2.0.0")

        # (3) she calls; the agent records the call by her phone number
        call = await http.post(
            f"{intake.url}/contacts",
            json={
                "customer": {"phone": "+34612345678"},
                "kind": "complaint",
                "channel": "phone",
                "motive": "DELIVERY",
                "text": "Llama por tercera vez: el pedido 4471 sigue sin llegar.",
                "upset": True,
                "agent_id": "agent-12",
            },
        )
        assert call.status_code == 201, call.text
        assert call.json()["outcome"] == "joined"
        assert call.json()["link_reason"] == "same_problem"
        assert call.json()["case"]["number"] == number

        history = (await http.get(f"{intake.url}/cases/{case['id']}/contacts")).json()["items"]
        assert [c["channel"] for c in history] == ["web_form", "email", "phone"]
        assert [c["outcome"] for c in history] == ["opened", "joined", "joined"]
        assert [c["link_reason"] for c in history] == [None, "case_number", "same_problem"]
        assert len({c["customer_id"] for c in history}) == 1
        email_text = history[1]["text"]
        assert "Hoy tampoco ha llegado" in email_text
        assert "Hemos recibido su caso" not in email_text.split("\n", 1)[1]  # the quote is gone

        async def assigned():
            r = await http.get(f"{routing.url}/cases/{case['id']}")
            return r.status_code == 200 and r.json()["status"] == "assigned"

        await eventually(assigned, timeout=30, message="routing never assigned the case")

    db = await asyncpg.connect(database_url)
    try:
        assert await db.fetchval("SELECT count(*) FROM intake.cases") == 1
        linked = await db.fetch(
            "SELECT data->>'reason' AS reason FROM intake.outbox"
            " WHERE routing_key = 'case.contact_linked.v1' ORDER BY position"
        )
        assert [row["reason"] for row in linked] == ["case_number", "same_problem"]

        async def everything_published():
            pending = await db.fetchval(
                "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL"
            )
            return pending == 0

        await eventually(everything_published, message="intake's outbox never drained")
        assignments = await db.fetchval(
            "SELECT count(*) FROM routing.outbox WHERE routing_key = 'case.assigned.v1'"
            " AND subject = $1",
            case["id"],
        )
        assert assignments == 1
    finally:
        await db.close()
