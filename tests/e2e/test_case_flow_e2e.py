"""One case through all five services, each a real process, on the real PostgreSQL, RabbitMQ, an
SMTP server and Chromium: opened, acknowledged by email, assigned, resolved, surveyed, answered in
the browser, counted — and one trace id for the case in every service's logs."""

import json
import re
import shutil

import httpx
import pytest
from playwright.async_api import async_playwright

from atiende_testing import eventually

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


def json_lines(service):
    out = []
    for line in service.log_lines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def body_text(message):
    part = message.get_body(preferencelist=("plain",)) if hasattr(message, "get_body") else None
    if part is None:
        for p in message.walk():
            if p.get_content_type() == "text/plain":
                return p.get_payload(decode=True).decode()
        return message.get_payload()
    return part.get_payload(decode=True).decode()


async def test_a_case_flows_through_every_service(cluster, smtp_sink):
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    intake, routing = cluster["intake"], cluster["routing"]
    indicators = cluster["indicators"]
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        created = await http.post(
            f"{intake.url}/cases",
            json={
                "customer": {"name": "Lucía Gómez", "email": "lucia@example.com"},
                "type": "complaint",
                "channel": "web_form",
                "description": "Mi pedido llegó incompleto",
            },
        )
        assert created.status_code == 201, created.text
        case = created.json()
        number = case["number"]
        assert re.fullmatch(r"AT-\d{4}-\d{6}", number)

        # the acknowledgement arrives at the SMTP server, naming the case
        [ack] = await smtp_sink.wait_for(
            lambda m: "lucia@example.com" in (m["To"] or "") and number in (m["Subject"] or "")
        )
        assert ack["Message-ID"]

        # routing assigned it
        async def assigned():
            r = await http.get(f"{routing.url}/cases/{case['id']}")
            return r.status_code == 200 and r.json()["status"] == "assigned"

        await eventually(assigned, message="case was not assigned")

        # a complaint is resolved once steps 3 to 6 of the seven are recorded
        for step, body in (
            ("3", {"text": "Quiere lo que faltaba del pedido"}),
            ("4", {"text": "¿Le enviamos lo que faltaba?", "confirmed": True}),
            (
                "5",
                {"text": "Envío o reembolso", "options": ["envío", "reembolso"], "chosen": "envío"},
            ),
            ("6", {"text": "Enviamos lo que faltaba"}),
        ):
            walked = await http.post(f"{routing.url}/cases/{case['id']}/steps/{step}", json=body)
            assert walked.status_code == 200, walked.text

        resolved = await http.post(
            f"{routing.url}/cases/{case['id']}/resolve",
            json={
                "resolution": "Enviamos lo que faltaba",
                "root_cause": {"category": "isolated_incident"},
            },
        )
        assert resolved.status_code == 200, resolved.text

        # resolving sends a survey email with a working link
        [invite] = await smtp_sink.wait_for(
            lambda m: "lucia@example.com" in (m["To"] or "") and "/s/" in body_text(m)
        )
        link = re.search(r"https?://\S+/s/[A-Za-z0-9_\-]+", body_text(invite)).group(0)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                response = await page.goto(link)
                assert response.status == 200
                assert number in await page.content()
                await page.check("input[name=satisfaction][value='5']")
                await page.fill("textarea[name=comment]", "Muy amables")
                await page.click("button[type=submit]")
                await page.wait_for_load_state()
                text = (await page.text_content("body")).lower()
                assert "gracias" in text or "thank" in text
            finally:
                await browser.close()

        # the answer moves the indicators
        async def counted():
            r = await http.get(f"{indicators.url}/indicators")
            body = r.json()
            return (
                body["cases_opened"] == 1
                and body["cases_resolved"] == 1
                and body["surveys_answered"] == 1
                and body
            )

        figures = await eventually(counted, timeout=30, message="indicators never counted the flow")
        assert figures["average_satisfaction"] == 5.0

    # one trace: the id of the request that opened the case is in every service's log for it
    [opened] = [
        line
        for line in json_lines(intake)
        if line.get("message") == "case opened" and line.get("case_id") == case["id"]
    ]
    trace_id = opened["trace_id"]
    for name, service in cluster.services.items():
        lines = [line for line in json_lines(service) if line.get("trace_id") == trace_id]
        assert lines, f"{name} logged nothing with trace id {trace_id}"
        assert any(line.get("case_id") == case["id"] for line in lines), (
            f"{name} logged trace {trace_id} but never with the case id"
        )
