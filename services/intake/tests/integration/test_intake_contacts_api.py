"""POST /contacts, GET /contacts/{id} and GET /contacts on the real database: what is recorded,
how lists filter and page, and what contact.received tells the indicators."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest


def contact(email, kind="complaint", motive="DELIVERY", channel="phone", **extra):
    body = {
        "customer": {"email": email},
        "kind": kind,
        "channel": channel,
        "text": f"A {kind} by {channel}",
        **extra,
    }
    if motive is not None:
        body["motive"] = motive
    return body


async def post(svc, body):
    response = await svc.client.post("/contacts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def received_events(svc):
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM outbox WHERE routing_key = 'contact.received.v1' ORDER BY position"
        )
    return [r["data"] for r in rows]


async def test_a_recorded_contact_reads_back_with_everything_it_said(service_factory):
    async with service_factory("intake") as intake:
        body = {
            "customer": {"name": "Ana Pérez", "email": "Ana@Example.com", "phone": "600123456"},
            "kind": "claim",
            "channel": "in_person",
            "direction": "inbound",
            "text": "The blender arrived broken",
            "expectation": "A new blender this week",
            "moment_of_truth": "upset_or_defensive",
            "severity": "high",
            "upset": True,
            "motive": "DELIVERY",
            "cause": "DELIVERY_DAMAGED",
            "touchpoint": "STORE",
            "product": "GENERAL",
            "agent_id": "agent-7",
            "received_at": "2026-01-15T10:30:00Z",
            "attachments": [{"name": "photo.jpg", "size": 123456, "content_type": "image/jpeg"}],
        }
        response = await intake.client.post("/contacts", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"/contacts/{created['id']}"

        fetched = await intake.client.get(f"/contacts/{created['id']}")

        assert fetched.status_code == 200
        assert fetched.json() == created
        assert created["outcome"] == "opened"
        assert created["case"]["number"].startswith("AT-")
        subset = {k: v for k, v in body.items() if k not in {"customer", "received_at"}}
        assert {k: created[k] for k in subset} == subset
        assert datetime.fromisoformat(created["received_at"]) == datetime(
            2026, 1, 15, 10, 30, tzinfo=UTC
        )


async def test_an_unknown_contact_is_a_problem_404(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.get(f"/contacts/{uuid.uuid4()}")

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_contact_received_says_whether_the_customer_had_contacted_before(service_factory):
    async with service_factory("intake") as intake:
        await post(intake, contact("ana@example.com", kind="compliment", motive=None))
        await post(intake, contact("ana@example.com"))
        await post(intake, contact("luis@example.com"))

        flags = [e["returning_customer"] for e in await received_events(intake)]

        assert flags == [False, True, False]


async def test_contacts_are_listed_newest_first_in_pages(service_factory):
    async with service_factory("intake") as intake:
        base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        ids = []
        for i in range(5):
            created = await post(
                intake,
                contact(
                    "ana@example.com",
                    kind="suggestion",
                    motive=None,
                    received_at=(base + timedelta(hours=i)).isoformat(),
                ),
            )
            ids.append(created["id"])

        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await intake.client.get("/contacts", params=params)).json()
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert seen == list(reversed(ids))


async def test_contacts_received_in_the_same_instant_page_without_loss(service_factory):
    async with service_factory("intake") as intake:
        same_instant = "2026-03-01T09:00:00Z"
        ids = {
            (
                await post(
                    intake,
                    contact(
                        "ana@example.com", kind="compliment", motive=None, received_at=same_instant
                    ),
                )
            )["id"]
            for _ in range(3)
        }

        first = (await intake.client.get("/contacts", params={"limit": 2})).json()
        rest = (
            await intake.client.get(
                "/contacts", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()

        assert {i["id"] for i in first["items"] + rest["items"]} == ids
        assert rest["next_cursor"] is None


async def test_contacts_filter_by_customer_case_motive_channel_kind_and_period(service_factory):
    async with service_factory("intake") as intake:
        ana_delivery = await post(
            intake, contact("ana@example.com", received_at="2026-03-01T10:00:00Z")
        )
        ana_billing = await post(
            intake,
            contact(
                "ana@example.com",
                motive="BILLING",
                channel="email",
                received_at="2026-03-02T10:00:00Z",
            ),
        )
        luis_praise = await post(
            intake,
            contact(
                "luis@example.com",
                kind="compliment",
                motive=None,
                received_at="2026-03-03T10:00:00Z",
            ),
        )

        async def ids(**params):
            response = await intake.client.get("/contacts", params=params)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await ids(customer_id=ana_delivery["customer_id"]) == [
            ana_billing["id"],
            ana_delivery["id"],
        ]
        assert await ids(case_id=ana_billing["case"]["id"]) == [ana_billing["id"]]
        assert await ids(motive="DELIVERY") == [ana_delivery["id"]]
        assert await ids(channel="email") == [ana_billing["id"]]
        assert await ids(kind="compliment") == [luis_praise["id"]]
        assert await ids(**{"from": "2026-03-02", "to": "2026-03-02"}) == [ana_billing["id"]]
        assert await ids(**{"from": "2026-03-02T10:00:00Z"}) == [
            luis_praise["id"],
            ana_billing["id"],
        ]
        assert await ids(to="2026-03-02T10:00:00Z") == [ana_delivery["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"channel": "fax"}, "query.channel"),
        ({"kind": "rant"}, "query.kind"),
        ({"customer_id": "not-a-uuid"}, "query.customer_id"),
        ({"motive": "lower-case"}, "query.motive"),
        ({"motive": "NO_SUCH_MOTIVE"}, "query.motive"),
        ({"from": "yesterday"}, "query.from"),
        ({"to": "2026-03-01T10:00:00"}, "query.to"),  # a time without its zone
        ({"from": "2026-03-02", "to": "2026-03-01"}, "query.from"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
    ],
)
async def test_bad_list_filters_are_problems_naming_the_field(service_factory, params, field):
    async with service_factory("intake") as intake:
        response = await intake.client.get("/contacts", params=params)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
