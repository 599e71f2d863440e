"""POST /inbound/email: a mail gateway hands over one customer email, raw (RFC 5322). It is
recorded exactly as the SMTP listener records one (usecases.receive_mail): a customer's email is
a contact; an auto-reply, a bounce or an unreadable message is kept (202), never a contact.
GET /inbound/email/kept lists what was kept, for an operator."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.problems import Problem, validation_problem

from ... import usecases
from ...domain.contacts import Outcome
from ...domain.email import UnusableEmail
from ...domain.feedback import FeedbackKind
from ..mail import note_outcome
from .deps import Runtime, transaction, unit_of_work

router = APIRouter(tags=["email"])

RAW_EMAIL = "message/rfc822"


class CaseLink(BaseModel):
    id: uuid.UUID
    number: str


class EmailRecordedOut(BaseModel):
    contact_id: uuid.UUID
    case: CaseLink | None
    outcome: Outcome


class MailKeptOut(BaseModel):
    """The message was no customer's words: kept for an operator, not recorded as a contact."""

    kept_id: uuid.UUID
    kind: FeedbackKind
    reason: str = Field(description="What told us, e.g. `auto-submitted: auto-replied`")
    case_id: uuid.UUID | None = Field(description="The case of the email it answers, if known")
    bounced_recipients: list[str]


class KeptMailOut(BaseModel):
    id: uuid.UUID
    kind: FeedbackKind
    reason: str
    message_id: str
    sender: str | None
    subject: str | None
    delivery_id: uuid.UUID | None
    case_id: uuid.UUID | None
    details: dict[str, Any]
    size: int = Field(description="Bytes of the raw message kept")
    received_at: datetime


class KeptMailPage(BaseModel):
    counts: dict[str, int] = Field(description="Messages kept so far, by kind")
    items: list[KeptMailOut]


def email_recorded_out(recorded: usecases.ContactRecorded) -> EmailRecordedOut:
    case = CaseLink(id=recorded.case.id, number=recorded.case.number) if recorded.case else None
    return EmailRecordedOut(contact_id=recorded.contact_id, case=case, outcome=recorded.outcome)


@router.post(
    "/inbound/email",
    status_code=201,
    response_model=EmailRecordedOut,
    summary="Record a customer's email, given raw (message/rfc822); a reply naming one of our "
    "cases joins it",
    description="Idempotent by the email's Message-ID: the same email again is the same contact "
    "(200, the first answer). An Idempotency-Key is honoured as well.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {RAW_EMAIL: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        200: {"description": "This email was already recorded: the same answer"},
        202: {
            "model": MailKeptOut,
            "description": "An auto-reply, a bounce or an unreadable message: kept, not a contact",
        },
        409: {"description": "The sender's customer was erased (problem+json)"},
        413: {"description": "Larger than inbound_email_max_bytes (problem+json)"},
        415: {"description": "Content-Type is not message/rfc822 (problem+json)"},
        422: {"description": "Not a usable email: no sender, empty (problem+json)"},
    },
)
async def receive_email(
    request: Request,
    runtime: Runtime,
    _: Annotated[Principal, Depends(require("mail-gateway", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    settings = runtime.settings
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != RAW_EMAIL:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"Send the raw email as the body, with Content-Type: {RAW_EMAIL}",
            errors=[
                {
                    "field": "header.Content-Type",
                    "rule": "media_type",
                    "message": f"must be {RAW_EMAIL}",
                }
            ],
        )
    raw = await _read_limited(request, settings.inbound_email_max_bytes)
    if not raw.strip():
        raise validation_problem(
            [{"field": "body", "rule": "unusable_email", "message": "the message is empty"}]
        )
    try:
        async with transaction(runtime) as (tx, uow):

            async def produce() -> Answer:
                outcome = await usecases.receive_mail(uow, raw, settings)
                note_outcome(outcome, "http")
                if isinstance(outcome, usecases.MailKept):
                    return Answer(202, mail_kept_out(outcome))
                return Answer(200 if outcome.replayed else 201, email_recorded_out(outcome))

            # the raw bytes are the request: their digest is what a retry must repeat
            digest = hashlib.sha256(raw).hexdigest()
            return await idempotency.once(tx.conn, request, idempotency_key, digest, produce)
    except UnusableEmail as exc:
        raise validation_problem(
            [{"field": "body", "rule": "unusable_email", "message": str(exc)}]
        ) from exc


def mail_kept_out(kept: usecases.MailKept) -> MailKeptOut:
    return MailKeptOut(
        kept_id=kept.id,
        kind=kept.kind,
        reason=kept.reason,
        case_id=kept.case_id,
        bounced_recipients=[b.recipient for b in kept.bounced],
    )


@router.get(
    "/inbound/email/kept",
    response_model=KeptMailPage,
    summary="Mail kept instead of recorded (auto-replies, bounces, unreadable messages), newest "
    "first, with counts by kind; GET /inbound/email/kept/{id}/raw returns one raw",
)
async def list_kept_mail(
    runtime: Runtime,
    _: Annotated[Principal, Depends(require("supervisor", "agent"))],
    kind: FeedbackKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> KeptMailPage:
    async with unit_of_work(runtime) as uow:
        kept = await usecases.kept_mail(uow, kind, limit)
    return KeptMailPage(
        counts={k.value: n for k, n in kept.counts.items()},
        items=[
            KeptMailOut(
                id=m.id,
                kind=m.kind,
                reason=m.reason,
                message_id=m.message_id,
                sender=m.sender,
                subject=m.subject,
                delivery_id=m.delivery_id,
                case_id=m.case_id,
                details=dict(m.details),
                size=len(m.raw),
                received_at=m.received_at,
            )
            for m in kept.items
        ],
    )


@router.get(
    "/inbound/email/kept/{kept_id}/raw",
    summary="One kept message, raw (message/rfc822), for an operator to read",
    response_class=Response,
    responses={
        200: {"content": {RAW_EMAIL: {}}},
        404: {"description": "No such kept message (problem+json)"},
    },
)
async def kept_mail_raw(
    kept_id: uuid.UUID,
    runtime: Runtime,
    _: Annotated[Principal, Depends(require("supervisor"))],
) -> Response:
    async with unit_of_work(runtime) as uow:
        mail = await usecases.kept_mail_by_id(uow, kept_id)
    return Response(mail.raw, media_type=RAW_EMAIL)


async def _read_limited(request: Request, limit: int) -> bytes:
    too_large = Problem(
        413,
        "Content Too Large",
        f"An email is accepted up to {limit} bytes",
        errors=[{"field": "body", "rule": "max_bytes", "message": f"at most {limit} bytes"}],
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large  # refused before reading it
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)
