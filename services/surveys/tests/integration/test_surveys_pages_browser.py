"""The survey pages in Debian's Chromium, served by a real uvicorn on the real database: the
one-click answer from the invitation email (a GET records nothing, the confirm button does), the
whole SERVQUAL page in Spanish and English, usted and tú, and opting out by the button."""

import asyncio
import contextlib
import shutil
import uuid
from datetime import UTC, datetime

import pytest
import uvicorn
from playwright.async_api import async_playwright

from atiende_contracts import Formality
from atiende_runtime.db import service_role, url_as_role
from atiende_runtime.services import service
from atiende_surveys import usecases
from atiende_surveys.domain import CaseFacts
from atiende_surveys.entrypoints.config import survey_config
from atiende_surveys.repository import Due, PostgresUnitOfWork
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


@pytest.fixture
async def surveys(database_url, amqp_url, broker_namespace):
    """The surveys app behind a real HTTP server on a free port (Chromium needs one)."""
    port = free_port()
    definition = service("surveys")
    settings = definition.settings(
        database_url=url_as_role(database_url, service_role("surveys")),
        database_admin_url=database_url,
        amqp_url=amqp_url,
        broker_namespace=broker_namespace,
        relay_poll_interval=0.2,
        survey_base_url=f"http://127.0.0.1:{port}",
        auth_mode="off",  # the survey pages are public; the test calls no guarded route
    )
    app = definition.create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            if serving.done():
                serving.result()  # raises what stopped it
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        await app.state.runtime.wait_started()  # HTTP is up before the service is ready
        yield app.state.runtime
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serving, timeout=15)


@pytest.fixture
async def browser():
    assert CHROMIUM, "Debian's chromium is required for browser tests: run `make browser`"
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def invite(runtime, questionnaire_id="csat", *, language="es", formality=None):
    """A case opened by a consenting customer and its invitation sent now; the survey.invited
    event carries the links the invitation email would."""
    case_id, customer_id = uuid.uuid4(), uuid.uuid4()
    number = f"AT-2026-{case_id.int % 10**6:06d}"
    now = datetime.now(UTC)
    async with runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        await usecases.remember_case(
            uow,
            CaseFacts(case_id, number, customer_id, language, now, formality=formality),
            consent_surveys=True,
        )
        event = await usecases.invite(
            uow,
            Due(
                uuid.uuid4(),
                case_id,
                number,
                customer_id,
                "resolution",
                questionnaire_id,
                "agent-1",
                "general",
                now,
            ),
            now,
            survey_config(runtime.settings),
        )
    assert event is not None
    return event


async def rows(runtime, sql, *args):
    async with runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def test_the_one_click_answer_is_recorded_only_by_the_confirm_button(surveys, browser):
    invited = await invite(surveys)
    (four,) = [link for link in invited.answer_links if link.value == "4"]
    assert four.label == "4 · Satisfactoria"
    page = await browser.new_page()

    # following the email's link (what a mail scanner does too) records nothing
    response = await page.goto(four.url)
    assert response.status == 200
    assert await page.text_content("h1") == "Confirme su respuesta"
    assert "Ha elegido: 4 · Satisfactoria." in await page.text_content("body")
    assert invited.case_number in await page.text_content("body")
    (row,) = await rows(surveys, "SELECT draft, status FROM invitations")
    assert (row["draft"], row["status"]) == ({}, "pending")
    assert await rows(surveys, "SELECT * FROM responses") == []
    await page.reload()  # nor does following it again
    (row,) = await rows(surveys, "SELECT draft FROM invitations")
    assert row["draft"] == {}

    # the person's press of the button keeps it, and the rest of the survey follows
    await page.click("text=Confirmar respuesta")
    await page.wait_for_load_state()
    assert "Hemos guardado sus respuestas" in await page.text_content("body")
    assert await page.is_checked("#satisfaction-4")
    (row,) = await rows(surveys, "SELECT draft, status FROM invitations")
    assert (row["draft"], row["status"]) == ({"satisfaction": 4}, "pending")
    assert await rows(surveys, "SELECT * FROM responses") == []

    await page.fill("textarea[name=comment]", "Muy rápidos")
    await page.click("text=Enviar respuesta")
    await page.wait_for_load_state()
    assert await page.text_content("h1") == "¡Muchas gracias!"
    (answered,) = await rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%survey.answered%'")
    assert (answered["data"]["satisfaction"], answered["data"]["comment"]) == (4, "Muy rápidos")

    # the spent link confirms nothing more
    await page.goto(four.url.replace("satisfaction=4", "satisfaction=1"))
    assert await page.text_content("h1") == "Encuesta ya respondida"
    assert len(await rows(surveys, "SELECT * FROM responses")) == 1


@pytest.mark.parametrize(
    ("language", "formality", "register_phrase", "other_register_phrase"),
    [
        ("es", None, "Lo que espera de una empresa excelente", "Lo que esperas"),
        ("es", Formality.INFORMAL, "Lo que esperas de una empresa excelente", "Lo que espera "),
        ("en", None, "you may stop whenever you wish", "stop whenever you like"),
        ("en", Formality.INFORMAL, "stop whenever you like", "you may stop whenever you wish"),
    ],
)
async def test_the_full_servqual_page_in_both_languages_and_registers(
    surveys, browser, language, formality, register_phrase, other_register_phrase
):
    invited = await invite(surveys, "servqual", language=language, formality=formality)
    page = await browser.new_page(viewport={"width": 375, "height": 740})  # a phone
    response = await page.goto(invited.survey_url)
    assert response.status == 200
    assert await page.get_attribute("html", "lang") == language
    body = await page.text_content("body")
    assert register_phrase in body
    assert other_register_phrase not in body
    # 22 statements, each asked as expectation and perception on 1..7
    assert await page.locator("fieldset.servqual").count() == 22
    for item in range(1, 23):
        for side in ("e", "p"):
            assert await page.locator(f"input[name=sq{item:02d}_{side}]").count() == 7
    # every radio has a label a screen reader reads, and the page fits a phone's width
    assert await page.locator("input[type=radio]:not([id])").count() == 0
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375

    await page.check("#satisfaction-3")
    for item in range(1, 23):
        await page.check(f"#sq{item:02d}_e-7")
        await page.check(f"#sq{item:02d}_p-5")
    await page.locator("form button[type=submit]").first.click()
    await page.wait_for_load_state()
    assert await page.text_content("h1") in ("¡Muchas gracias!", "Thank you!", "Thanks!")
    (answered,) = await rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%survey.answered%'")
    scores = answered["data"]["scores"]
    # expected 7, found 5: a gap of -2 on the positively worded tangibles, +2 on a reversed item
    assert scores["servqual_tangibles"] == -2.0
    assert scores["csat"] == 3.0
    (detractor,) = await rows(
        surveys, "SELECT data FROM outbox WHERE type LIKE '%survey.detractor%'"
    )
    assert "servqual_tangibles<-1" in detractor["data"]["reasons"]


async def test_opting_out_by_the_button(surveys, browser):
    invited = await invite(surveys)
    page = await browser.new_page()
    await page.goto(invited.survey_url)
    await page.click("text=No deseo recibir encuestas")
    await page.wait_for_load_state()
    assert await page.text_content("h1") == "Dejar de recibir encuestas"
    assert page.url.split("?")[0] == invited.opt_out_url.split("?")[0]
    # the page alone opts nobody out
    assert await rows(surveys, "SELECT * FROM opt_outs") == []

    await page.click("text=No recibir ninguna encuesta")
    await page.wait_for_load_state()
    assert await page.text_content("h1") == "Hecho"
    assert "No volveremos a enviarle encuestas." in await page.text_content("body")
    assert [r["scope"] for r in await rows(surveys, "SELECT scope FROM opt_outs")] == ["all"]
    (row,) = await rows(surveys, "SELECT status FROM invitations")
    assert row["status"] == "declined"
    events = await rows(
        surveys,
        "SELECT type FROM outbox WHERE type LIKE '%survey.declined%' "
        "OR type LIKE '%customer.survey_opt_out%'",
    )
    assert len(events) == 2
    # and the survey takes no answer any more
    await page.goto(invited.survey_url)
    assert await page.text_content("h1") == "Encuesta ya respondida"
