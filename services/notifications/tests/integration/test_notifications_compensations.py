"""Compensations through the real broker, database and SMTP server: the customer is told what
they get in their language and register; the supervisors routing knows are asked to approve."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from email.header import decode_header, make_header
from email.message import Message

from atiende_contracts import (
    AgentChanged,
    Availability,
    CaseOpened,
    CompensationGranted,
    CompensationKind,
    CompensationRequested,
    Formality,
    Rank,
)
from atiende_testing import eventually


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"] or "")))


def plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/plain part in {subject(message)!r}")


def facts(case_id, number):
    return {
        "case_id": case_id,
        "case_number": number,
        "customer_id": uuid.uuid4(),
        "team": "care",
        "agent_id": "ana",
        "catalogue_code": "VOUCHER",
        "catalogue_version": 2,
        "kind": CompensationKind.DISCOUNT,
        "amount": Decimal("1234.50"),
        "currency": "EUR",
    }


async def test_the_customer_hears_what_they_get_and_supervisors_are_asked_to_approve(
    service_factory, smtp_sink
):
    async with service_factory(
        "notifications",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        dispatch_poll_interval=0.2,
    ) as svc:
        case_id, number = uuid.uuid4(), "AT-2026-000901"
        now = datetime.now(UTC)
        async with svc.foreign_unit_of_work() as uow:
            await uow.emit(
                CaseOpened(
                    case_id=case_id,
                    case_number=number,
                    customer_id=uuid.uuid4(),
                    customer_name="Lucía Gómez",
                    customer_email="lucia@example.com",
                    type="complaint",
                    channel="email",
                    description="The parcel came a week late",
                    opened_at=now,
                    language="es",
                    formality=Formality.INFORMAL,
                ),
                subject=case_id,
            )
            for agent_id, rank in (("marta", Rank.SUPERVISOR), ("luis", Rank.SENIOR)):
                await uow.emit(
                    AgentChanged(
                        agent_id=agent_id,
                        name=agent_id.title(),
                        email=f"{agent_id}@example.com",
                        rank=rank,
                        teams=["care"],
                        availability=Availability.AVAILABLE,
                        active=True,
                        changed_at=now,
                    ),
                    subject=agent_id,
                )

        async def staff_known():
            async with svc.runtime.pool.acquire() as conn:
                return await conn.fetchval("SELECT count(*) FROM staff") == 2

        # staff events and case events travel on different queues: know the approvers first
        await eventually(staff_known, message="agent.changed never reached notifications")
        async with svc.foreign_unit_of_work() as uow:
            await uow.emit(
                CompensationRequested(
                    **facts(case_id, number),
                    request_id=uuid.uuid4(),
                    requested_by="ana",
                    requested_by_rank=Rank.AGENT,
                    approver_rank=Rank.SUPERVISOR,
                    reason="second late delivery",
                    requested_at=now,
                ),
                subject=case_id,
            )
            await uow.emit(
                CompensationGranted(
                    **facts(case_id, number),
                    grant_id=uuid.uuid4(),
                    descriptions={"es": "Un bono de descuento", "en": "A discount voucher"},
                    language="es",
                    granted_by="ana",
                    approved_by="marta",
                    granted_at=now,
                ),
                subject=case_id,
            )

        [approval] = await smtp_sink.wait_for(lambda m: "Aprobación pendiente" in subject(m))
        assert "marta@example.com" in approval["To"]  # the supervisor, not the senior
        text = plain_text(approval)
        assert "ana pide su aprobación" in text
        assert "VOUCHER (discount): 1.234,50 EUR" in text
        assert "second late delivery" in text

        [granted] = await smtp_sink.wait_for(lambda m: "compensación" in subject(m))
        assert "lucia@example.com" in granted["To"]
        body = plain_text(granted)
        assert "Un bono de descuento (1.234,50 EUR)" in body
        assert "te ofrecemos" in body  # her register: informal
