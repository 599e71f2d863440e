"""POST /inbound/email: a mail gateway hands over one customer email, raw (RFC 5322). It is
recorded exactly as the SMTP listener records one (usecases.record_email)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import Answer, IdempotencyKey
from atiende_runtime.problems import Problem, validation_problem

from ... import usecases
from ...domain.contacts import Outcome
from ...domain.email import UnusableEmail, parse_email
from .deps import Runtime, transaction

router = APIRouter(tags=["email"])

RAW_EMAIL = "message/rfc822"


class CaseLink(BaseModel):
    id: uuid.UUID
    number: str


class EmailRecordedOut(BaseModel):
    contact_id: uuid.UUID
    case: CaseLink | None
    outcome: Outcome


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
    try:
        email = parse_email(raw)
    except UnusableEmail as exc:
        raise validation_problem(
            [{"field": "body", "rule": "unusable_email", "message": str(exc)}]
        ) from exc

    async with transaction(runtime) as (tx, uow):

        async def produce() -> Answer:
            recorded = await usecases.record_email(uow, email, settings)
            return Answer(200 if recorded.replayed else 201, email_recorded_out(recorded))

        # the raw bytes are the request: their digest is what a retry must repeat
        digest = hashlib.sha256(raw).hexdigest()
        return await idempotency.once(tx.conn, request, idempotency_key, digest, produce)


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
