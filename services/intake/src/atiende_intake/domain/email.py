"""Customer emails as contacts. Pure: a raw RFC 5322 message in, what `record_contact` needs out.

What counts from an email:
- who wrote: the From address (normalised, as every email identity is) and its display name;
- which case it is about, if it says so: a case number in the Subject ("Re: [AT-2026-000123] …"),
  else in an X-Atiende-Case header, else the notifications it answers (In-Reply-To/References
  name the Message-IDs notifications gave them, `<delivery-id@atiende>`; the caller looks those
  deliveries up, since only it knows which case each was about);
- what the customer wrote: the text/plain part, else the HTML part as text, with the quoted
  history of earlier messages trimmed (the case already has them);
- attachments' names, decoded sizes and types (their content is not kept);
- the Message-ID, as the contact's external reference: the same email delivered twice (a gateway
  retry, an SMTP resend) is one contact.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag
from mailparser_reply import EmailReplyParser

from atiende_contracts import Channel, ContactKind, Direction, LinkReason
from atiende_runtime.languages import LANGUAGE_CODES

from .contacts import (
    CASE_NUMBER_PATTERN,
    TEXT_MAX_LENGTH,
    Attachment,
    RecordContact,
    case_number_in,
)
from .customers import CustomerRef, identity_fields, normalise_email

EMAIL_TOUCHPOINT = "EMAIL"
MAX_ATTACHMENTS = 50
"""More than this many attachments: only the first ones are recorded, and the text says so."""

NAME_MAX_LENGTH = 200
EXTERNAL_REF_MAX_LENGTH = 500
ATTACHMENT_NAME_MAX_LENGTH = 255
REPLY_LANGUAGES = LANGUAGE_CODES
"""Languages whose quoting conventions are trimmed from replies: those Atiende writes in."""

NOTIFICATIONS_MESSAGE_ID = re.compile(
    r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@atiende>", re.IGNORECASE
)
"""The Message-ID notifications gives each email it sends (atiende_notifications.mail.message_id):
the delivery's id at the domain `atiende`."""

MESSAGE_ID = re.compile(r"<[^<>\s]+>")

_CASE_NUMBER_ONLY = re.compile(f"^{CASE_NUMBER_PATTERN}$")

# "El lun, 24 nov 2026 a las 10:00, Atiende (<x@y>) escribió:" (Gmail in Spanish, often wrapped
# over two lines) and its English twin "On Mon, … wrote:". mail-parser-reply's Spanish pattern
# misses Gmail's line (it wants two spaces before "escribió"), so it is cut here as well.
_ATTRIBUTION = re.compile(
    r"^[ \t>]*(?:El|On)\s(?:(?!\n[ \t>]*\n).){0,300}?\s(?:escribió|wrote)\s?:[ \t]*$",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_HTML_BLOCKS = (
    "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer",
)  # fmt: skip


class UnusableEmail(ValueError):
    """The message cannot become a contact: it is not an email, or nobody can be answered."""


@dataclass(frozen=True)
class InboundEmail:
    sender: str
    """The From address, normalised (lower case)."""
    sender_name: str | None
    subject: str
    text: str
    """What the customer wrote, subject first, within RecordContact's length limit."""
    message_id: str
    """The Message-ID, or a digest of the message when it has none (the contact's external_ref)."""
    case_numbers: tuple[str, ...]
    """Case numbers the message names: the Subject's first, then X-Atiende-Case's."""
    replied_deliveries: tuple[uuid.UUID, ...]
    """Notifications' deliveries this message answers (In-Reply-To first, then References,
    newest first)."""
    attachments: tuple[Attachment, ...]
    thread: tuple[str, ...] = ()
    """Every Message-ID it answers (ours and the customer's earlier ones), most recent first."""

    def contact(
        self,
        *,
        kind: ContactKind,
        case_number: str | None,
        link_reason: LinkReason = LinkReason.CASE_NUMBER,
    ) -> RecordContact:
        """The contact this email is, joining `case_number` if given (`link_reason`: how the
        email named it). Motive is left to record_contact (the default motive for a new case,
        until triage reclassifies it)."""
        return RecordContact(
            case_link_reason=link_reason,
            customer=CustomerRef(identity_fields(email=self.sender), name=self.sender_name),
            kind=kind,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            text=self.text,
            touchpoint=EMAIL_TOUCHPOINT,
            case_number=case_number,
            external_ref=self.message_id,
            attachments=self.attachments,
        )


def parse_email(raw: bytes) -> InboundEmail:
    """Read a raw message. Raises UnusableEmail when it has no usable sender address."""
    if not raw.strip():
        raise UnusableEmail("the message is empty")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage objects
    sender, sender_name = _sender(message)
    subject = _header_text(message, "Subject")
    body = _body_part(message)
    attachments = [
        found
        for part in _leaves(message)
        if part is not body and (found := _attachment(part)) is not None
    ]
    notes = []
    if len(attachments) > MAX_ATTACHMENTS:
        notes.append(
            f"[{len(attachments)} attachments; only the first {MAX_ATTACHMENTS} are recorded]"
        )
    written = latest_reply(_part_text(body)) if body is not None else ""
    header_case = _header_text(message, "X-Atiende-Case")
    case_numbers = [
        case_number_in(subject),
        header_case if _CASE_NUMBER_ONLY.match(header_case) else None,
    ]
    return InboundEmail(
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=contact_text(subject, written, notes),
        message_id=message_id_of(message, raw),
        case_numbers=tuple(dict.fromkeys(n for n in case_numbers if n)),
        replied_deliveries=_replied_deliveries(message),
        attachments=tuple(attachments[:MAX_ATTACHMENTS]),
        thread=thread_ids(message),
    )


def contact_text(subject: str, written: str, notes: list[str]) -> str:
    """Subject, then the text, then notes about what was left out; cut to the contact's limit
    with a note saying so, rather than refusing a long email."""
    parts = [p for p in (subject, written) if p]
    text = "\n\n".join(parts) or "(empty email)"
    tail = "\n\n".join(notes)
    room = TEXT_MAX_LENGTH - (len(tail) + 2 if tail else 0)
    if len(text) > room:
        cut = f"\n\n[… text cut: the email had {len(text)} characters]"
        text = text[: room - len(cut)].rstrip() + cut
    return f"{text}\n\n{tail}" if tail else text


def latest_reply(text: str) -> str:
    """What the customer wrote in this message, without the quoted earlier messages below it.
    A message that is nothing but a quote is kept whole rather than recorded empty."""
    reply = EmailReplyParser(languages=list(REPLY_LANGUAGES)).parse_reply(text) or ""
    attribution = next(
        (m for m in _ATTRIBUTION.finditer(reply) if re.search(r"\d", m.group(0))), None
    )
    if attribution is not None:
        reply = reply[: attribution.start()]
    lines = reply.rstrip().splitlines()
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()  # a trailing quote block with no attribution line above it
    trimmed = "\n".join(lines).strip()
    return trimmed or text.strip()


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: paragraphs and line breaks kept, quoted earlier
    messages (Gmail's gmail_quote, <blockquote>) dropped, scripts and styles ignored."""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.select("script, style, head, title, div.gmail_quote, blockquote"):
        element.decompose()
    for string in soup.find_all(string=True):
        if not any(isinstance(p, Tag) and p.name == "pre" for p in string.parents):
            string.replace_with(NavigableString(re.sub(r"\s+", " ", str(string))))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = [line.strip() for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- the parts of a message ---------------------------------------------------------------------


def _sender(message: EmailMessage) -> tuple[str, str | None]:
    try:
        header: Any = message["From"]
        addresses = header.addresses if header is not None else ()
    except (IndexError, ValueError, AttributeError):  # headers the stdlib parser gives up on
        addresses = ()
    if not addresses:
        raise UnusableEmail("the message has no From address to answer")
    address = addresses[0]
    try:
        sender = normalise_email(address.addr_spec)
    except ValueError as exc:
        raise UnusableEmail(f"the From address {address.addr_spec!r} is not valid: {exc}") from exc
    name = " ".join(address.display_name.split())[:NAME_MAX_LENGTH].strip()
    return sender, name or None


def header(message: Message, name: str) -> str:
    """A header's value on one line ('' when absent or unreadable): folding, and any CR/LF an
    encoded word smuggled in, become single spaces, so no header can inject another."""
    return _header_text(message, name)


def thread_ids(message: Message) -> tuple[str, ...]:
    """The Message-IDs a message answers: In-Reply-To first, then References newest first."""
    in_reply_to = MESSAGE_ID.findall(_header_text(message, "In-Reply-To"))
    references = MESSAGE_ID.findall(_header_text(message, "References"))
    return tuple(dict.fromkeys([*in_reply_to, *reversed(references)]))


def _header_text(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _body_part(message: EmailMessage) -> MIMEPart | None:
    """The part the customer wrote in: plain text preferred, else HTML."""
    for preference in ("plain", "html"):
        part = message.get_body(preferencelist=(preference,))
        if part is not None:
            return part
    return None


def _part_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    text = content if isinstance(content, str) else ""
    return html_to_text(text) if part.get_content_subtype() == "html" else text


def _leaves(part: MIMEPart) -> list[MIMEPart]:
    """Every non-multipart part, in order; an attached email (message/rfc822) is one leaf."""
    if part.get_content_maintype() != "multipart":
        return [part]
    leaves: list[MIMEPart] = []
    for sub in part.iter_parts():
        leaves += _leaves(sub)
    return leaves


def _attachment(part: MIMEPart) -> Attachment | None:
    """A leaf part as an attachment: one marked so, or named, or anything that is not text (the
    other text parts are the message's alternative bodies)."""
    filename = part.get_filename()
    is_attachment = (
        part.get_content_disposition() == "attachment"
        or filename is not None
        or part.get_content_maintype() != "text"
    )
    if not is_attachment:
        return None
    size = 0
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        for attached in inner if isinstance(inner, list) else []:
            size += len(attached.as_bytes()) if isinstance(attached, Message) else 0
    else:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
    name = " ".join((filename or "unnamed").split())[:ATTACHMENT_NAME_MAX_LENGTH] or "unnamed"
    return Attachment(name=name, size=size, content_type=part.get_content_type())


def message_id_of(message: Message, raw: bytes) -> str:
    """The Message-ID; a message without one (or with an absurd one) is known by its digest, so
    the same bytes delivered twice are still one contact."""
    given = _header_text(message, "Message-ID")
    if given and len(given) <= EXTERNAL_REF_MAX_LENGTH:
        return given
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _replied_deliveries(message: Message) -> tuple[uuid.UUID, ...]:
    in_reply_to = NOTIFICATIONS_MESSAGE_ID.findall(_header_text(message, "In-Reply-To"))
    references = NOTIFICATIONS_MESSAGE_ID.findall(_header_text(message, "References"))
    ordered = [*in_reply_to, *reversed(references)]
    return tuple(dict.fromkeys(uuid.UUID(found) for found in ordered))
