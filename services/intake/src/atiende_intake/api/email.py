"""POST /inbound/email: a mail gateway hands over one customer email, raw (RFC 5322). It is
recorded exactly as the SMTP listener records one (channels.record_email)."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.idempotency import IdempotencyKey
from atiende_runtime.problems import Problem
from atiende_runtime.service import runtime_of

from ..channels import record_email
from ..domain.contacts import Outcome
from ..domain.email import UnusableEmail, parse_email
from ..usecases import ContactRecorded
from ..usecases import invalid as invalid_fields

if TYPE_CHECKING:
    from ..app import IntakeSettings

router = APIRouter(tags=["email"])

RAW_EMAIL = "message/rfc822"


class CaseLink(BaseModel):
    id: uuid.UUID
    number: str


class EmailRecordedOut(BaseModel):
    contact_id: uuid.UUID
    case: CaseLink | None
    outcome: Outcome


def email_recorded_out(recorded: ContactRecorded) -> EmailRecordedOut:
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
    response: Response,
    _: Annotated[Principal, Depends(require("mail-gateway", "intake"))],
    idempotency_key: IdempotencyKey = None,
) -> EmailRecordedOut | JSONResponse:
    runtime = runtime_of(request)
    settings = cast("IntakeSettings", runtime.settings)
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
        raise invalid_fields(
            [{"field": "body", "rule": "unusable_email", "message": str(exc)}]
        ) from exc

    scope = "POST /inbound/email"
    async with runtime.unit_of_work() as uow:
        if idempotency_key is not None:
            digest = hashlib.sha256(raw).hexdigest()
            earlier = await idempotency.claim(uow.conn, scope, idempotency_key, digest)
            if earlier is not None:
                return earlier.response()
        recorded = await record_email(uow, email, settings)
        answer = email_recorded_out(recorded)
        status = 200 if recorded.replayed else 201
        if idempotency_key is not None:
            await idempotency.remember(uow.conn, scope, idempotency_key, status, answer)
    response.status_code = status
    return answer


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
