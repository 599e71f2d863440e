"""Idempotency-Key on POST /contacts and POST /cases, on the real database: a retry gets the first
answer and causes nothing more, even when it races the first request."""

import asyncio

import pytest

CONTACT = {
    "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
    "kind": "complaint",
    "channel": "phone",
    "text": "I was charged twice",
    "motive": "BILLING",
    "cause": "BILLING_DUPLICATE_CHARGE",
}
CASE = {
    "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
    "type": "claim",
    "channel": "letter",
    "description": "Please refund the second charge",
    "motive": "BILLING",
}
CREATES = [("/contacts", CONTACT), ("/cases", CASE)]


async def effects(svc):
    """Rows every create writes: contacts, cases, customers and events."""
    async with svc.runtime.pool.acquire() as conn:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("contacts", "cases", "customers", "outbox")
        }


@pytest.mark.parametrize(("path", "body"), CREATES)
async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    service_factory, path, body
):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "retry-1"}
        first = await intake.client.post(path, json=body, headers=headers)
        assert first.status_code == 201, first.text
        after_first = await effects(intake)

        # the same body with its keys in another order is the same request
        again = await intake.client.post(path, json=dict(reversed(body.items())), headers=headers)

        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert await effects(intake) == after_first


@pytest.mark.parametrize(("path", "body"), CREATES)
async def test_the_same_key_with_another_body_is_refused(service_factory, path, body):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "reused"}
        assert (await intake.client.post(path, json=body, headers=headers)).status_code == 201
        after_first = await effects(intake)

        other = {**body, "channel": "email"}
        refused = await intake.client.post(path, json=other, headers=headers)

        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == ["header.Idempotency-Key"]
        assert await effects(intake) == after_first


@pytest.mark.parametrize(("path", "body"), CREATES)
async def test_concurrent_requests_with_one_key_have_one_effect(service_factory, path, body):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "double-click"}
        answers = await asyncio.gather(
            *(intake.client.post(path, json=body, headers=headers) for _ in range(4))
        )

        assert [a.status_code for a in answers] == [201] * 4
        assert all(a.json() == answers[0].json() for a in answers)
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 3
        counts = await effects(intake)
        assert (counts["contacts"], counts["cases"], counts["customers"]) == (1, 1, 1)


async def test_keys_are_scoped_per_route(service_factory):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "same-key"}
        contact = await intake.client.post("/contacts", json=CONTACT, headers=headers)
        case = await intake.client.post("/cases", json=CASE, headers=headers)

        assert (contact.status_code, case.status_code) == (201, 201)
        assert case.json()["id"] != contact.json()["case"]["id"]


async def test_a_refused_request_does_not_use_up_its_key(service_factory):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "fix-and-retry"}
        unknown_motive = {**CONTACT, "motive": "NO_SUCH_MOTIVE", "cause": None}
        refused = await intake.client.post("/contacts", json=unknown_motive, headers=headers)
        assert refused.status_code == 422

        fixed = await intake.client.post("/contacts", json=CONTACT, headers=headers)
        assert fixed.status_code == 201, fixed.text
        assert "idempotent-replayed" not in fixed.headers


async def test_a_malformed_key_is_refused_naming_the_header(service_factory):
    async with service_factory("intake") as intake:
        refused = await intake.client.post(
            "/contacts", json=CONTACT, headers={"Idempotency-Key": "has spaces"}
        )

        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["header.Idempotency-Key"]
        assert (await effects(intake))["contacts"] == 0
