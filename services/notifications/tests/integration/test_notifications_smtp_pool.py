"""The SMTP mailer keeps connections open between emails, against a real SMTP server (aiosmtpd):
reuse, a kept connection the server closed meanwhile, idle connections closed, and never an
email twice because of the reuse."""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from atiende_harness.cluster import free_port
from atiende_notifications.adapters.mail import SmtpMailer, render
from atiende_notifications.domain import Delivery, Recipient, acknowledgement
from atiende_notifications.usecases import SendFailure

NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)


def delivery(n: int) -> Delivery:
    to = Recipient(uuid.uuid4(), f"AT-2026-{n:06d}", "Ana Pérez", "ana@example.com", "es")
    notice = acknowledgement(to)
    body = render(notice)
    return Delivery.pending(notice, body.text, body.html, NOW, subject=body.subject)


@dataclass
class Server:
    """What the server saw: every message accepted, the client connection (peer) each came
    over, the EHLO names, and QUITs."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    ehlo_names: list[str] = field(default_factory=list)
    quits: int = 0
    mails: int = 0
    # misbehaviours, switched on by a test
    refuse_second_mail_with_421: bool = False
    hang_up_after_data: bool = False

    def numbers(self) -> list[str]:
        return [m["X-Atiende-Case"] for m in self.messages]


@pytest.fixture
def server() -> Iterator[Server]:
    seen = Server("127.0.0.1", free_port())

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            seen.mails += 1
            transactions = getattr(session, "transactions", 0)
            session.transactions = transactions + 1
            if seen.refuse_second_mail_with_421 and transactions >= 1:
                # what a server that timed out an idle connection answers, then hangs up
                server.transport.close()
                return "421 4.4.2 idle too long, closing"
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            seen.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            seen.peers.append(session.peer)
            seen.ehlo_names.append(session.host_name)
            if seen.hang_up_after_data:
                # the message is in, the answer never comes: the client cannot know
                server.transport.close()
            return "250 Message accepted"

        async def handle_QUIT(self, server, session, envelope):
            seen.quits += 1
            return "221 Bye"

    controller = Controller(Handler(), hostname=seen.host, port=seen.port)
    controller.start()
    try:
        yield seen
    finally:
        controller.stop()


def mailer(server: Server, **options: Any) -> SmtpMailer:
    return SmtpMailer(
        host=server.host,
        port=server.port,
        sender="Atiende <no-reply@atiende.local>",
        timeout=5.0,
        local_hostname="atiende-test.local",
        **options,
    )


async def test_consecutive_emails_share_one_connection(server):
    smtp = mailer(server, pool_size=2)
    try:
        for n in range(5):
            await smtp.send(delivery(n))
    finally:
        await smtp.stop()

    assert server.numbers() == [f"AT-2026-{n:06d}" for n in range(5)]
    assert smtp.connections_opened == 1
    assert len(set(server.peers)) == 1
    assert server.ehlo_names == ["atiende-test.local"] * 5
    assert server.quits == 1  # stop() says goodbye


async def test_concurrent_emails_open_what_they_need_and_keep_at_most_the_pool_size(server):
    smtp = mailer(server, pool_size=2)
    try:
        await asyncio.gather(*(smtp.send(delivery(n)) for n in range(5)))
        assert smtp.connections_opened == 5
        await asyncio.sleep(0.2)  # the three beyond the pool said QUIT
        assert server.quits == 3
        await asyncio.gather(*(smtp.send(delivery(n)) for n in range(5, 7)))
        assert smtp.connections_opened == 5  # the two kept ones were used
    finally:
        await smtp.stop()
    assert len(server.messages) == 7
    assert server.quits == 5


async def test_without_a_pool_every_email_has_its_own_connection(server):
    smtp = mailer(server, pool_size=0)
    for n in range(3):
        await smtp.send(delivery(n))
    await smtp.stop()

    assert len(server.messages) == 3
    assert len(set(server.peers)) == 3
    assert server.quits == 3


async def test_idle_connections_are_closed_after_the_idle_timeout(server):
    smtp = mailer(server, pool_size=2, idle_timeout=0.2)
    try:
        await smtp.send(delivery(1))
        await asyncio.sleep(0.6)
        assert server.quits == 1  # closed by the mailer, politely, while nothing was sent

        await smtp.send(delivery(2))
        assert smtp.connections_opened == 2
    finally:
        await smtp.stop()
    assert server.numbers() == ["AT-2026-000001", "AT-2026-000002"]


async def test_a_kept_connection_the_server_closed_is_replaced_before_the_message_goes(server):
    smtp = mailer(server, pool_size=2)
    try:
        await smtp.send(delivery(1))
        # the server now answers the next MAIL FROM on that connection with 421 and hangs up,
        # as a server that timed it out does: nothing of the message was sent yet
        server.refuse_second_mail_with_421 = True
        await smtp.send(delivery(2))
    finally:
        await smtp.stop()

    assert server.numbers() == ["AT-2026-000001", "AT-2026-000002"]
    assert smtp.connections_opened == 2
    assert server.mails == 3  # the refused MAIL, then the fresh connection's


async def test_a_kept_connection_found_closed_is_not_used(server):
    smtp = mailer(server, pool_size=2)
    try:
        await smtp.send(delivery(1))
        [(client, _)] = smtp._idle
        client.close()  # as when the server hung up while it sat in the pool
        await smtp.send(delivery(2))
    finally:
        await smtp.stop()
    assert server.numbers() == ["AT-2026-000001", "AT-2026-000002"]
    assert smtp.connections_opened == 2


async def test_a_failure_once_the_message_went_out_is_never_retried_on_another_connection(
    server,
):
    smtp = mailer(server, pool_size=2)
    try:
        await smtp.send(delivery(1))
        server.hang_up_after_data = True  # the server takes the message but never answers
        with pytest.raises(SendFailure) as failure:
            await smtp.send(delivery(2))
        assert failure.value.permanent is False  # the dispatcher tries again later
        assert smtp._idle == []  # the broken connection was dropped
    finally:
        await smtp.stop()

    # the second email reached the server once: no second copy over a fresh connection
    assert server.numbers() == ["AT-2026-000001", "AT-2026-000002"]
    assert smtp.connections_opened == 1


async def test_a_refusal_on_a_fresh_connection_is_the_attempts_failure(server):
    smtp = mailer(server, pool_size=2)
    server.hang_up_after_data = True
    with pytest.raises(SendFailure):
        await smtp.send(delivery(1))
    await smtp.stop()
    assert len(server.messages) == 1
    assert smtp.connections_opened == 1


async def test_a_recipient_the_server_refuses_keeps_its_meaning(server):
    """The error mapping of the dispatcher's retries is unchanged by the pool."""
    smtp = mailer(server, pool_size=2)
    broken = replace(delivery(1), recipient="not an address")
    with pytest.raises(SendFailure) as failure:
        await smtp.send(broken)
    await smtp.stop()
    assert failure.value.permanent is True
    assert server.messages == []
