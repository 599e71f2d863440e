"""The closed loop through real processes: a complaint opened through intake, worked through steps
3-6 and resolved in routing; the survey invitation arrives by email; the customer gives a
detractor score in Chromium; routing opens the linked, escalated recovery case `<number>-R`."""

import re
import shutil
import uuid

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
EMAIL = "marta.ruiz@example.com"


def body_text(message):
    part = message.get_body(preferencelist=("plain",)) if hasattr(message, "get_body") else None
    if part is None:
        for p in message.walk():
            if p.get_content_type() == "text/plain":
                return p.get_payload(decode=True).decode()
        return message.get_payload()
    return part.get_payload(decode=True).decode()


async def test_a_detractor_answer_opens_an_escalated_recovery_case(cluster, smtp_sink):
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    intake, routing, surveys = cluster["intake"], cluster["routing"], cluster["surveys"]
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        created = await http.post(
            f"{intake.url}/cases",
            json={
                "customer": {"name": "Marta Ruiz", "email": EMAIL},
                "type": "complaint",
                "channel": "web_form",
                "description": "La lavadora llegó con la puerta rota",
            },
        )
        assert created.status_code == 201, created.text
        case = created.json()
        number = case["number"]

        async def assigned():
            r = await http.get(f"{routing.url}/cases/{case['id']}")
            return r.status_code == 200 and r.json()["status"] == "assigned" and r.json()

        original = await eventually(assigned, message="case was not assigned")
        for step, body in (
            ("3", {"text": "Quiere una lavadora sin daños"}),
            ("4", {"text": "¿Le cambiamos la puerta?", "confirmed": True}),
            (
                "5",
                {
                    "text": "Cambio de puerta o de lavadora",
                    "options": ["puerta", "lavadora"],
                    "chosen": "puerta",
                },
            ),
            ("6", {"text": "Puerta cambiada"}),
        ):
            walked = await http.post(f"{routing.url}/cases/{case['id']}/steps/{step}", json=body)
            assert walked.status_code == 200, walked.text
        resolved = await http.post(
            f"{routing.url}/cases/{case['id']}/resolve",
            json={"resolution": "Puerta cambiada", "root_cause": {"category": "isolated_incident"}},
        )
        assert resolved.status_code == 200, resolved.text

        # the invitation email arrives with a working link
        [invite] = await smtp_sink.wait_for(
            lambda m: EMAIL in (m["To"] or "") and "/s/" in body_text(m)
        )
        link = re.search(r"https?://\S+/s/[A-Za-z0-9_\-]+", body_text(invite)).group(0)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                response = await page.goto(link)
                assert response.status == 200
                assert number in await page.content()
                await page.check("input[name=satisfaction][value='1']")
                await page.fill("textarea[name=comment]", "Tardaron tres semanas")
                await page.click("button[type=submit]")
                await page.wait_for_load_state()
                text = (await page.text_content("body")).lower()
                assert "gracias" in text
            finally:
                await browser.close()

        listed = await http.get(f"{surveys.url}/invitations", params={"case_id": case["id"]})
        (invitation,) = listed.json()["items"]
        assert invitation["status"] == "answered"
        # routing names the recovery case after the original and the answer (docs/lifecycle.md)
        recovery_id = uuid.uuid5(uuid.UUID(case["id"]), str(invitation["id"]))

        async def recovery_opened():
            r = await http.get(f"{routing.url}/cases/{recovery_id}")
            return r.status_code == 200 and r.json()

        recovery = await eventually(
            recovery_opened, timeout=30, message="routing opened no recovery case"
        )
        assert recovery["number"] == f"{number}-R"
        assert recovery["recovery_of"] == case["id"]
        assert recovery["type"] == "complaint"
        assert recovery["escalation"] is not None
        assert recovery["team"] == original["team"]
        assert any(e["reason"] == "detractor" for e in recovery["escalations"]), recovery[
            "escalations"
        ]

        # the original says which recovery case was opened; its own status does not change
        after = (await http.get(f"{routing.url}/cases/{case['id']}")).json()
        assert after["status"] == "resolved"
        assert any(f"{number}-R" in entry["summary"] for entry in after["timeline"])
