"""The SMTP listener, spoken to over real SMTP (aiosmtplib): 250 means the contact is committed,
a message that cannot be recorded now gets 451 (and is recorded when the sender retries), one
that never can gets 550; recipients outside the configured domains are refused."""

import uuid
from email.message import EmailMessage

import aiosmtplib
import pytest

from atiende_testing import free_port


def customer_email(sender="Luis Gil <luis@example.com>", to="atencion@atiende.example"):
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = to
    message["Subject"] = "La lavadora no centrifuga"
    message["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    message.set_content("Desde ayer la lavadora no centrifuga.")
    return message


async def send(port, message, sender="luis@example.com", recipients=("atencion@atiende.example",)):
    return await aiosmtplib.send(
        message,
        hostname="127.0.0.1",
        port=port,
        sender=sender,
        recipients=list(recipients),
        start_tls=False,
        timeout=10,
    )


async def contacts(svc):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT c.*, k.number FROM contacts c LEFT JOIN cases k ON k.id = c.case_id"
        )


async def test_an_email_sent_by_smtp_is_a_contact_once_the_server_says_250(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        message = customer_email()
        _, reply = await send(port, message)

        assert reply.startswith("2.0.0")
        # 250 is answered after the commit: the contact is there now, not eventually
        [contact] = await contacts(intake)
        assert contact["channel"] == "email"
        assert contact["external_ref"] == message["Message-ID"]
        assert contact["outcome"] == "opened"
        assert contact["number"].startswith("AT-")

        await send(port, message)  # the sending server retries a message we already have
        assert len(await contacts(intake)) == 1


async def test_a_message_that_cannot_be_recorded_now_gets_451_and_is_recorded_on_retry(
    service_factory,
):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        async with intake.runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE catalogue_entries SET active = false WHERE kind = 'touchpoint' AND code = 'EMAIL'"
            )
        message = customer_email()
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(port, message)
        assert refused.value.code == 451
        assert await contacts(intake) == []

        async with intake.runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE catalogue_entries SET active = true WHERE kind = 'touchpoint' AND code = 'EMAIL'"
            )
        await send(port, message)
        assert len(await contacts(intake)) == 1


async def test_a_message_without_a_sender_address_is_refused_for_good(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port) as intake:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(port, customer_email(sender=None))
        assert refused.value.code == 550
        assert await contacts(intake) == []


async def test_only_the_configured_domains_are_accepted(service_factory):
    port = free_port()
    async with service_factory(
        "intake", inbound_smtp_port=port, inbound_smtp_domains="atiende.example, example.org"
    ) as intake:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await send(
                port, customer_email(to="x@elsewhere.example"), recipients=["x@elsewhere.example"]
            )
        assert await contacts(intake) == []
        await send(port, customer_email(to="ayuda@Example.ORG"), recipients=["ayuda@Example.ORG"])
        assert len(await contacts(intake)) == 1


async def test_a_message_over_the_size_limit_is_refused_by_smtp(service_factory):
    port = free_port()
    async with service_factory(
        "intake", inbound_smtp_port=port, inbound_email_max_bytes=2048
    ) as intake:
        message = customer_email()
        message.add_attachment(bytes(4000), maintype="application", subtype="octet-stream")
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(port, message)
        assert refused.value.code == 552
        assert await contacts(intake) == []


async def test_the_listener_stops_with_the_service(service_factory):
    port = free_port()
    async with service_factory("intake", inbound_smtp_port=port):
        pass
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await send(port, customer_email())
