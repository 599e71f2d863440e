"""POST /cases, GET /cases/{id}, GET /cases and GET /cases/{id}/contacts on the real database."""

import uuid

import pytest


def new_case(email, motive="DELIVERY", channel="phone", type_="complaint", **extra):
    return {
        "customer": {"name": "Ana Pérez", "email": email},
        "type": type_,
        "channel": channel,
        "description": "Where is my parcel?",
        "motive": motive,
        **extra,
    }


async def open_case(svc, body):
    response = await svc.client.post("/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_opened_case_reads_back_and_records_its_contact(service_factory):
    async with service_factory("intake") as intake:
        body = {
            "customer": {"name": "Luis", "phone": "+34 600 123 456"},
            "type": "claim",
            "channel": "in_person",
            "description": "The blender arrived broken",
            "motive": "DELIVERY",
            "cause": "DELIVERY_DAMAGED",
            "touchpoint": "STORE",
            "severity": "high",
            "upset": True,
            "expectation": "A new blender",
        }
        response = await intake.client.post("/cases", json=body)
        assert response.status_code == 201, response.text
        case = response.json()
        assert response.headers["location"] == f"/cases/{case['id']}"

        fetched = await intake.client.get(f"/cases/{case['id']}")
        contacts = await intake.client.get(f"/cases/{case['id']}/contacts")

        assert fetched.json() == case
        assert case["status"] == "open"
        assert case["customer_email"] is None  # a phone-only customer
        assert {
            k: case[k] for k in ("cause", "touchpoint", "severity", "upset", "expectation")
        } == {k: body[k] for k in ("cause", "touchpoint", "severity", "upset", "expectation")}
        [opening] = contacts.json()["items"]
        assert (opening["outcome"], opening["kind"], opening["text"]) == (
            "opened",
            "claim",
            body["description"],
        )


async def test_an_explicit_case_never_joins_the_open_one(service_factory):
    async with service_factory("intake") as intake:
        first = await open_case(intake, new_case("ana@example.com"))
        second = await open_case(intake, new_case("ana@example.com"))

        assert second["id"] != first["id"]
        assert second["customer_id"] == first["customer_id"]


async def test_an_unknown_case_is_a_problem_404(service_factory):
    async with service_factory("intake") as intake:
        for path in (f"/cases/{uuid.uuid4()}", f"/cases/{uuid.uuid4()}/contacts"):
            response = await intake.client.get(path)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_cases_contacts_are_its_history_oldest_first_across_channels(service_factory):
    async with service_factory("intake") as intake:
        customer = {"email": "ana@example.com", "phone": "+34600123456"}
        told = [
            ("email", "2026-03-01T09:00:00Z", "My parcel is late"),
            ("phone", "2026-03-02T09:00:00Z", "Still late"),
            ("web_form", "2026-03-03T09:00:00Z", "Third time I ask"),
        ]
        for channel, at, text in reversed(told):  # recorded out of order, e.g. a late letter
            response = await intake.client.post(
                "/contacts",
                json={
                    "customer": customer,
                    "kind": "complaint",
                    "channel": channel,
                    "text": text,
                    "motive": "DELIVERY",
                    "received_at": at,
                },
            )
            assert response.status_code == 201, response.text
        case_id = response.json()["case"]["id"]

        first = (await intake.client.get(f"/cases/{case_id}/contacts", params={"limit": 2})).json()
        rest = (
            await intake.client.get(
                f"/cases/{case_id}/contacts", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()

        history = [(c["channel"], c["text"]) for c in first["items"] + rest["items"]]
        assert history == [(channel, text) for channel, _, text in told]
        assert rest["next_cursor"] is None


async def test_cases_are_listed_newest_first_with_filters(service_factory):
    async with service_factory("intake") as intake:
        ana_delivery = await open_case(intake, new_case("ana@example.com"))
        ana_billing = await open_case(
            intake, new_case("ana@example.com", motive="BILLING", channel="email")
        )
        luis_request = await open_case(
            intake,
            new_case("luis@example.com", motive="INFORMATION", type_="information_request"),
        )
        async with intake.runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE cases SET status = 'resolved' WHERE id = $1", uuid.UUID(ana_billing["id"])
            )
            await conn.execute(
                "UPDATE cases SET opened_at = '2026-02-01T12:00:00Z' WHERE id = $1",
                uuid.UUID(ana_delivery["id"]),
            )

        async def ids(**params):
            response = await intake.client.get("/cases", params=params)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await ids() == [luis_request["id"], ana_billing["id"], ana_delivery["id"]]
        assert await ids(customer_id=ana_delivery["customer_id"]) == [
            ana_billing["id"],
            ana_delivery["id"],
        ]
        assert await ids(motive="BILLING") == [ana_billing["id"]]
        assert await ids(channel="email") == [ana_billing["id"]]
        assert await ids(status="open") == [luis_request["id"], ana_delivery["id"]]
        assert await ids(type="information_request") == [luis_request["id"]]
        assert await ids(**{"from": "2026-02-01", "to": "2026-02-01"}) == [ana_delivery["id"]]
        assert await ids(to="2026-02-28") == [ana_delivery["id"]]

        first = (await intake.client.get("/cases", params={"limit": 2})).json()
        rest = (
            await intake.client.get("/cases", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
        assert [c["id"] for c in first["items"] + rest["items"]] == await ids()
        assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "query.status"),
        ({"type": "rant"}, "query.type"),
        ({"channel": "fax"}, "query.channel"),
        ({"motive": "NO_SUCH_MOTIVE"}, "query.motive"),
        ({"from": "2026-02-30"}, "query.from"),
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01"}, "query.from"),
        ({"cursor": "eyJhdCI6MX0"}, "query.cursor"),
    ],
)
async def test_bad_case_filters_are_problems_naming_the_field(service_factory, params, field):
    async with service_factory("intake") as intake:
        response = await intake.client.get("/cases", params=params)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
