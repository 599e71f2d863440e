"""One case per problem, on the real database and broker: a repeat complaint joins the open case
about the same problem; anything else opens a new one, or (suggestions, compliments) none."""

import asyncio

from atiende_testing import eventually


def complaint(customer, motive="DELIVERY", text="My parcel has not arrived", **extra):
    return {
        "customer": customer,
        "kind": "complaint",
        "channel": "phone",
        "text": text,
        "motive": motive,
        **extra,
    }


async def post_contact(svc, body):
    response = await svc.client.post("/contacts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def outbox_since(svc, position=0):
    """(position, event name such as "case.opened", data) of the events intake wrote after
    `position`."""
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT position, routing_key, data FROM outbox WHERE position > $1 ORDER BY position",
            position,
        )
    return [(r["position"], r["routing_key"].rsplit(".v", 1)[0], r["data"]) for r in rows]


async def count(svc, table):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")


async def test_repeat_complaint_by_another_identity_joins_the_open_case(service_factory):
    async with service_factory("intake") as intake:
        first = await post_contact(
            intake,
            complaint({"name": "Ana Pérez", "email": "ana@example.com", "phone": "+34600123456"}),
        )
        assert first["outcome"] == "opened"

        # by phone, written the national way: the phone was attached to Ana in the first contact
        second = await post_contact(
            intake, complaint({"phone": "600 12 34 56"}, text="Still no parcel", channel="email")
        )

        assert second["outcome"] == "joined"
        assert second["link_reason"] == "same_problem"
        assert second["customer_id"] == first["customer_id"]
        assert second["case"] == first["case"]
        assert await count(intake, "cases") == 1

        linked = [
            data for _, kind, data in await outbox_since(intake) if kind == "case.contact_linked"
        ]
        assert len(linked) == 1
        assert linked[0]["reason"] == "same_problem"
        assert linked[0]["contact_id"] == second["id"]
        assert linked[0]["case_id"] == first["case"]["id"]

        async def published():
            async with intake.runtime.pool.acquire() as conn:
                return await conn.fetchval(
                    "SELECT published_at IS NOT NULL FROM outbox"
                    " WHERE routing_key = 'case.contact_linked.v1'"
                )

        await eventually(published, message="case.contact_linked never confirmed by the broker")


async def test_a_different_motive_opens_a_new_case(service_factory):
    async with service_factory("intake") as intake:
        customer = {"email": "ana@example.com"}
        first = await post_contact(intake, complaint(customer, motive="DELIVERY"))
        second = await post_contact(intake, complaint(customer, motive="BILLING"))

        assert second["outcome"] == "opened"
        assert second["case"]["id"] != first["case"]["id"]


async def test_the_join_window_is_measured_from_the_case_opening(service_factory):
    async with service_factory("intake", join_window_days=30) as intake:
        customer = {"email": "ana@example.com"}
        first = await post_contact(intake, complaint(customer))

        async with intake.runtime.pool.acquire() as conn:
            await conn.execute("UPDATE cases SET opened_at = now() - interval '29 days'")
        inside = await post_contact(intake, complaint(customer))
        assert inside["case"]["id"] == first["case"]["id"]

        async with intake.runtime.pool.acquire() as conn:
            await conn.execute("UPDATE cases SET opened_at = now() - interval '31 days'")
        outside = await post_contact(intake, complaint(customer))
        assert outside["outcome"] == "opened"
        assert outside["case"]["id"] != first["case"]["id"]


async def test_a_zero_day_window_never_joins(service_factory):
    async with service_factory("intake", join_window_days=0) as intake:
        customer = {"email": "ana@example.com"}
        first = await post_contact(intake, complaint(customer))
        second = await post_contact(intake, complaint(customer))

        assert second["outcome"] == "opened"
        assert second["case"]["id"] != first["case"]["id"]


async def test_a_complaint_after_routing_resolved_the_case_opens_a_new_one(service_factory):
    # what is under test is intake's copy of the status, not routing's seven-step gate
    routing_without_gates = service_factory("routing", require_steps=False)
    async with service_factory("intake") as intake, routing_without_gates as routing:
        customer = {"email": "ana@example.com"}
        first = await post_contact(intake, complaint(customer))
        case_id = first["case"]["id"]

        async def routed():
            return (await routing.client.get(f"/cases/{case_id}")).status_code == 200

        await eventually(routed, message="routing never learnt of the case")
        resolved = await routing.client.post(
            f"/cases/{case_id}/resolve", json={"root_cause": {"category": "isolated_incident"}}
        )
        assert resolved.status_code == 200, resolved.text

        async def intake_knows_resolved():
            return (await intake.client.get(f"/cases/{case_id}")).json()["status"] == "resolved"

        await eventually(intake_knows_resolved, message="intake's status copy never resolved")

        again = await post_contact(intake, complaint(customer, text="It broke again"))
        assert again["outcome"] == "opened"
        assert again["case"]["id"] != case_id


async def test_an_explicit_case_number_always_joins_even_a_suggestion(service_factory):
    async with service_factory("intake") as intake:
        first = await post_contact(intake, complaint({"email": "ana@example.com"}))
        number = first["case"]["number"]

        # another customer, another kind and no motive: the case number decides
        suggestion = await post_contact(
            intake,
            {
                "customer": {"email": "luis@example.com"},
                "kind": "suggestion",
                "channel": "web_form",
                "text": "Leave parcels with the neighbour",
                "case_number": number,
            },
        )

        assert suggestion["outcome"] == "joined"
        assert suggestion["link_reason"] == "case_number"
        assert suggestion["case"] == first["case"]
        assert suggestion["motive"] == "DELIVERY"  # the named case's problem
        linked = [
            data for _, kind, data in await outbox_since(intake) if kind == "case.contact_linked"
        ]
        assert [data["reason"] for data in linked] == ["case_number"]


async def test_suggestions_and_compliments_open_nothing_and_emit_only_contact_received(
    service_factory,
):
    async with service_factory("intake") as intake:
        known = {"email": "ana@example.com"}
        await post_contact(intake, complaint(known, motive="BILLING"))
        position = (await outbox_since(intake))[-1][0]

        for kind in ("suggestion", "compliment"):
            recorded = await post_contact(
                intake,
                {
                    "customer": known,
                    "kind": kind,
                    "channel": "in_person",
                    "text": "The new shop is lovely",
                    "touchpoint": "STORE",
                },
            )
            assert recorded["outcome"] == "recorded"
            assert recorded["case"] is None

        events = await outbox_since(intake, position)
        assert [kind for _, kind, _ in events] == ["contact.received", "contact.received"]
        assert all(data["case_id"] is None for _, _, data in events)
        assert await count(intake, "cases") == 1


async def test_concurrent_first_complaints_of_a_new_customer_make_one_customer_and_one_case(
    service_factory,
):
    async with service_factory("intake") as intake:
        bodies = [
            complaint({"name": "Eva", "email": "eva@example.com"}, text=f"Call number {i}")
            for i in range(5)
        ]
        answers = await asyncio.gather(*(post_contact(intake, body) for body in bodies))

        assert len({a["customer_id"] for a in answers}) == 1
        assert len({a["case"]["id"] for a in answers}) == 1
        assert sorted(a["outcome"] for a in answers) == ["joined"] * 4 + ["opened"]
        assert await count(intake, "customers") == 1
        assert await count(intake, "cases") == 1
        assert await count(intake, "contacts") == 5

        events = await outbox_since(intake)
        kinds = [kind for _, kind, _ in events]
        assert kinds.count("case.opened") == 1
        assert kinds.count("customer.profile_changed") == 1
        assert kinds.count("case.contact_linked") == 4
        returning = [
            data["returning_customer"] for _, kind, data in events if kind == "contact.received"
        ]
        assert sorted(returning) == [False, True, True, True, True]


async def test_case_numbers_are_sequential_per_year_under_concurrency(service_factory):
    async with service_factory("intake") as intake:
        bodies = [complaint({"email": f"customer{i}@example.com"}) for i in range(8)]
        answers = await asyncio.gather(*(post_contact(intake, body) for body in bodies))

        numbers = sorted(a["case"]["number"] for a in answers)
        year = numbers[0].split("-")[1]
        assert numbers == [f"AT-{year}-{n:06d}" for n in range(1, 9)]
