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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from opentelemetry import trace

from atiende_runtime.service import ServiceRuntime

from .. import usecases
from ..domain.email import UnusableEmail, parse_email
from ..repository.unit_of_work import PostgresUnitOfWork
from ..settings import IntakeSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

ACCEPTED = "250 2.0.0 Message accepted"
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
        with tracer.start_as_current_span("smtp inbound email", kind=trace.SpanKind.SERVER):
            return await self._record(raw)

    async def _record(self, raw: bytes) -> str:
        settings = self.runtime.settings
        try:
            email = parse_email(raw)
        except UnusableEmail as exc:
            log.warning("smtp email refused", extra={"reason": str(exc)})
            return UNUSABLE
        try:
            async with self.runtime.unit_of_work() as tx:
                recorded = await usecases.record_email(PostgresUnitOfWork(tx), email, settings)
        except Exception:
            log.exception("smtp email not recorded; the sender will retry")
            return TRY_LATER
        extra: dict[str, Any] = {
            "contact_id": str(recorded.contact_id),
            "outcome": recorded.outcome.value,
            "replayed": recorded.replayed,
        }
        if recorded.case is not None:
            extra["case_number"] = recorded.case.number
        log.info("email received by smtp", extra=extra)
        return ACCEPTED
