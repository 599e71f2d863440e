"""`make run`'s dev inbox, as the README's "try it" ends: real intake and notifications
processes (notifications started with ATIENDE_DEV_INBOX=true, as the Procfile does), a case
opened over HTTP, and Chromium showing its acknowledgement in the dev inbox page."""

import shutil

import httpx
import pytest
from playwright.async_api import async_playwright

from atiende_testing import eventually, free_port

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


async def test_the_acknowledgement_is_visible_in_the_dev_inbox(cluster_factory):
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    inbox_port = free_port()
    cluster = cluster_factory(
        "intake",
        "notifications",
        ATIENDE_DEV_INBOX="true",
        ATIENDE_SMTP_PORT=str(free_port()),
        ATIENDE_DEV_INBOX_HTTP_PORT=str(inbox_port),
    )
    await cluster.start()
    inbox = f"http://127.0.0.1:{inbox_port}"
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
        created = await http.post(
            f"{cluster['intake'].url}/cases",
            json={
                "customer": {"name": "Lucía Gómez", "email": "lucia@example.com"},
                "type": "complaint",
                "channel": "phone",
                "description": "My order arrived incomplete",
            },
        )
        assert created.status_code == 201, created.text
        number = created.json()["number"]

        async def caught():
            found = (await http.get(f"{inbox}/messages.json")).json()
            return [m for m in found if number in m["subject"]]

        await eventually(caught, timeout=30, message="the acknowledgement never reached the inbox")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            assert (await page.goto(inbox)).status == 200
            link = page.get_by_role("link", name=f"[{number}] Hemos recibido su caso")
            assert "lucia@example.com" in await page.text_content("#messages")
            await link.click()
            await page.wait_for_url(f"{inbox}/m/*")
            assert await page.text_content("#subject") == f"[{number}] Hemos recibido su caso"
            text = await page.text_content("#text")
            assert "Estimado/a Lucía Gómez:" in text
            assert number in text
            assert "Auto-Submitted" in await page.content()
        finally:
            await browser.close()
