"""Issue 13 end to end through the running service: webhooks to a local receiver that fails
then recovers (signatures verified by the independent `standardwebhooks` package, each delivery
exactly once after dedup by webhook-id, two dispatcher replicas), SMS to a local server speaking
Twilio's Messages API, email threading headers, and the templates API."""

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, Request, Response
from standardwebhooks import Webhook

from atiende_contracts import CaseOpened, CaseResolved
from atiende_testing import eventually, free_port


@dataclass
class Receiver:
    """A local HTTP server: webhooks at /hook, Twilio's Messages resource at /2010-04-01/…"""

    port: int
    fail_first: int = 0
    delay: float = 0.0
    hooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    sms: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def receiver(fail_first: int = 0, delay: float = 0.0) -> AsyncIterator[Receiver]:
    state = Receiver(free_port(), fail_first, delay)
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        await asyncio.sleep(state.delay)  # a receiver that takes its time: rounds overlap
        if state.fail_first > 0:
            state.fail_first -= 1
            state.answered.append(503)
            return Response(status_code=503, headers={"Retry-After": "0"})
        state.hooks.append((dict(request.headers), body))
        state.answered.append(204)
        return Response(status_code=204)

    @app.post("/gone")
    async def gone(request: Request) -> Response:
        state.answered.append(410)
        return Response(status_code=410)

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def messages(sid: str, request: Request) -> Response:
        form = await request.form()
        state.sms.append(
            (request.headers.get("authorization", ""), {k: str(v) for k, v in form.items()})
        )
        return Response(
            content=f'{{"sid": "SM{uuid.uuid4().hex}", "status": "queued", "account_sid": "{sid}"}}',
            status_code=201,
            media_type="application/json",
        )

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=state.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, message="receiver did not start")
    try:
        yield state
    finally:
        server.should_exit = True
        await task


def case_opened(number: str, **overrides) -> CaseOpened:
    data = {
        "case_id": uuid.uuid4(),
        "case_number": number,
        "customer_id": uuid.uuid4(),
        "customer_name": "Ana Pérez",
        "customer_email": "ana@example.com",
        "type": "complaint",
        "channel": "phone",
        "description": "The invoice is wrong",
        "opened_at": datetime.now(UTC),
    }
    return CaseOpened(**{**data, **overrides})


async def emit(svc, *events) -> None:
    async with svc.foreign_unit_of_work() as uow:
        for event in events:
            await uow.emit(event, subject=event.case_id)


async def rows(svc, sql, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


FAST = {
    "dispatch_poll_interval": 0.2,
    "webhook_allow_http": True,
    "webhook_allow_private": True,
    "webhook_retry_schedule": [0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
    "webhook_retry_jitter": 0,
}


async def test_webhooks_signed_retried_until_the_receiver_recovers_by_two_replicas(
    service_factory, smtp_sink
):
    async with receiver(fail_first=6, delay=0.05) as hooks:
        settings = {
            **FAST,
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "dispatch_batch_size": 1,  # one delivery per round: both replicas get some
        }
        async with (
            service_factory("notifications", **settings) as one,
            service_factory("notifications", **settings) as two,
        ):
            created = await one.client.post(
                "/webhooks/endpoints",
                json={"url": f"{hooks.url}/hook", "event_types": ["case.opened"]},
            )
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            assert secret.startswith("whsec_")

            events = [case_opened(f"AT-2026-{n:06d}") for n in range(500, 510)]
            await emit(one, *events[::2])
            await emit(two, *events[1::2])

            def unique_ids():
                ids = {h["webhook-id"] for h, _ in hooks.hooks}
                return len(ids) == len(events) and ids

            ids = await eventually(unique_ids, timeout=30, message="not every webhook arrived")
            verifier = Webhook(secret)
            seen: dict[str, dict] = {}
            for headers, body in hooks.hooks:  # the receiver's dedup by webhook-id
                payload = verifier.verify(body, headers)
                seen.setdefault(headers["webhook-id"], payload)
            assert set(seen) == ids
            assert sorted(p["data"]["case_number"] for p in seen.values()) == sorted(
                e.case_number for e in events
            )
            assert all(p["type"] == "case.opened" for p in seen.values())
            assert hooks.answered.count(503) == 6

            async def all_sent():
                found = await rows(
                    one, "SELECT id, status FROM deliveries WHERE channel = 'webhook'"
                )
                return len(found) == len(events) and all(r["status"] == "sent" for r in found)

            await eventually(all_sent, message="webhook deliveries not all recorded as sent")
            log = await rows(
                one, "SELECT status_code FROM delivery_attempts WHERE status_code = 503"
            )
            assert len(log) == 6  # the delivery log kept the failures with their status
            # both replicas did work (SKIP LOCKED shared the rows), and each webhook still
            # arrived exactly once after dedup (above)
            by = await rows(
                one,
                """SELECT dispatcher, count(*) AS sent FROM delivery_attempts
                   WHERE status_code = 204 GROUP BY dispatcher""",
            )
            sent_by = {r["dispatcher"]: r["sent"] for r in by}
            assert set(sent_by) == {
                one.runtime.settings.dispatcher_id,
                two.runtime.settings.dispatcher_id,
            }, sent_by
            assert sum(sent_by.values()) == len(events)

            any_id = next(iter(ids))
            detail = await one.client.get(f"/deliveries/{any_id}")
            assert detail.status_code == 200, detail.text
            assert detail.json()["attempts_log"]


async def test_an_endpoint_answering_410_is_disabled_and_the_admin_gets_one_email(
    service_factory, smtp_sink
):
    async with receiver() as hooks:
        settings = {
            **FAST,
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "admin_emails": ["ops@example.com"],
        }
        async with service_factory("notifications", **settings) as svc:
            created = await svc.client.post(
                "/webhooks/endpoints", json={"url": f"{hooks.url}/gone", "event_types": []}
            )
            assert created.status_code == 201, created.text
            endpoint_id = created.json()["id"]
            await emit(svc, *(case_opened(f"AT-2026-{n:06d}") for n in range(800, 803)))

            def to_admin():
                return [m for m in smtp_sink.messages if m["To"] == "ops@example.com"]

            await eventually(to_admin, timeout=20, message="the admin was not emailed")
            (mail,) = to_admin()
            assert str(mail["Subject"]) == f"Webhook desactivado: {hooks.url}/gone"
            (text,) = (p for p in mail.walk() if p.get_content_type() == "text/plain")
            assert "410 Gone" in text.get_payload(decode=True).decode()
            assert mail["Auto-Submitted"] == "auto-generated"
            endpoint = await svc.client.get(f"/webhooks/endpoints/{endpoint_id}")
            assert endpoint.json()["enabled"] is False
            assert endpoint.json()["disabled_reason"] == "gone"

            async def admin_delivery_sent():
                found = await rows(
                    svc,
                    "SELECT status, case_id FROM deliveries WHERE template = $1",
                    "staff_webhook_disabled",
                )
                return len(found) == 1 and found[0]["status"] == "sent" and found

            (row,) = await eventually(admin_delivery_sent, message="admin email not recorded")
            assert row["case_id"] is None
            await asyncio.sleep(1)  # the other deliveries to the endpoint bring no second mail
            assert len(to_admin()) == 1


async def test_an_sms_goes_to_a_twilio_shaped_provider(service_factory):
    async with (
        receiver() as provider,
        service_factory(
            "notifications",
            **FAST,
            sms_base_url=provider.url,
            sms_account_sid="AC123",
            sms_auth_token="tok",
            sms_sender="+34900000000",
        ) as svc,
    ):
        opened = case_opened("AT-2026-000600", customer_email=None, customer_phone="+34600111222")
        await emit(svc, opened)
        await eventually(lambda: provider.sms, message="no SMS reached the provider")
        auth, form = provider.sms[0]
        assert auth == "Basic " + base64.b64encode(b"AC123:tok").decode()
        assert form["To"] == "+34600111222"
        assert form["From"] == "+34900000000"
        assert "AT-2026-000600" in form["Body"]
        assert len(form["Body"]) <= 320

        async def sent():
            found = await rows(svc, "SELECT channel, status FROM deliveries")
            return found and found[0]["status"] == "sent" and found[0]

        assert (await eventually(sent))["channel"] == "sms"


async def test_emails_of_a_case_thread_and_suppress_auto_replies(service_factory, smtp_sink):
    async with service_factory(
        "notifications",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        dispatch_poll_interval=0.2,
    ) as svc:
        opened = case_opened("AT-2026-000700", formality="informal")
        resolved = CaseResolved(
            case_id=opened.case_id,
            case_number=opened.case_number,
            resolution="Te hemos devuelto el importe.",
            resolved_at=datetime.now(UTC),
        )
        await emit(svc, opened, resolved)
        await smtp_sink.wait_for(lambda m: True, count=2)
        ack, done = sorted(smtp_sink.messages, key=lambda m: "In-Reply-To" in m)
        assert "tu caso" in str(ack["Subject"])
        assert done["In-Reply-To"] == ack["Message-ID"] == done["References"]
        for message in (ack, done):
            assert message["Auto-Submitted"] == "auto-generated"
            assert message["X-Auto-Response-Suppress"] == "All"


async def test_templates_api_refuses_a_broken_template_with_its_line_and_previews(service_factory):
    async with service_factory("notifications") as svc:
        path = "/templates/case_resolved/email/es/informal"
        broken = await svc.client.put(
            path, json={"subject": "Hola", "body_text": "Hola {{ customer_name }}\n{{ typo }}"}
        )
        assert broken.status_code == 422
        assert broken.json()["errors"][0]["message"].startswith("line 2: unknown variable 'typo'")
        saved = await svc.client.put(
            path,
            json={"subject": "[{{ case_number }}] Listo", "body_text": "{{ resolution }}"},
        )
        assert saved.status_code == 201, saved.text
        assert saved.json()["version"] == 1
        effective = (await svc.client.get(path)).json()
        assert effective["served_by"]["register"] == "informal"
        assert not effective["shipped"]
        shipped = (await svc.client.get("/templates/case_resolved/sms/en/formal")).json()
        assert shipped["shipped"] is True
        preview = await svc.client.post(
            "/templates/preview",
            json={"template": "case_resolved", "language": "es", "register": "informal"},
        )
        assert preview.status_code == 200, preview.text
        assert preview.json()["subject"] == "[AT-2026-000123] Listo"


async def test_a_webhook_url_must_be_public_https_outside_tests(service_factory):
    async with service_factory("notifications") as svc:
        for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x"):
            refused = await svc.client.post("/webhooks/endpoints", json={"url": url})
            assert refused.status_code == 422, url
