"""Email loop hygiene over a real SMTP session (smtplib against intake's aiosmtpd listener):
auto-replies of every common shape are accepted and kept as feedback on the email they answer,
never recorded as contacts; bounces from the null sender are accepted, read and published as
email.bounced; bad input gets a clear answer and is never half recorded."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from datetime import UTC, datetime

import pytest

from atiende_contracts import NotificationChannel, NotificationSent
from atiende_testing import eventually, free_port

from .. import mail_samples as samples

RAW = {"Content-Type": "message/rfc822"}


def smtp_send(port: int, raw: bytes, sender: str) -> tuple[int, bytes]:
    """One SMTP session; the server's answer to the message (code, text)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mx.sender.example")
        code, text = client.mail(sender)  # "" sends MAIL FROM:<>
        assert code == 250, text
        code, text = client.rcpt("atencion@atiende.example")
        assert code == 250, text
        return client.data(raw)


async def send(port: int, raw: bytes, sender: str = "luis@contoso.example") -> tuple[int, bytes]:
    return await asyncio.to_thread(smtp_send, port, raw, sender)


async def fetch(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(query, *args)


async def a_case_with_an_acknowledgement(svc, port) -> tuple[str, uuid.UUID, str]:
    """A customer's email opened a case and notifications acknowledged it: (case number,
    case id, the acknowledgement's Message-ID)."""
    code, _ = await send(port, samples.customer_reply("<none@nowhere.example>"))
    assert code == 250
    [case] = await fetch(svc, "SELECT id, number FROM cases")
    delivery_id = uuid.uuid4()
    async with svc.foreign_unit_of_work() as uow:
        await uow.emit(
            NotificationSent(
                delivery_id=delivery_id,
                case_id=case["id"],
                template="case_acknowledgement",
                channel=NotificationChannel.EMAIL,
                recipient="luis@contoso.example",
                sent_at=datetime.now(UTC),
            ),
            subject=case["id"],
        )

    async def learnt():
        return await fetch(svc, "SELECT 1 FROM sent_emails WHERE delivery_id = $1", delivery_id)

    await eventually(learnt, message="intake never learnt the acknowledgement")
    return case["number"], case["id"], f"<{delivery_id}@atiende>"


AUTO_REPLIES = {
    "exchange-oof": samples.exchange_out_of_office,
    "old-exchange-oof": samples.exchange_oof_without_auto_submitted,
    "gmail-vacation": samples.gmail_vacation,
    "x-autorespond": samples.x_autorespond,
    "precedence-junk": samples.precedence_junk,
}


async def test_every_auto_reply_shape_is_kept_as_feedback_and_never_a_contact(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        _, case_id, ack = await a_case_with_an_acknowledgement(intake, port)
        before = await fetch(intake, "SELECT id FROM contacts")

        for name, sample in AUTO_REPLIES.items():
            code, text = await send(port, sample(ack))
            assert code == 250, (name, text)
            assert b"Auto-reply accepted" in text, name

        assert await fetch(intake, "SELECT id FROM contacts") == before
        assert len(await fetch(intake, "SELECT id FROM cases")) == 1
        kept = await fetch(
            intake,
            "SELECT kind, delivery_id, case_id, raw FROM email_feedback ORDER BY received_at",
        )
        assert [k["kind"] for k in kept] == ["auto_reply"] * len(AUTO_REPLIES)
        assert {k["case_id"] for k in kept} == {case_id}
        assert all(f"<{k['delivery_id']}@atiende>" == ack for k in kept)
        assert all(k["raw"].startswith(b"From:") or b"\r\nFrom:" in k["raw"] for k in kept)
        linked = await fetch(
            intake, "SELECT 1 FROM outbox WHERE routing_key = 'case.contact_linked.v1'"
        )
        assert linked == []  # nothing joined the case: no clock restarts, no escalation

        metrics = (await intake.client.get("/metrics")).text
        assert 'atiende_intake_mail_kept_total{kind="auto_reply"' in metrics

        listed = (await intake.client.get("/inbound/email/kept")).json()
        assert listed["counts"] == {"auto_reply": len(AUTO_REPLIES)}


@pytest.mark.parametrize(
    ("sample", "kind", "status_code"),
    [
        (samples.postfix_dsn, "hard", "5.1.1"),
        (samples.exim_dsn, "hard", "5.0.0"),
        (samples.mailbox_full_dsn, "soft", "4.2.2"),
    ],
    ids=["postfix", "exim", "mailbox-full"],
)
async def test_a_bounce_from_the_null_sender_is_accepted_and_published(
    service_factory, sample, kind, status_code
):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        _, case_id, ack = await a_case_with_an_acknowledgement(intake, port)

        raw = sample(ack, "luis@contoso.example")
        code, text = await send(port, raw, sender="")

        assert (code, text) == (250, b"2.0.0 Delivery report accepted")
        [bounced] = [
            r["data"]
            for r in await fetch(
                intake, "SELECT data FROM outbox WHERE routing_key = 'email.bounced.v1'"
            )
        ]
        assert bounced["message_id"] == ack
        assert bounced["recipient"] == "luis@contoso.example"
        assert (bounced["kind"], bounced["status_code"]) == (kind, status_code)
        assert bounced["case_id"] == str(case_id)
        assert len(await fetch(intake, "SELECT id FROM contacts")) == 1

        # the sending server retries: kept once, published once
        await send(port, raw, sender="")
        assert len(await fetch(intake, "SELECT 1 FROM email_feedback WHERE kind = 'bounce'")) == 1
        assert (
            len(await fetch(intake, "SELECT 1 FROM outbox WHERE routing_key = 'email.bounced.v1'"))
            == 1
        )


async def test_a_customer_reply_is_still_a_contact(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        _, case_id, ack = await a_case_with_an_acknowledgement(intake, port)

        code, text = await send(port, samples.customer_reply(ack))

        assert (code, text) == (250, b"2.0.0 Message accepted")
        contacts = await fetch(
            intake, "SELECT case_id, link_reason FROM contacts ORDER BY received_at"
        )
        assert [(c["case_id"], c["link_reason"]) for c in contacts] == [
            (case_id, None),
            (case_id, "thread_header"),
        ]


async def test_the_http_door_keeps_auto_replies_and_bounces_with_202(service_factory):
    async with service_factory("intake") as intake:
        ack = f"<{uuid.uuid4()}@atiende>"
        answer = await intake.client.post(
            "/inbound/email", content=samples.gmail_vacation(ack), headers=RAW
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["kind"] == "auto_reply"
        assert answer.json()["reason"] == "auto-submitted: auto-replied"

        bounce = await intake.client.post(
            "/inbound/email", content=samples.exim_dsn(ack, "ana@gone.example"), headers=RAW
        )
        assert bounce.status_code == 202, bounce.text
        assert bounce.json()["bounced_recipients"] == ["ana@gone.example"]
        assert await fetch(intake, "SELECT id FROM contacts") == []

        kept_id = bounce.json()["kept_id"]
        raw = await intake.client.get(f"/inbound/email/kept/{kept_id}/raw")
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("message/rfc822")
        assert b"Mail delivery failed" in raw.content


# --- bad input -------------------------------------------------------------------------------


async def test_an_unknown_charset_and_broken_mime_are_still_recorded_whole(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        raw = (
            b"From: Ana <ana@example.com>\r\nTo: atencion@atiende.example\r\n"
            b"Subject: =?x-unknown-charset?q?Pedido_roto?=\r\n"
            b"Message-ID: <charset-1@example.com>\r\n"
            b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
            b"--never-closed\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
            b"El pedido lleg\xf3 roto.\r\n"
        )
        code, text = await send(port, raw, sender="ana@example.com")

        assert code == 250, text
        [contact] = await fetch(intake, "SELECT body FROM contacts")
        assert "roto" in contact["body"]


async def test_a_header_injection_attempt_writes_no_header_and_no_line_break(service_factory):
    async with service_factory("intake") as intake:
        # an encoded CR LF in the Subject: read as one line, it names no case and adds no header
        raw = (
            b"From: Ana <ana@example.com>\r\n"
            b"To: atencion@atiende.example\r\n"
            b"Subject: =?utf-8?q?Hola=0D=0AX-Atiende-Case:_AT-2026-000001?=\r\n"
            b"Message-ID: <inject-1@example.com>\r\n\r\nTexto.\r\n"
        )
        answer = await intake.client.post("/inbound/email", content=raw, headers=RAW)

        assert answer.status_code == 201, answer.text
        assert answer.json()["outcome"] == "opened"
        [contact] = await fetch(intake, "SELECT body FROM contacts")
        assert contact["body"].split("\n\n")[0] == "Hola X-Atiende-Case: AT-2026-000001"

        # an encoded CR LF in the From address's name: no usable sender, refused, nothing kept
        forged = raw.replace(
            b"From: Ana <ana@example.com>",
            b"From: =?utf-8?q?Ana=0D=0ABcc:_victim@example.com?= <ana@example.com>",
        ).replace(b"inject-1", b"inject-2")
        refused = await intake.client.post("/inbound/email", content=forged, headers=RAW)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["rule"] == "unusable_email"
        assert len(await fetch(intake, "SELECT 1 FROM contacts")) == 1
        assert await fetch(intake, "SELECT 1 FROM email_feedback") == []


async def test_an_oversize_message_is_refused_and_nothing_is_kept(service_factory):
    port = free_port()
    async with service_factory(
        "intake", inbound_smtp_port=port, inbound_email_max_bytes=2048
    ) as intake:
        raw = (
            samples.gmail_vacation("<x@atiende>") + b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n" * 120
        )
        code, _ = await send(port, raw)
        assert code == 552
        assert await fetch(intake, "SELECT 1 FROM email_feedback") == []
        assert await fetch(intake, "SELECT 1 FROM contacts") == []
