"""Erasure on the real database and broker: personal data is pseudonymised everywhere intake keeps
it, counts and history survive, customer.erased is published once, and a former identity is a
stranger afterwards."""

from __future__ import annotations

import uuid

from atiende_intake.domain.customers import pseudonym
from atiende_testing import eventually

PROBLEM_JSON = "application/problem+json"
PERSONAL = (
    "Pérez",
    "ana.perez@example.com",
    "600123456",
    "12345678Z",
    "C-1001",
    "ana_p",
    "IBAN ES91",
    "refund to my card",
    "factura-ana.pdf",
)
"""Everything in the test data below that identifies Ana or was written by her."""
TABLES = (
    "customers",
    "customer_identities",
    "contacts",
    "cases",
    "case_facts",
    "email_feedback",
    # the copies: events kept after publishing, and stored answers to Idempotency-Keys
    "outbox",
    "idempotency_keys",
)


async def outbox(svc, routing_key):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT subject, data, published_at FROM outbox WHERE routing_key = $1"
            " ORDER BY position",
            routing_key,
        )


async def rows_mentioning(svc, text):
    """How many rows of intake's customer tables contain `text` in any column."""
    found = {}
    async with svc.runtime.pool.acquire() as conn:
        for table in TABLES:
            found[table] = await conn.fetchval(
                f"SELECT count(*) FROM {table} t WHERE t::text ILIKE '%' || $1 || '%'", text
            )
    return {table: n for table, n in found.items() if n}


async def counts(svc, customer_id):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchrow(
            """SELECT (SELECT count(*) FROM contacts WHERE customer_id = $1) AS contacts,
                      (SELECT count(*) FROM cases WHERE customer_id = $1) AS cases,
                      (SELECT count(*) FROM customer_identities WHERE customer_id = $1)
                          AS identities""",
            customer_id,
        )


async def create(svc, **body):
    response = await svc.client.post(
        "/customers", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def record(svc, customer, **fields):
    body = {"customer": customer, "channel": "email", "kind": "complaint", "text": "Hello"}
    response = await svc.client.post(
        "/contacts", json=body | fields, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_erasure_scrubs_personal_data_keeps_the_counts_and_happens_once(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(
            intake,
            name="Ana Pérez",
            email="ana.perez@example.com",
            phone="+34600123456",
            document_id="12345678Z",
            external_ids=[{"system": "crm", "id": "C-1001"}],
            chat_handles=[{"platform": "whatsapp", "handle": "ana_p"}],
        )
        customer_id = uuid.UUID(ana["id"])
        opened = await record(
            intake,
            {"email": "ana.perez@example.com", "name": "Ana Pérez"},
            motive="BILLING",
            text="Charged twice, my account is IBAN ES91 2100",
            expectation="A refund to my card",
            attachments=[{"name": "factura-ana.pdf", "size": 2048}],
        )
        await record(intake, {"phone": "600 123 456"}, kind="suggestion", text="Call me, Ana Pérez")
        case_id = opened["case"]["id"]
        async with intake.runtime.pool.acquire() as conn:
            # an out-of-office answer from her, kept for an operator
            await conn.execute(
                """INSERT INTO email_feedback (id, kind, reason, message_id, sender, subject,
                       case_id, details, raw, received_at)
                   VALUES ($1, 'auto_reply', 'auto-submitted', '<ooo@example.com>', $2, $3,
                           $4, $5, $6, now())""",
                uuid.uuid4(),
                "Ana.Perez@example.com",
                "Out of office: Ana Pérez",
                uuid.UUID(case_id),
                {"from": "Ana Pérez <ana.perez@example.com>"},
                b"From: Ana Perez <ana.perez@example.com>",
            )
        for table in ("outbox", "idempotency_keys", "email_feedback"):
            assert table in await rows_mentioning(intake, "ana.perez@example.com"), table
        before = await counts(intake, customer_id)
        assert (before["contacts"], before["cases"], before["identities"]) == (2, 1, 5)

        erased = await intake.client.post(f"/customers/{customer_id}/erase")
        assert erased.status_code == 200, erased.text
        result = erased.json()
        assert result["case_ids"] == [case_id]
        assert (result["contact_count"], result["case_count"]) == (2, 1)

        # the case.opened kept in the outbox still describes a case, without Ana in it
        [case_opened] = await outbox(intake, "case.opened.v1")
        assert case_opened["data"]["customer_name"] == "[erased]"
        assert case_opened["data"]["description"] == "[erased]"
        assert case_opened["data"]["case_id"] == case_id
        async with intake.runtime.pool.acquire() as conn:
            kept = await conn.fetchrow("SELECT sender, subject, raw FROM email_feedback")
        assert (kept["sender"], kept["subject"], kept["raw"]) == (None, "[erased]", b"[erased]")

        events = await outbox(intake, "customer.erased.v1")
        assert [e["subject"] for e in events] == [str(customer_id)]
        assert events[0]["data"]["case_ids"] == [case_id]
        assert events[0]["data"]["customer_id"] == str(customer_id)

        for text in PERSONAL:
            assert await rows_mentioning(intake, text) == {}, text
        assert await counts(intake, customer_id) == before
        profile = (await intake.client.get(f"/customers/{customer_id}")).json()
        assert profile["erased"] is True
        assert profile["name"] == pseudonym(customer_id, "name")
        assert profile["primary_email"] is None
        assert all(i["value"].startswith("erased-") for i in profile["identities"])
        async with intake.runtime.pool.acquire() as conn:
            contact = await conn.fetchrow(
                "SELECT body, expectation, attachments FROM contacts WHERE id = $1",
                uuid.UUID(opened["id"]),
            )
            case = await conn.fetchrow(
                "SELECT description, expectation, reply_email FROM cases WHERE id = $1",
                uuid.UUID(case_id),
            )
        assert (contact["body"], contact["expectation"]) == ("[erased]", "[erased]")
        assert contact["attachments"] == [
            {"name": "[erased]", "size": 2048, "content_type": "application/octet-stream"}
        ]
        assert tuple(case.values()) == ("[erased]", "[erased]", None)
        history = (await intake.client.get(f"/customers/{customer_id}/history")).json()
        assert history["contact_count"] == 2
        assert {item["text"] for item in history["items"]} == {"[erased]"}

        again = await intake.client.post(f"/customers/{customer_id}/erase")
        assert again.status_code == 200
        assert again.json() == result
        assert len(await outbox(intake, "customer.erased.v1")) == 1

        async def published():
            return all(e["published_at"] for e in await outbox(intake, "customer.erased.v1"))

        await eventually(published, message="customer.erased was never published")


async def test_an_erased_customer_stays_erased_and_a_former_identity_is_a_new_customer(
    service_factory,
):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana", email="ana@example.com", phone="+34600123456")
        path = f"/customers/{ana['id']}"
        assert (await intake.client.post(f"{path}/erase")).status_code == 200

        for response in (
            await intake.client.patch(path, json={"tier": "vip"}),
            await intake.client.post(f"{path}/identities", json={"email": "new@example.com"}),
        ):
            assert response.status_code == 409, response.text
            assert response.headers["content-type"] == PROBLEM_JSON
        assert (
            await intake.client.get("/customers", params={"email": "ana@example.com"})
        ).status_code == 404

        returning = await record(intake, {"email": "ana@example.com", "name": "Ana"})
        assert returning["customer_id"] != ana["id"]
        stranger = (await intake.client.get(f"/customers/{returning['customer_id']}")).json()
        assert stranger["erased"] is False
        assert [i["value"] for i in stranger["identities"]] == ["ana@example.com"]
        by_phone = await record(intake, {"phone": "600123456"}, kind="compliment")
        assert by_phone["customer_id"] not in (ana["id"], None)

        missing = await intake.client.post(f"/customers/{uuid.uuid4()}/erase")
        assert missing.status_code == 404


async def test_erasing_a_survivor_erases_the_records_merged_into_it(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana", email="ana@example.com")
        dup = await create(intake, name="Ana Pérez", email="ana.perez@example.com")
        await record(intake, {"id": dup["id"]}, motive="DELIVERY")
        merged = await intake.client.post(
            f"/customers/{ana['id']}/merge", json={"source_customer_id": dup["id"]}
        )
        assert merged.status_code == 201

        via_old_record = await intake.client.post(f"/customers/{dup['id']}/erase")
        assert via_old_record.status_code == 409
        assert ana["id"] in via_old_record.json()["detail"]

        erased = await intake.client.post(f"/customers/{ana['id']}/erase")
        assert erased.status_code == 200
        assert erased.json()["case_ids"] == merged.json()["case_ids"]
        assert await rows_mentioning(intake, "Pérez") == {}
        old_record = (await intake.client.get(f"/customers/{dup['id']}")).json()
        assert old_record["erased"] is True
        assert old_record["name"] == pseudonym(uuid.UUID(dup["id"]), "name")
        undo = await intake.client.post(f"/customer-merges/{merged.json()['id']}/undo")
        assert undo.status_code == 409
