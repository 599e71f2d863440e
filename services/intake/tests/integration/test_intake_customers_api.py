"""Customers over HTTP on the real database and broker: create, read, find by any identity,
change the profile, attach identities; the events each emits; conflicts, bad input, roles."""

from __future__ import annotations

import uuid

from atiende_runtime.auth import mint_token
from atiende_testing import eventually

PROBLEM_JSON = "application/problem+json"
SECRET = "customers-test-secret-long-enough-for-hs256"

ANA = {
    "name": "Ana Pérez",
    "email": "Ana.Perez@Example.com",
    "phone": "600 123 456",
    "document_id": "12.345.678-z",
    "external_ids": [{"system": "crm", "id": "C-1001"}],
    "chat_handles": [{"platform": "whatsapp", "handle": "ana_p"}],
    "tier": "vip",
    "language": "es",
    "formality": "informal",
    "consent_surveys": False,
    "consent_marketing": True,
}


async def outbox(svc, routing_key):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT subject, data, published_at FROM outbox WHERE routing_key = $1"
            " ORDER BY position",
            routing_key,
        )


async def count(svc, table):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")


async def create(svc, **body):
    response = await svc.client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(*roles):
    token = mint_token(SECRET, subject="u-1", roles=roles)
    return {"Authorization": f"Bearer {token}"}


async def test_a_created_customer_is_found_by_each_identity_however_it_is_written(
    service_factory,
):
    async with service_factory("intake") as intake:
        response = await intake.client.post("/customers", json=ANA)
        assert response.status_code == 201, response.text
        ana = response.json()
        assert response.headers["location"] == f"/customers/{ana['id']}"

        read = await intake.client.get(response.headers["location"])
        assert read.status_code == 200
        assert read.json() == ana
        assert ana["primary_email"] == "ana.perez@example.com"
        assert (ana["tier"], ana["language"], ana["formality"]) == ("vip", "es", "informal")
        assert (ana["consent_surveys"], ana["consent_marketing"]) == (False, True)
        assert ana["merged_into"] is None
        assert ana["erased"] is False
        assert sorted((i["kind"], i["scope"], i["value"]) for i in ana["identities"]) == [
            ("chat", "whatsapp", "ana_p"),
            ("document", "national_id", "12345678Z"),
            ("email", "", "ana.perez@example.com"),
            ("external", "crm", "C-1001"),
            ("phone", "", "+34600123456"),
        ]

        for query in (
            {"email": "ANA.PEREZ@example.COM"},
            {"phone": "+34 600-123-456"},
            {"phone": "600123456", "phone_region": "ES"},
            {"document_id": "12345678-Z"},
            {"external": "crm:C-1001"},
            {"chat": "whatsapp:ana_p"},
        ):
            found = await intake.client.get("/customers", params=query)
            assert found.status_code == 200, (query, found.text)
            assert found.json()["id"] == ana["id"], query

        changed = await outbox(intake, "customer.profile_changed.v1")
        assert [row["subject"] for row in changed] == [ana["id"]]
        assert changed[0]["data"] | {"changed_at": None} == {
            "customer_id": ana["id"],
            "tier": "vip",
            "language": "es",
            "formality": "informal",
            "consent_surveys": False,
            "consent_marketing": True,
            "preferred_channel": None,
            "changed_at": None,
            "actor": None,  # authentication is off here
        }

        async def published():
            return all(
                r["published_at"] for r in await outbox(intake, "customer.profile_changed.v1")
            )

        await eventually(published, message="the relay never published customer.profile_changed")


async def test_finding_needs_exactly_one_valid_identity_and_says_when_nobody_has_it(
    service_factory,
):
    async with service_factory("intake") as intake:
        await create(intake, name="Ana", email="ana@example.com")

        nobody = await intake.client.get("/customers", params={"email": "nobody@example.com"})
        assert nobody.status_code == 404
        assert nobody.headers["content-type"] == PROBLEM_JSON

        none_given = await intake.client.get("/customers")
        assert none_given.status_code == 422
        assert [e["field"] for e in none_given.json()["errors"]] == ["query"]

        two = await intake.client.get(
            "/customers", params={"email": "ana@example.com", "phone": "+34600123456"}
        )
        assert two.status_code == 422
        assert {e["field"] for e in two.json()["errors"]} == {"query.email", "query.phone"}

        for query, field in (
            ({"email": "not-an-email"}, "query.email"),
            ({"phone": "12"}, "query.phone"),
            ({"external": "no-colon"}, "query.external"),
            ({"chat": "Upper:handle"}, "query.chat"),
            ({"name": "Ana"}, "query.name"),
        ):
            bad = await intake.client.get("/customers", params=query)
            assert bad.status_code == 422, (query, bad.text)
            assert bad.headers["content-type"] == PROBLEM_JSON
            assert field in {e["field"] for e in bad.json()["errors"]}, (query, bad.json())

        missing = await intake.client.get(f"/customers/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM_JSON


async def test_an_identity_of_another_customer_is_a_conflict_naming_field_and_owner(
    service_factory,
):
    async with service_factory("intake") as intake:
        ana = await create(
            intake,
            name="Ana",
            email="ana@example.com",
            external_ids=[{"system": "crm", "id": "C-1"}],
        )
        customers_before = await count(intake, "customers")

        taken = await intake.client.post(
            "/customers",
            json={
                "name": "Ana P.",
                "email": "ANA@example.com",
                "phone": "+34600123456",
                "external_ids": [{"system": "erp", "id": "9"}, {"system": "crm", "id": "C-1"}],
            },
        )
        assert taken.status_code == 409, taken.text
        assert taken.headers["content-type"] == PROBLEM_JSON
        problem = taken.json()
        assert {(e["field"], e["owner_id"]) for e in problem["errors"]} == {
            ("email", ana["id"]),
            ("external_ids.1", ana["id"]),
        }
        assert ana["id"] in problem["detail"]
        # nothing half-saved: no customer, not even the phone that was free
        assert await count(intake, "customers") == customers_before
        free_phone = await intake.client.get("/customers", params={"phone": "+34600123456"})
        assert free_phone.status_code == 404
        assert len(await outbox(intake, "customer.profile_changed.v1")) == 1


async def test_bad_input_names_the_field(service_factory):
    async with service_factory("intake") as intake:
        for body, field in (
            ({"email": "a@example.com"}, "name"),
            ({"name": "A", "language": "fr"}, "language"),
            ({"name": "A", "formality": "casual"}, "formality"),
            ({"name": "A", "tier": "gold"}, "tier"),
            ({"name": "A", "phone": "123"}, "phone"),
            ({"name": "A", "email": "a@"}, "email"),
            ({"name": "A", "document_id": "1"}, "document_id"),
            (
                {"name": "A", "external_ids": [{"system": "CRM", "id": "1"}]},
                "external_ids.0.system",
            ),
            ({"name": "A", "nickname": "Anita"}, "nickname"),
            ({"name": "x" * 201}, "name"),
        ):
            response = await intake.client.post("/customers", json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
            assert field in {e["field"] for e in response.json()["errors"]}, response.json()
        assert await count(intake, "customers") == 0


async def test_idempotency_key_gives_the_first_answer_and_one_customer(service_factory):
    async with service_factory("intake") as intake:
        body = {"name": "Ana", "email": "ana@example.com"}
        headers = {"Idempotency-Key": "create-ana-1"}
        first = await intake.client.post("/customers", json=body, headers=headers)
        again = await intake.client.post("/customers", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert await count(intake, "customers") == 1
        assert len(await outbox(intake, "customer.profile_changed.v1")) == 1

        other_body = await intake.client.post(
            "/customers", json={**body, "name": "Ana María"}, headers=headers
        )
        assert other_body.status_code == 422
        assert other_body.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_patch_changes_the_profile_and_announces_only_real_changes(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana", email="ana@example.com")
        path = f"/customers/{ana['id']}"

        vip = await intake.client.patch(path, json={"tier": "vip", "language": "en"})
        assert vip.status_code == 200, vip.text
        assert (vip.json()["tier"], vip.json()["language"], vip.json()["name"]) == (
            "vip",
            "en",
            "Ana",
        )
        changed = await outbox(intake, "customer.profile_changed.v1")
        assert len(changed) == 2
        assert changed[-1]["subject"] == ana["id"]
        assert (changed[-1]["data"]["tier"], changed[-1]["data"]["language"]) == ("vip", "en")

        same = await intake.client.patch(path, json={"tier": "vip"})
        assert same.status_code == 200
        renamed = await intake.client.patch(path, json={"name": "Ana Pérez"})
        assert renamed.json()["name"] == "Ana Pérez"
        assert len(await outbox(intake, "customer.profile_changed.v1")) == 2

        consent = await intake.client.patch(path, json={"consent_surveys": False})
        assert consent.json()["consent_surveys"] is False
        assert len(await outbox(intake, "customer.profile_changed.v1")) == 3
        assert (await intake.client.get(path)).json()["consent_surveys"] is False

        for body, field in (
            ({"tier": None}, "tier"),
            ({"name": ""}, "name"),
            ({"language": "de"}, "language"),
            ({"email": "x@example.com"}, "email"),
        ):
            bad = await intake.client.patch(path, json=body)
            assert bad.status_code == 422, (body, bad.text)
            assert [e["field"] for e in bad.json()["errors"]] == [field]

        missing = await intake.client.patch(f"/customers/{uuid.uuid4()}", json={"tier": "vip"})
        assert missing.status_code == 404


async def test_attached_identities_resolve_later_contacts_to_the_customer(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana")
        luis = await create(intake, name="Luis", email="luis@example.com")
        path = f"/customers/{ana['id']}/identities"

        attached = await intake.client.post(
            path,
            json={
                "email": "ana@example.com",
                "phone": "+34 600 123 456",
                "chat_handles": [{"platform": "telegram", "handle": "anap"}],
            },
        )
        assert attached.status_code == 200, attached.text
        assert attached.json()["primary_email"] == "ana@example.com"
        assert len(attached.json()["identities"]) == 3
        again = await intake.client.post(path, json={"phone": "600123456"})
        assert again.status_code == 200
        assert again.json()["identities"] == attached.json()["identities"]

        taken = await intake.client.post(path, json={"email": "LUIS@example.com"})
        assert taken.status_code == 409
        assert taken.json()["errors"][0] | {"message": None} == {
            "field": "email",
            "rule": "identity_taken",
            "owner_id": luis["id"],
            "message": None,
        }

        empty = await intake.client.post(path, json={})
        assert empty.status_code == 422
        assert empty.json()["errors"][0]["field"] == "body"
        nobody = await intake.client.post(
            f"/customers/{uuid.uuid4()}/identities", json={"email": "x@example.com"}
        )
        assert nobody.status_code == 404

        contact = await intake.client.post(
            "/contacts",
            json={
                "customer": {"chat_handles": [{"platform": "telegram", "handle": "anap"}]},
                "kind": "suggestion",
                "channel": "chat",
                "text": "Open on Sundays",
            },
        )
        assert contact.status_code == 201, contact.text
        assert contact.json()["customer_id"] == ana["id"]


async def test_roles_guard_each_route(service_factory):
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        created = await intake.client.post(
            "/customers", json={"name": "Ana"}, headers=bearer("intake")
        )
        assert created.status_code == 201
        path = f"/customers/{created.json()['id']}"
        assert (await intake.client.get(path, headers=bearer("intake"))).status_code == 403
        assert (await intake.client.get(path, headers=bearer("supervisor"))).status_code == 200
        refused = await intake.client.post(
            "/customers", json={"name": "B"}, headers=bearer("admin")
        )
        assert refused.status_code == 403
        erase_as_agent = await intake.client.post(f"{path}/erase", headers=bearer("agent"))
        assert erase_as_agent.status_code == 403
        merge_as_agent = await intake.client.post(
            f"{path}/merge", json={"source_customer_id": str(uuid.uuid4())}, headers=bearer("agent")
        )
        assert merge_as_agent.status_code == 403
