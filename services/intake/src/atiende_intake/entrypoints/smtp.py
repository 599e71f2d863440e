"""The SMTP listener: customers' emails arrive by SMTP (from the company's MX or a forwarding
rule) and each becomes a contact, recorded exactly as POST /inbound/email records one.

It runs aiosmtpd's SMTP protocol on the service's own asyncio loop (aiosmtpd's Controller would
start a second loop in a thread, away from the database pool). A message is answered:
- 250 only after its contact has committed: once the sending server has our 250, the email is
  ours to keep;
- 451 (try again later) if recording failed (the database is down, the service is stopping, the
  catalogue lacks the email touchpoint): the sending server keeps the message and retries, so
  nothing is lost; a retry of a message that did commit is the same contact (its Message-ID);
- 550 if it can never be a contact (no usable From address): retrying would not help, and the
  sender learns it from the bounce;
- 552 if larger than inbound_email_max_bytes (aiosmtpd's own check).

Mail that is no customer's words is accepted (250) and kept, never recorded as a contact:
auto-replies (out-of-office, vacation) as feedback on the email they answer, bounces (RFC 3464
reports, usually from the null sender `MAIL FROM:<>`) too, and they publish email.bounced; a
message no parser can read is kept whole for an operator. The 250 then says which it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from aiosmtpd.smtp import SMTP, Envelope, Session
from opentelemetry import trace

from atiende_runtime.service import ServiceRuntime

from .. import usecases
from ..domain.email import UnusableEmail
from ..domain.feedback import FeedbackKind
from ..repository.unit_of_work import PostgresUnitOfWork
from ..settings import IntakeSettings
from .mail import note_outcome

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

ACCEPTED = "250 2.0.0 Message accepted"
KEPT = {
    FeedbackKind.AUTO_REPLY: "250 2.0.0 Auto-reply accepted: kept as feedback, not a contact",
    FeedbackKind.BOUNCE: "250 2.0.0 Delivery report accepted",
    FeedbackKind.UNREADABLE: "250 2.0.0 Message accepted for review: it could not be read",
}
NULL_SENDERS = frozenset({"", "<>"})
TRY_LATER = "451 4.3.0 The message could not be recorded now; please try again later"
UNUSABLE = "550 5.6.0 Message refused: it has no usable From address to answer"


class InboundSmtpListener:
    """A Worker (start/stop) serving SMTP on host:port for as long as the service runs."""

    def __init__(
        self,
        runtime: ServiceRuntime[IntakeSettings],
        *,
        host: str,
        port: int,
        domains: Collection[str],
        max_bytes: int,
    ) -> None:
        self.runtime = runtime
        self.host = host
        self.port = port
        self.handler = InboundEmailHandler(runtime, domains)
        self.max_bytes = max_bytes
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()

    def _session(self) -> SMTP:
        """A new connection's protocol. The open ones are kept to be cut at stop (aiosmtpd
        clears `transport` when a connection ends)."""
        self._sessions = {s for s in self._sessions if s.transport is not None}
        protocol = SMTP(
            self.handler,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            hostname=self.runtime.settings.service_name,
            ident="Atiende intake",
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(protocol)
        return protocol

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, self.host, self.port)
        log.info("smtp listener started", extra={"host": self.host, "port": self.port})

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # open sessions are cut: a message not yet answered 250 is retried by its sender
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        self._sessions.clear()
        await self._server.wait_closed()
        self._server = None
        log.info("smtp listener stopped")


class InboundEmailHandler:
    """aiosmtpd's handler: which recipients we take mail for, and what to do with a message."""

    def __init__(self, runtime: ServiceRuntime[IntakeSettings], domains: Collection[str]) -> None:
        self.runtime = runtime
        self.domains = frozenset(d.lower() for d in domains)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if self.domains and domain not in self.domains:
            return "550 5.7.1 We do not accept mail for this domain"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):  # decode_data is off: always bytes; a guard for mypy
            raw = str(raw).encode()
        null_sender = (envelope.mail_from or "").strip() in NULL_SENDERS
        with tracer.start_as_current_span("smtp inbound email", kind=trace.SpanKind.SERVER):
            return await self._record(raw, null_sender)

    async def _record(self, raw: bytes, null_sender: bool) -> str:
        settings = self.runtime.settings
        try:
            async with self.runtime.unit_of_work() as tx:
                outcome = await usecases.receive_mail(
                    PostgresUnitOfWork(tx), raw, settings, null_sender=null_sender
                )
        except UnusableEmail as exc:
            log.warning("smtp email refused", extra={"reason": str(exc)})
            return UNUSABLE
        except Exception:
            log.exception("smtp email not recorded; the sender will retry")
            return TRY_LATER
        note_outcome(outcome, "smtp")
        if isinstance(outcome, usecases.MailKept):
            return KEPT[outcome.kind]
        return ACCEPTED
