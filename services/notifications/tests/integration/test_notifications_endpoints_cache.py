"""Fanning out events reads the webhook endpoints from a per-process copy, which a change made
anywhere (another replica, or straight in the database) invalidates through the table's NOTIFY:
an endpoint added elsewhere gets the next events, and the table is not read per event."""

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from atiende_contracts import CaseOpened
from atiende_notifications.entrypoints.consumers import _endpoints_cache
from atiende_testing import eventually


def case_opened(number: str) -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number=number,
        customer_id=uuid.uuid4(),
        customer_name="Ana Pérez",
        customer_email="ana@example.com",
        type="complaint",
        channel="phone",
        description="The invoice is wrong",
        opened_at=datetime.now(UTC),
    )


async def emit(svc, event) -> None:
    async with svc.foreign_unit_of_work() as uow:
        await uow.emit(event, subject=event.case_id)


async def handled(svc, number: str) -> bool:
    async with svc.runtime.pool.acquire() as conn:
        return bool(
            await conn.fetchval("SELECT count(*) FROM deliveries WHERE case_number = $1", number)
        )


async def webhooks_of(svc, number: str) -> list[str]:
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT recipient FROM deliveries WHERE channel = 'webhook' AND case_number = $1",
            number,
        )
    return [r["recipient"] for r in rows]


async def test_an_endpoint_added_elsewhere_gets_the_next_events_and_reads_are_cached(
    service_factory, database_url
):
    async with service_factory(
        "notifications", smtp_port=1, webhook_allow_http=True, webhook_allow_private=True
    ) as svc:
        cache = _endpoints_cache(svc.runtime.settings)
        assert cache is not None
        await eventually(lambda: cache.live, message="the endpoints watch never listened")

        for n in range(1, 4):
            await emit(svc, case_opened(f"AT-2026-00000{n}"))
            await eventually(lambda n=n: handled(svc, f"AT-2026-00000{n}"))
        assert cache.loads == 1  # read once for three events

        # added by "another replica": straight into the table, through its own connection
        heard = cache.generation()
        other = await asyncpg.connect(database_url)
        try:
            await other.execute(
                """INSERT INTO notifications.webhook_endpoints (id, url, event_types, secrets,
                       enabled, created_at) VALUES ($1, 'http://127.0.0.1:9/hook', '{}', $2,
                       true, now())""",
                uuid.uuid4(),
                json.dumps([{"value": "whsec_x", "created_at": datetime.now(UTC).isoformat()}]),
            )
        finally:
            await other.close()
        # the NOTIFY invalidates the copy (its age limit would not bump the generation)
        await eventually(lambda: cache.generation() > heard, message="no NOTIFY heard")

        await emit(svc, case_opened("AT-2026-000004"))
        assert await eventually(lambda: webhooks_of(svc, "AT-2026-000004")) == [
            "http://127.0.0.1:9/hook"
        ]
        assert cache.loads == 2
