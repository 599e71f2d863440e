"""The public contact form on the real database and broker: filled in headless Chromium (served
over real HTTP by uvicorn), its validation messages, its rate limit, its honeypot, its languages."""

import asyncio
import contextlib
import re
import shutil

import uvicorn
from playwright.async_api import async_playwright

from atiende_testing import free_port

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

FORM = {
    "name": "Marta López",
    "email": "marta@example.com",
    "phone": "+34 612 345 678",
    "kind": "complaint",
    "motive": "DELIVERY",
    "description": "El pedido 4471 lleva dos semanas de retraso.",
    "expectation": "Recibirlo esta semana",
}


@contextlib.asynccontextmanager
async def served(svc):
    """The running service's app over real HTTP (its lifespan already runs in the test)."""
    port = free_port()
    config = uvicorn.Config(svc.app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def browser_page(locale="es-ES"):
    """A page in a browser whose language (Accept-Language) is `locale`."""
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page(locale=locale)
        finally:
            await browser.close()


async def fill(page, values):
    await page.fill("#name", values["name"])
    await page.fill("#email", values["email"])
    await page.fill("#phone", values["phone"])
    await page.check(f"#kind-{values['kind']}")
    await page.select_option("#motive", values["motive"])
    await page.fill("#description", values["description"])
    await page.fill("#expectation", values["expectation"])


async def rows(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(query, *args)


async def test_a_customer_fills_the_form_in_a_browser_and_sees_her_case_number(service_factory):
    async with service_factory("intake") as intake, served(intake) as url, browser_page() as page:
        response = await page.goto(f"{url}/form")
        assert response.status == 200
        assert await page.get_attribute("html", "lang") == "es"
        # the page's own stylesheet is allowed by its CSP hash (the button gets its colour)
        colour = await page.eval_on_selector(
            "button[type=submit]", "b => getComputedStyle(b).backgroundColor"
        )
        assert colour == "rgb(11, 92, 173)"
        assert not await page.is_checked("#survey_consent")

        await fill(page, FORM)
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(r"/form/thanks"))

        number = (await page.text_content("#case-number")).strip()
        assert re.fullmatch(r"AT-\d{4}-\d{6}", number)
        assert number in await page.text_content("main")
        [contact] = await rows(
            intake,
            "SELECT c.*, k.number, k.motive AS case_motive FROM contacts c"
            " JOIN cases k ON k.id = c.case_id",
        )
        assert contact["number"] == number
        assert contact["channel"] == "web_form"
        assert contact["touchpoint"] == "WEB"
        assert contact["kind"] == "complaint"
        assert contact["case_motive"] == "DELIVERY"
        assert contact["expectation"] == "Recibirlo esta semana"
        identities = await rows(
            intake,
            "SELECT kind, value FROM customer_identities WHERE customer_id = $1 ORDER BY kind",
            contact["customer_id"],
        )
        assert [(i["kind"], i["value"]) for i in identities] == [
            ("email", "marta@example.com"),
            ("phone", "+34612345678"),
        ]
        [customer] = await rows(
            intake, "SELECT * FROM customers WHERE id = $1", contact["customer_id"]
        )
        assert customer["consent_surveys"] is False  # the box was left unticked
        assert customer["language"] == "es"


async def test_an_invalid_email_is_explained_next_to_the_field_and_nothing_is_saved(
    service_factory,
):
    async with (
        service_factory("intake") as intake,
        served(intake) as url,
        browser_page(locale="es-ES") as page,
    ):
        await page.goto(f"{url}/form?lang=en")  # the link's language wins over the browser's
        await fill(page, {**FORM, "email": "marta.example.com"})
        await page.check("#survey_consent")
        async with page.expect_response(lambda r: r.request.method == "POST") as posted:
            await page.click("button[type=submit]")
        assert (await posted.value).status == 422

        assert await page.get_attribute("html", "lang") == "en"
        error = await page.text_content("#email-error")
        assert "name@example.com" in error
        assert await page.get_attribute("#email", "aria-invalid") == "true"
        assert "email-error" in await page.get_attribute("#email", "aria-describedby")
        assert await page.get_attribute("#name", "aria-invalid") is None
        # what was typed is kept
        assert await page.input_value("#email") == "marta.example.com"
        assert await page.input_value("#description") == FORM["description"]
        assert await page.is_checked("#kind-complaint")
        assert await page.is_checked("#survey_consent")
        assert await page.eval_on_selector("#motive", "s => s.value") == "DELIVERY"
        assert "Email" in await page.text_content(".error-summary")

        assert await rows(intake, "SELECT id FROM contacts") == []
        assert await rows(intake, "SELECT id FROM customers") == []


async def test_the_survey_consent_and_english_are_kept_for_a_new_customer(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post("/form?lang=en", data={**FORM, "survey_consent": "yes"})
        assert response.status_code == 303
        assert response.headers["location"].startswith("form/thanks?lang=en&outcome=opened")
        [customer] = await rows(intake, "SELECT * FROM customers")
        assert customer["consent_surveys"] is True
        assert customer["language"] == "en"
        [opened] = await rows(
            intake, "SELECT data FROM outbox WHERE routing_key = 'case.opened.v1'"
        )
        assert opened["data"]["language"] == "en"
        assert opened["data"]["consent_surveys"] is True


async def test_a_case_number_on_the_form_joins_that_case(service_factory):
    async with service_factory("intake") as intake:
        first = await intake.client.post("/form", data=FORM)
        number = re.search(r"case=(AT-\d{4}-\d{6})", first.headers["location"]).group(1)
        again = await intake.client.post(
            "/form",
            data={**FORM, "kind": "claim", "motive": "BILLING", "case_number": number.lower()},
        )
        assert again.status_code == 303
        assert f"outcome=joined&case={number}" in again.headers["location"]
        thanks = await intake.client.get(again.headers["location"])
        assert thanks.status_code == 200
        assert number in thanks.text
        [linked] = await rows(
            intake, "SELECT data FROM outbox WHERE routing_key = 'case.contact_linked.v1'"
        )
        assert linked["data"]["reason"] == "case_number"


async def test_an_unknown_case_number_is_explained_next_to_its_field(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post("/form", data={**FORM, "case_number": "AT-1999-000001"})
        assert response.status_code == 422
        assert 'id="case_number-error"' in response.text
        assert "No encontramos ningún caso con este número" in response.text
        assert 'value="AT-1999-000001"' in response.text
        assert await rows(intake, "SELECT id FROM contacts") == []


async def test_submissions_over_the_rate_limit_get_429_with_retry_after(service_factory):
    async with service_factory("intake", form_rate_limit=2, form_rate_window_seconds=300) as intake:
        for _ in range(2):
            assert (await intake.client.post("/form", data=FORM)).status_code == 303
        refused = await intake.client.post("/form", data=FORM)

        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 300
        assert "Demasiados envíos" in refused.text
        assert len(await rows(intake, "SELECT id FROM contacts")) == 2
        [bucket] = await rows(intake, "SELECT bucket, hits FROM rate_limits")
        assert bucket["hits"] == 3
        assert "127.0.0.1" not in bucket["bucket"]  # only a digest of the address is kept


async def test_a_bot_filling_the_honeypot_is_thanked_and_nothing_is_recorded(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post("/form", data={**FORM, "website": "http://x.example"})
        assert response.status_code == 303
        assert "case=" not in response.headers["location"]
        assert await rows(intake, "SELECT id FROM contacts") == []


async def test_the_page_follows_the_browsers_language_and_names_motives_in_it(service_factory):
    async with service_factory("intake") as intake:
        english = await intake.client.get("/form", headers={"Accept-Language": "en-GB,en;q=0.9"})
        spanish = await intake.client.get("/form")

        assert english.status_code == spanish.status_code == 200
        assert '<html lang="en">' in english.text
        assert ">Delivery</option>" in english.text
        assert '<html lang="es">' in spanish.text
        assert ">Entrega</option>" in spanish.text
        # the catch-all motive comes last
        assert spanish.text.index("Otros motivos") > spanish.text.index("Facturación y cobros")
        csp = spanish.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "<script" not in spanish.text


async def test_a_form_that_is_not_urlencoded_gets_415(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post("/form", files={"name": ("a.txt", b"x")})
        assert response.status_code == 415
        assert "text/html" in response.headers["content-type"]
