"""customer.erased on the real database, broker and SMTP server: the acknowledgement sent to the
customer, its attempt log and the notification.sent kept in the outbox lose the person; a
case.opened arriving after the erasure is kept without them and sends nothing."""

import uuid
from datetime import UTC, datetime

from atiende_contracts import CaseOpened, CustomerErased
from atiende_testing import eventually

CUSTOMER = uuid.uuid4()
PERSONAL = ("Ana Pérez", "ana.perez@example.com", "+34600123456")


async def emit(svc, event, subject):
    async with svc.foreign_unit_of_work() as uow:
        return await uow.emit(event, subject=subject)


def opened(case_id):
    return CaseOpened(
        case_id=case_id,
        case_number="AT-2026-000042",
        customer_id=CUSTOMER,
        customer_name="Ana Pérez",
        customer_email="ana.perez@example.com",
        customer_phone="+34600123456",
        type="complaint",
        channel="email",
        description="The invoice charges me twice",
        opened_at=datetime.now(UTC),
    )


async def mentions(pool, fed_later=None):
    """(table, value) pairs of notifications' tables whose text names Ana. `fed_later`: the id
    of an event this test wrote to the outbox itself after the erasure, as its producer would
    have (the producer's copy, not notifications')."""
    found = set()
    for table in ("deliveries", "delivery_attempts", "recipients", "outbox"):
        for value in PERSONAL:
            if await pool.fetchval(
                f"""SELECT count(*) FROM {table} t WHERE t::text ILIKE '%' || $1 || '%'
                    AND ($2::uuid IS NULL OR to_jsonb(t)->>'event_id' IS DISTINCT FROM $2::text)""",
                value,
                fed_later,
            ):
                found.add((table, value))
    return found


async def test_erasure_scrubs_what_notifications_holds(service_factory, smtp_sink):
    case_id = uuid.uuid4()
    async with service_factory(
        "notifications",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        dispatch_poll_interval=0.2,
    ) as notifications:
        pool = notifications.runtime.pool
        await emit(notifications, opened(case_id), case_id)
        await smtp_sink.wait_for(lambda m: "ana.perez@example.com" in (m["To"] or ""))

        async def sent_and_logged():
            return await pool.fetchval(
                """SELECT count(*) FROM outbox WHERE type LIKE '%notification.sent%'
                   AND published_at IS NOT NULL"""
            ) and await pool.fetchval("SELECT count(*) FROM delivery_attempts")

        await eventually(sent_and_logged, message="the acknowledgement was not sent")
        assert {table for table, _ in await mentions(pool)} >= {
            "deliveries",
            "delivery_attempts",
            "recipients",
            "outbox",
        }

        await emit(
            notifications,
            CustomerErased(customer_id=CUSTOMER, case_ids=[case_id], erased_at=datetime.now(UTC)),
            CUSTOMER,
        )

        async def handled():
            return await pool.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = 'notifications.pseudonymise-customer'"
            )

        await eventually(handled, message="customer.erased was not handled")
        assert await mentions(pool) == set()
        assert await pool.fetchval("SELECT count(*) FROM deliveries") == 1  # the row stays

        # a case.opened of theirs that was delayed past the erasure
        late = uuid.uuid4()
        fed = await emit(notifications, opened(late), late)

        async def remembered():
            return await pool.fetchrow(
                "SELECT customer_name, customer_email FROM recipients WHERE case_id = $1", late
            )

        kept = await eventually(remembered, message="the late case was not remembered")
        assert tuple(kept.values()) == ("[erased]", None)
        assert await mentions(pool, fed_later=fed.id) == set()
        assert await pool.fetchval("SELECT count(*) FROM deliveries") == 1
