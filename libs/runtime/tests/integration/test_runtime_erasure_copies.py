"""scrub_copies on the real tables: an erased customer's data leaves the outbox (pending and
published rows) and the Idempotency-Key store, the rows stay (and still validate), others are
untouched."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from atiende_contracts import CaseOpened
from atiende_runtime import idempotency
from atiende_runtime.erasure import ERASED, scrub_copies
from atiende_runtime.outbox import enqueue


def opened(name: str, email: str, description: str, phone: str) -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number="AT-2026-000001",
        customer_id=uuid.uuid4(),
        customer_name=name,
        customer_email=email,
        type="complaint",
        channel="phone",
        description=description,
        opened_at="2026-03-01T10:00:00Z",
        customer_phone=phone,
    )


async def test_scrub_copies_rewrites_her_rows_and_leaves_the_others(pool: asyncpg.Pool) -> None:
    hers = opened("Ana Pérez", "ana@example.com", "The fridge came dented", "+34600123456")
    other = opened("Bea Ruiz", "bea@example.com", "Ana Pérez served me well", "+34600999888")
    unrelated = opened("Carla Gil", "carla@example.com", "The fridge came dented", "+34611222333")
    async with pool.acquire() as conn, conn.transaction():
        for event in (hers, other, unrelated):
            await enqueue(conn, event, source="svc", subject=event.case_id)
        await conn.execute(
            "UPDATE outbox SET published_at = now() WHERE data->>'customer_name' = 'Bea Ruiz'"
        )
        await idempotency.claim(conn, "POST /cases", "k-1", "h", caller="agent")
        await idempotency.remember(
            conn,
            "POST /cases",
            "k-1",
            201,
            {"id": str(hers.case_id), "description": "The fridge came dented"},
            {"Location": f"/cases/{hers.case_id}"},
            caller="agent",
        )

        scrubbed = await scrub_copies(
            conn,
            subjects=[hers.customer_id, hers.case_id],
            values=["Ana Pérez", "ana@example.com", "+34 600 123 456"],
            free_text={"description", "customer_name", "customer_email", "customer_phone"},
        )
        rows = {
            r["data"]["case_id"]: r["data"]
            for r in await conn.fetch("SELECT data FROM outbox ORDER BY position")
        }
        response = await conn.fetchval("SELECT response FROM idempotency_keys")

    assert (scrubbed.outbox, scrubbed.idempotency) == (2, 1)
    mine: dict[str, Any] = rows[str(hers.case_id)]
    assert (mine["customer_name"], mine["customer_email"], mine["description"]) == (ERASED,) * 3
    assert mine["customer_phone"] == ERASED
    CaseOpened.model_validate(mine)  # still a valid event for whoever consumes it later
    # another customer's row loses only the text naming her
    assert rows[str(other.case_id)]["description"] == ERASED
    assert rows[str(other.case_id)]["customer_name"] == "Bea Ruiz"
    assert rows[str(unrelated.case_id)] == unrelated.model_dump(mode="json")
    assert response == {"id": str(hers.case_id), "description": ERASED}
