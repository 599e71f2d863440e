"""How a delivery becomes a MIME message, and how that message goes out over SMTP (aiosmtplib).
`render` renders a notice with the shipped templates only (no administrator's versions): the
use cases render with the template store.
"""

from __future__ import annotations

import asyncio
import email.errors
import email.policy
import socket
import time
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from atiende_contracts import NotificationChannel

from ..domain import Body, Delivery, Notice, message_id
from ..domain.templating import TemplateKey, select
from ..domain.templating import render as render_template
from ..settings import NotificationsSettings
from ..usecases import SendFailure


def render(notice: Notice) -> Body:
    """The notice's shipped email template in its language and register."""
    key = TemplateKey(notice.template, NotificationChannel.EMAIL, notice.language, notice.register)
    _, text = select(key, {})
    rendered = render_template(
        text, notice.context, str(notice.language), emphasise=notice.recipient.case_number
    )
    return Body(text=rendered.text, html=rendered.html, subject=rendered.subject)


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, making each header's class once. The standard one builds a
    new class with type() for every header it parses (~10 % of building and flattening an
    email); the classes are stateless, so the headers, and the bytes on the wire, are the
    same."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_HEADER_CLASSES = _HeaderClasses()
POLICY = email.policy.default.clone(header_factory=_HEADER_CLASSES)
"""email.policy.default (what EmailMessage() uses) with the registry above."""


class _Constant:
    """A header every email carries with the same value: parsed once, and folded once for each
    policy that asks (the SMTP generator's), instead of for every email. Mixed into the
    registry's class for the header; the folded text depends only on the value, the line length,
    the line separator and whether UTF-8 is allowed."""

    _folds: dict[tuple[Any, ...], str]

    def fold(self, *, policy: Any) -> str:
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        folded = self._folds.get(key)
        if folded is None:
            folded = self._folds[key] = super().fold(policy=policy)  # type: ignore[misc]
        return folded


def constant_header(name: str, value: str) -> BaseHeader:
    """`name: value` as a header object for `message[name] = ...` (which then stores it as it
    is, without parsing it again); raises what parsing the value raises."""
    base: type[BaseHeader] = _HEADER_CLASSES[name]
    header: BaseHeader = type(f"_Constant{base.__name__}", (_Constant, base), {})(name, value)
    header._folds = {}  # type: ignore[attr-defined]
    return header


_AUTO_SUBMITTED = constant_header("Auto-Submitted", "auto-generated")
_NO_AUTO_RESPONSE = constant_header("X-Auto-Response-Suppress", "All")


def build_message(delivery: Delivery, sender: str | BaseHeader) -> EmailMessage:
    """A delivery as an email. The Message-ID and X-Atiende-Delivery come from the delivery id
    (itself derived from the idempotency key), so every resend of it is recognisably the same.

    Raises ValueError or email.errors.MessageError if the recipient address cannot be used.
    """
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = Address(
        display_name=delivery.recipient_name or "", addr_spec=delivery.recipient
    )
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = message_id(delivery)
    if delivery.thread:
        # every email of a case answers its acknowledgement, so the customer's client threads
        # them and a reply to any of them finds the case in intake
        message["In-Reply-To"] = delivery.thread
        message["References"] = delivery.thread
    message["X-Atiende-Delivery"] = str(delivery.id)
    if delivery.case_number:
        message["X-Atiende-Case"] = delivery.case_number
    # No auto-replies ("out of office") back to a no-reply sender (RFC 3834).
    message["Auto-Submitted"] = _AUTO_SUBMITTED
    message["X-Auto-Response-Suppress"] = _NO_AUTO_RESPONSE  # the same, for Exchange/Outlook
    message.set_content(delivery.body_text)
    if delivery.body_html:
        message.add_alternative(delivery.body_html, subtype="html")
    return message


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the message itself has begun to go out (DATA): up to
    then the server cannot have accepted it, so a failure may be retried on another connection
    without the email ever arriving twice."""

    data_started = False

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(message, **kwargs)


_CLOSED = 421
"""The SMTP reply "service not available, closing transmission channel": what a server that
timed out an idle connection may answer the next command with."""


class SmtpMailer:
    """The Mailer port over SMTP, keeping up to `pool_size` connections open between emails.

    A new connection per email (connect, EHLO, maybe STARTTLS and AUTH, then QUIT) was most of
    what sending cost; now an email takes an idle connection if there is one, else opens one,
    and hands it back afterwards. Connections idle for `idle_timeout` seconds are closed (with
    QUIT), well before a server's own idle limit (RFC 5321: at least 5 minutes).

    Never twice because of the reuse: a reused connection that turns out closed (the server
    timed it out or went away) before the message's DATA began is retried once on a fresh
    connection; any failure once DATA began, or on a fresh connection, is the attempt's
    failure (the dispatcher retries later, with the same Message-ID). A connection that failed
    in any way is closed, never reused.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = None,  # None: use STARTTLS when the server offers it
        *,
        pool_size: int = 4,
        idle_timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self.username = username
        self._password = password
        self.start_tls = start_tls
        self.pool_size = pool_size
        self.idle_timeout = idle_timeout
        # None: the machine's FQDN, looked up once (aiosmtplib would look it up, in a thread,
        # for every connection)
        self._local_hostname = local_hostname
        self._from = constant_header("From", sender)  # a sender that does not parse fails here
        self._idle: list[tuple[_Client, float]] = []  # most recently used last
        self._reaper: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.connections_opened = 0

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpMailer:
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            start_tls=settings.smtp_start_tls,
            pool_size=settings.smtp_pool_size,
            idle_timeout=settings.smtp_pool_idle_timeout,
            local_hostname=settings.smtp_local_hostname,
        )

    async def send(self, delivery: Delivery) -> None:
        """Hand the delivery's email to the SMTP server; raises SendFailure if not accepted."""
        try:
            message = build_message(delivery, self._from)
        except (ValueError, email.errors.MessageError) as exc:
            error = f"unusable recipient {delivery.recipient!r}: {exc}"
            raise SendFailure(error, permanent=True) from exc
        try:
            client = self._take()
            if client is not None:
                try:
                    await self._transmit(client, message)
                    return
                except (aiosmtplib.SMTPException, OSError) as exc:
                    if client.data_started or not _closed_connection(exc):
                        raise
                    # the kept connection had been closed: the message never reached the server
            await self._transmit(await self._open(), message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusals = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise SendFailure(
                f"recipient refused: {refusals}",
                permanent=all(r.code >= 500 for r in exc.recipients),
            ) from exc
        except aiosmtplib.SMTPDataError as exc:
            error = f"message refused: {exc.code} {exc.message}"
            raise SendFailure(error, permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # connection refused or lost, timeouts, sender or authentication refused: the server
            # or our configuration may be fixed meanwhile, so these are retried
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc

    async def _transmit(self, client: _Client, message: EmailMessage) -> None:
        client.data_started = False
        try:
            await client.send_message(message)
        except BaseException:
            client.close()  # whatever state it is in, it is not used again
            raise
        self._give_back(client)

    async def _open(self) -> _Client:
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        client = _Client(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            username=self.username,
            password=self._password,
            start_tls=self.start_tls,
            local_hostname=self._local_hostname,
        )
        await client.connect()  # closes itself if it fails
        self.connections_opened += 1
        return client

    def _take(self) -> _Client | None:
        """The most recently used idle connection still open and not idle for too long."""
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < self.idle_timeout:
                return client
            self._quit(client)
        return None

    def _give_back(self, client: _Client) -> None:
        if not client.is_connected or len(self._idle) >= self.pool_size:
            self._quit(client)
            return
        self._idle.append((client, time.monotonic()))
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().call_later(self.idle_timeout, self._reap)

    def _reap(self) -> None:
        """Close the connections idle for `idle_timeout`; look again when the next one will be."""
        self._reaper = None
        now = time.monotonic()
        fresh = []
        for client, since in self._idle:
            if now - since >= self.idle_timeout or not client.is_connected:
                self._quit(client)
            else:
                fresh.append((client, since))
        self._idle = fresh
        if fresh:
            wait = max(fresh[0][1] + self.idle_timeout - now, 0.05)
            self._reaper = asyncio.get_running_loop().call_later(wait, self._reap)

    def _quit(self, client: _Client) -> None:
        """Say QUIT and close, in the background (a connection closing is nobody's wait)."""
        if not client.is_connected:
            client.close()
            return
        task = asyncio.get_running_loop().create_task(_quit(client, min(self.timeout, 5.0)))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def start(self) -> None:
        """Nothing to do: connections open when the first email goes."""

    async def stop(self) -> None:
        """Close every kept connection (the service is stopping)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        for client, _ in idle:
            self._quit(client)
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=self.timeout)


async def _quit(client: _Client, wait: float) -> None:
    try:
        await client.quit(timeout=wait)
    except (aiosmtplib.SMTPException, OSError):
        pass  # it is going away either way
    finally:
        client.close()


def _closed_connection(exc: BaseException) -> bool:
    """Whether a failure says the connection was closed, not that the server refused us."""
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == _CLOSED


__all__ = ["SendFailure", "SmtpMailer", "build_message", "message_id", "render"]
