"""Merging two records of one person, and undoing it, on the real database and broker: what moves,
what the events say, what an undo restores, and when either is refused. Also the customer
history both rely on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

PROBLEM_JSON = "application/problem+json"


async def outbox(svc, routing_key):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT subject, data FROM outbox WHERE routing_key = $1 ORDER BY position",
            routing_key,
        )


async def create(svc, **body):
    response = await svc.client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def contact(svc, customer, kind="complaint", motive=None, **extra):
    body = {"customer": customer, "kind": kind, "channel": "phone", "text": "about my order"}
    if motive:
        body["motive"] = motive
    response = await svc.client.post("/contacts", json=body | extra)
    assert response.status_code == 201, response.text
    return response.json()


async def history(svc, customer_id):
    """The whole history, every page."""
    items, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await svc.client.get(f"/customers/{customer_id}/history", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return page | {"items": items, "next_cursor": None}


async def profile(svc, customer_id):
    response = await svc.client.get(f"/customers/{customer_id}")
    assert response.status_code == 200, response.text
    return response.json()


def without_times(customer):
    return {k: v for k, v in customer.items() if k != "updated_at"}


async def merge(svc, target_id, source_id, **headers):
    return await svc.client.post(
        f"/customers/{target_id}/merge",
        json={"source_customer_id": source_id},
        headers=headers,
    )


async def test_merge_moves_everything_and_undo_restores_exactly_what_moved(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana", email="ana@example.com")
        dup = await create(
            intake,
            name="Ana P.",
            email="ana.p@example.com",
            phone="+34600123456",
            external_ids=[{"system": "crm", "id": "C-7"}],
        )
        await contact(intake, {"id": ana["id"]}, motive="BILLING")
        await contact(intake, {"email": "ana.p@example.com"}, motive="DELIVERY")
        await contact(intake, {"phone": "600123456"}, kind="suggestion")
        ana_before, dup_before = await history(intake, ana["id"]), await history(intake, dup["id"])
        dup_profile_before = await profile(intake, dup["id"])
        assert (ana_before["contact_count"], dup_before["contact_count"]) == (1, 2)
        dup_case_ids = sorted(i["id"] for i in dup_before["items"] if i["type"] == "case")
        dup_contact_ids = sorted(i["id"] for i in dup_before["items"] if i["type"] == "contact")

        merged = await merge(intake, ana["id"], dup["id"])
        assert merged.status_code == 201, merged.text
        record = merged.json()
        assert merged.headers["location"] == f"/customer-merges/{record['id']}"
        assert (record["source_customer_id"], record["target_customer_id"]) == (
            dup["id"],
            ana["id"],
        )
        assert sorted(record["case_ids"]) == dup_case_ids
        assert sorted(record["contact_ids"]) == dup_contact_ids
        assert len(record["identity_ids"]) == 3
        assert record["undone_at"] is None
        assert (await intake.client.get(merged.headers["location"])).json() == record

        events = await outbox(intake, "customer.merged.v1")
        assert [e["subject"] for e in events] == [ana["id"]]
        assert events[0]["data"]["merge_id"] == record["id"]
        assert events[0]["data"]["source_customer_id"] == dup["id"]
        assert sorted(events[0]["data"]["case_ids"]) == dup_case_ids

        gone = await profile(intake, dup["id"])
        assert gone["merged_into"] == ana["id"]
        assert gone["identities"] == []
        survivor = await profile(intake, ana["id"])
        assert {i["value"] for i in survivor["identities"]} == {
            "ana@example.com",
            "ana.p@example.com",
            "+34600123456",
            "C-7",
        }
        ana_merged = await history(intake, ana["id"])
        assert ana_merged["contact_count"] == 3
        assert {i["id"] for i in ana_merged["items"]} == {
            i["id"] for i in ana_before["items"] + dup_before["items"]
        }
        assert (await history(intake, dup["id"]))["items"] == []
        found = await intake.client.get("/customers", params={"external": "crm:C-7"})
        assert found.json()["id"] == ana["id"]
        # a contact meanwhile, from the old record's identity or id, lands on the survivor
        late = await contact(intake, {"email": "ana.p@example.com"}, kind="compliment")
        assert late["customer_id"] == ana["id"]
        by_old_id = await contact(intake, {"id": dup["id"]}, kind="compliment")
        assert by_old_id["customer_id"] == ana["id"]

        undone = await intake.client.post(f"/customer-merges/{record['id']}/undo")
        assert undone.status_code == 200, undone.text
        assert undone.json()["undone_at"] is not None
        undo_events = await outbox(intake, "customer.merge_undone.v1")
        assert [e["subject"] for e in undo_events] == [ana["id"]]
        assert undo_events[0]["data"]["merge_id"] == record["id"]
        assert sorted(undo_events[0]["data"]["case_ids"]) == dup_case_ids

        # exactly what moved went back; what the survivor gained since stayed with it
        assert await history(intake, dup["id"]) == dup_before
        assert without_times(await profile(intake, dup["id"])) == without_times(dup_profile_before)
        ana_after = await history(intake, ana["id"])
        assert {i["id"] for i in ana_after["items"]} == {i["id"] for i in ana_before["items"]} | {
            late["id"],
            by_old_id["id"],
        }
        async with intake.runtime.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT undone_at FROM customer_merges WHERE id = $1", uuid.UUID(record["id"])
            )
        assert row["undone_at"] is not None

        twice = await intake.client.post(f"/customer-merges/{record['id']}/undo")
        assert twice.status_code == 409
        assert twice.headers["content-type"] == PROBLEM_JSON
        assert len(await outbox(intake, "customer.merge_undone.v1")) == 1


async def test_merges_that_cannot_be_are_refused(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana")
        dup = await create(intake, name="Ana P.")
        other = await create(intake, name="Luis")
        erased = await create(intake, name="Eva")
        assert (await intake.client.post(f"/customers/{erased['id']}/erase")).status_code == 200

        same = await merge(intake, ana["id"], ana["id"])
        assert same.status_code == 409
        assert same.headers["content-type"] == PROBLEM_JSON
        unknown_source = await merge(intake, ana["id"], str(uuid.uuid4()))
        assert unknown_source.status_code == 422
        assert unknown_source.json()["errors"][0]["field"] == "source_customer_id"
        assert (await merge(intake, str(uuid.uuid4()), ana["id"])).status_code == 404
        assert (await merge(intake, ana["id"], erased["id"])).status_code == 409
        assert (await merge(intake, erased["id"], ana["id"])).status_code == 409
        bad_body = await intake.client.post(
            f"/customers/{ana['id']}/merge", json={"source_customer_id": "nope"}
        )
        assert bad_body.status_code == 422
        assert bad_body.json()["errors"][0]["field"] == "source_customer_id"

        assert (await merge(intake, ana["id"], dup["id"])).status_code == 201
        already = await merge(intake, other["id"], dup["id"])
        assert already.status_code == 409
        assert ana["id"] in already.json()["detail"]
        into_merged = await merge(intake, dup["id"], other["id"])
        assert into_merged.status_code == 409
        assert ana["id"] in into_merged.json()["detail"]
        assert len(await outbox(intake, "customer.merged.v1")) == 1

        assert (
            await intake.client.post(f"/customer-merges/{uuid.uuid4()}/undo")
        ).status_code == 404
        assert (await intake.client.get(f"/customer-merges/{uuid.uuid4()}")).status_code == 404


async def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone(service_factory):
    async with service_factory("intake") as intake:
        a = await create(intake, name="A", email="a@example.com")
        b = await create(intake, name="B", email="b@example.com")
        c = await create(intake, name="C", email="c@example.com")

        b_into_a = (await merge(intake, a["id"], b["id"])).json()
        a_into_c = (await merge(intake, c["id"], a["id"])).json()
        # one hop always reaches the survivor: b now points at c
        assert a_into_c["repointed_customer_ids"] == [b["id"]]
        assert (await profile(intake, b["id"]))["merged_into"] == c["id"]
        found = await intake.client.get("/customers", params={"email": "b@example.com"})
        assert found.json()["id"] == c["id"]

        blocked = await intake.client.post(f"/customer-merges/{b_into_a['id']}/undo")
        assert blocked.status_code == 409
        assert a_into_c["id"] in blocked.json()["detail"]

        assert (
            await intake.client.post(f"/customer-merges/{a_into_c['id']}/undo")
        ).status_code == 200
        assert (await profile(intake, b["id"]))["merged_into"] == a["id"]
        assert (await profile(intake, a["id"]))["merged_into"] is None
        assert (
            await intake.client.post(f"/customer-merges/{b_into_a['id']}/undo")
        ).status_code == 200
        for customer, email in ((a, "a@example.com"), (b, "b@example.com"), (c, "c@example.com")):
            restored = await profile(intake, customer["id"])
            assert restored["merged_into"] is None
            assert [i["value"] for i in restored["identities"]] == [email]


async def test_merge_with_an_idempotency_key_happens_once(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana")
        dup = await create(intake, name="Ana P.")
        first = await merge(intake, ana["id"], dup["id"], **{"Idempotency-Key": "m-1"})
        again = await merge(intake, ana["id"], dup["id"], **{"Idempotency-Key": "m-1"})
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(await outbox(intake, "customer.merged.v1")) == 1


async def test_history_lists_contacts_and_cases_newest_first_in_pages(service_factory):
    async with service_factory("intake") as intake:
        ana = await create(intake, name="Ana", email="ana@example.com")
        empty = await intake.client.get(f"/customers/{ana['id']}/history")
        assert empty.json() | {"customer_id": None} == {
            "customer_id": None,
            "merged_into": None,
            "first_contact_at": None,
            "contact_count": 0,
            "case_count": 0,
            "items": [],
            "next_cursor": None,
        }

        start = datetime.now(UTC) - timedelta(days=3)
        received = [start + timedelta(hours=h) for h in range(5)]
        for n, at in enumerate(received):
            await contact(
                intake,
                {"id": ana["id"]},
                kind="complaint" if n % 2 == 0 else "compliment",
                motive=("BILLING", "DELIVERY", "PRODUCT")[n // 2] if n % 2 == 0 else None,
                received_at=at.isoformat(),
            )

        whole = await history(intake, ana["id"])
        assert (whole["contact_count"], whole["case_count"]) == (5, 3)
        assert datetime.fromisoformat(whole["first_contact_at"]) == received[0]
        items = whole["items"]
        assert len(items) == 8
        assert len({i["id"] for i in items}) == 8
        moments = [datetime.fromisoformat(i["at"]) for i in items]
        assert moments == sorted(moments, reverse=True)
        assert [i["type"] for i in items].count("case") == 3
        newest_case = next(i for i in items if i["type"] == "case")
        assert (newest_case["motive"], newest_case["status"], newest_case["case_type"]) == (
            "PRODUCT",
            "open",
            "complaint",
        )
        newest_contact = next(i for i in items if i["type"] == "contact")
        assert newest_contact["case_number"] == newest_case["number"]

        bad_cursor = await intake.client.get(
            f"/customers/{ana['id']}/history", params={"cursor": "garbage"}
        )
        assert bad_cursor.status_code == 422
        assert bad_cursor.json()["errors"][0]["field"] == "query.cursor"
        too_many = await intake.client.get(f"/customers/{ana['id']}/history", params={"limit": 201})
        assert too_many.status_code == 422
        missing = await intake.client.get(f"/customers/{uuid.uuid4()}/history")
        assert missing.status_code == 404
