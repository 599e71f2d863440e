"""The parametrised catalogue over HTTP on the real database and broker: admins create and change
entries, never delete them; everyone on staff reads them; every change is an event; a deactivated
motive no longer classifies contacts."""

from __future__ import annotations

from datetime import date, timedelta

from atiende_runtime.auth import mint_token
from atiende_testing import eventually

PROBLEM_JSON = "application/problem+json"
SECRET = "catalogue-test-secret-long-enough-for-hs256"
WARRANTY = {"code": "WARRANTY", "name_es": "Garantía", "name_en": "Warranty"}


async def changes(svc):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT subject, data, published_at FROM outbox"
            " WHERE routing_key = 'catalogue.entry_changed.v1' ORDER BY position"
        )


def fields_of(response):
    assert response.headers["content-type"] == PROBLEM_JSON, response.text
    return {e["field"] for e in response.json()["errors"]}


def bearer(*roles):
    token = mint_token(SECRET, subject="u-1", roles=roles)
    return {"Authorization": f"Bearer {token}"}


async def complain(svc, motive):
    return await svc.client.post(
        "/contacts",
        json={
            "customer": {"email": "ana@example.com"},
            "kind": "complaint",
            "channel": "phone",
            "text": "It broke",
            "motive": motive,
        },
    )


async def test_create_entries_and_read_them_back(service_factory):
    async with service_factory("intake") as intake:
        created = await intake.client.post(
            "/catalogue/motive", json=WARRANTY | {"valid_from": "2026-01-01"}
        )
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/catalogue/motive/WARRANTY"
        assert created.json() == {
            "kind": "motive",
            "code": "WARRANTY",
            "parent_code": None,
            "name_es": "Garantía",
            "name_en": "Warranty",
            "active": True,
            "valid_from": "2026-01-01",
            "valid_to": None,
        }
        assert (await intake.client.get("/catalogue/motive/WARRANTY")).json() == created.json()

        cause = await intake.client.post(
            "/catalogue/cause",
            json={
                "code": "WARRANTY_EXPIRED",
                "name_es": "Garantía vencida",
                "name_en": "Warranty expired",
                "parent_code": "WARRANTY",
            },
        )
        assert cause.status_code == 201, cause.text
        assert cause.json()["parent_code"] == "WARRANTY"

        events = await changes(intake)
        assert [e["subject"] for e in events] == [
            "catalogue:motive:WARRANTY",
            "catalogue:cause:WARRANTY_EXPIRED",
        ]
        # authentication is off here: nobody is recorded as the actor
        assert events[0]["data"] | {"changed_at": None} == created.json() | {
            "changed_at": None,
            "actor": None,
        }

        async def published():
            return all(e["published_at"] for e in await changes(intake))

        await eventually(published, message="catalogue.entry_changed was never published")

        duplicate = await intake.client.post("/catalogue/motive", json=WARRANTY)
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"] == PROBLEM_JSON
        missing = await intake.client.get("/catalogue/motive/NOPE")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM_JSON
        assert len(await changes(intake)) == 2


async def test_bad_entries_are_refused_naming_the_field(service_factory):
    async with service_factory("intake") as intake:
        cause = {"code": "LOST", "name_es": "Perdido", "name_en": "Lost"}
        for path, body, field in (
            ("/catalogue/colour", WARRANTY, "path.kind"),
            ("/catalogue/motive", WARRANTY | {"code": "warranty"}, "code"),
            ("/catalogue/motive", WARRANTY | {"name_en": ""}, "name_en"),
            ("/catalogue/motive", WARRANTY | {"parent_code": "DELIVERY"}, "parent_code"),
            ("/catalogue/touchpoint", WARRANTY | {"parent_code": "DELIVERY"}, "parent_code"),
            ("/catalogue/cause", cause, "parent_code"),
            ("/catalogue/cause", cause | {"parent_code": "NOPE"}, "parent_code"),
            ("/catalogue/cause", cause | {"parent_code": "WEB"}, "parent_code"),
            (
                "/catalogue/product",
                WARRANTY | {"valid_from": "2026-05-02", "valid_to": "2026-05-01"},
                "valid_to",
            ),
            ("/catalogue/product", WARRANTY | {"valid_from": "someday"}, "valid_from"),
            ("/catalogue/product", WARRANTY | {"colour": "red"}, "colour"),
        ):
            response = await intake.client.post(path, json=body)
            assert response.status_code == 422, (path, body, response.text)
            assert field in fields_of(response), (path, body, response.json())
        assert await changes(intake) == []


async def test_patch_changes_names_flags_and_dates_but_never_the_identity(service_factory):
    async with service_factory("intake") as intake:
        path = "/catalogue/motive/DELIVERY"
        renamed = await intake.client.patch(path, json={"name_en": "Shipping", "valid_to": None})
        assert renamed.status_code == 200, renamed.text
        assert (renamed.json()["name_en"], renamed.json()["name_es"]) == ("Shipping", "Entrega")
        assert [e["data"]["name_en"] for e in await changes(intake)] == ["Shipping"]

        unchanged = await intake.client.patch(path, json={"name_en": "Shipping"})
        assert unchanged.status_code == 200
        assert len(await changes(intake)) == 1

        dated = await intake.client.patch(
            "/catalogue/cause/DELIVERY_LATE", json={"valid_from": "2026-01-01"}
        )
        assert dated.json()["valid_from"] == "2026-01-01"
        assert dated.json()["parent_code"] == "DELIVERY"
        assert len(await changes(intake)) == 2

        for body, field in (
            ({"code": "SHIPPING"}, "code"),
            ({"kind": "product"}, "kind"),
            ({"parent_code": "BILLING"}, "parent_code"),
            ({"name_es": None}, "name_es"),
            ({"active": None}, "active"),
            ({"valid_from": "2030-01-01", "valid_to": "2029-12-31"}, "valid_to"),
        ):
            response = await intake.client.patch(path, json=body)
            assert response.status_code == 422, (body, response.text)
            assert fields_of(response) == {field}, (body, response.json())
        immutable = await intake.client.patch(path, json={"code": "SHIPPING"})
        assert immutable.json()["errors"][0]["rule"] == "immutable"
        after_end = await intake.client.patch(
            "/catalogue/cause/DELIVERY_LATE", json={"valid_to": "2025-12-31"}
        )
        assert fields_of(after_end) == {"valid_to"}

        assert (await intake.client.patch("/catalogue/motive/NOPE", json={})).status_code == 404
        default = await intake.client.patch("/catalogue/motive/OTHER", json={"active": False})
        assert default.status_code == 409
        assert "default motive" in default.json()["detail"]
        assert len(await changes(intake)) == 2


async def test_entries_are_deactivated_never_deleted(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.delete("/catalogue/motive/BILLING")
        assert response.status_code == 405
        assert response.headers["content-type"] == PROBLEM_JSON
        assert "deactivate instead (PATCH active=false)" in response.json()["detail"]
        assert (await intake.client.get("/catalogue/motive/BILLING")).status_code == 200


async def test_a_deactivated_motive_no_longer_classifies_contacts(service_factory):
    async with service_factory("intake") as intake:
        assert (await complain(intake, "PRODUCT")).status_code == 201

        off = await intake.client.patch("/catalogue/motive/PRODUCT", json={"active": False})
        assert off.status_code == 200
        assert (await changes(intake))[-1]["data"]["active"] is False
        refused = await complain(intake, "PRODUCT")
        assert refused.status_code == 422
        assert fields_of(refused) == {"motive"}
        assert refused.json()["errors"][0]["rule"] == "inactive_code"

        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        later = await intake.client.patch(
            "/catalogue/motive/PRODUCT", json={"active": True, "valid_from": tomorrow}
        )
        assert later.status_code == 200
        assert fields_of(await complain(intake, "PRODUCT")) == {"motive"}

        await intake.client.patch("/catalogue/motive/PRODUCT", json={"valid_from": None})
        assert (await complain(intake, "PRODUCT")).status_code == 201


async def test_lists_are_filtered_and_cursor_paged(service_factory):
    async with service_factory("intake") as intake:
        codes, cursor = [], None
        while True:
            params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
            page = (await intake.client.get("/catalogue/motive", params=params)).json()
            assert len(page["items"]) <= 4
            codes += [e["code"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert codes == ["BILLING", "DELIVERY", "INFORMATION", "OTHER", "PRODUCT", "SERVICE"]

        await intake.client.patch("/catalogue/motive/SERVICE", json={"active": False})
        await intake.client.post(
            "/catalogue/motive",
            json=WARRANTY | {"valid_from": "2027-01-01", "valid_to": "2027-12-31"},
        )

        async def listed(**params):
            response = await intake.client.get("/catalogue/motive", params=params)
            assert response.status_code == 200, response.text
            return [e["code"] for e in response.json()["items"]]

        assert await listed(active="false") == ["SERVICE"]
        assert "SERVICE" not in await listed(active="true")
        assert "WARRANTY" in await listed(on="2027-06-01")
        assert "WARRANTY" not in await listed(on="2026-06-01")
        assert await listed(on="2026-06-01", active="true") == [
            "BILLING",
            "DELIVERY",
            "INFORMATION",
            "OTHER",
            "PRODUCT",
        ]
        causes = await intake.client.get("/catalogue/cause", params={"parent": "DELIVERY"})
        assert [e["code"] for e in causes.json()["items"]] == [
            "DELIVERY_DAMAGED",
            "DELIVERY_INCOMPLETE",
            "DELIVERY_LATE",
        ]

        for params, field in (
            ({"on": "June"}, "query.on"),
            ({"active": "maybe"}, "query.active"),
            ({"parent": "lower"}, "query.parent"),
            ({"cursor": "not-ours"}, "query.cursor"),
            ({"limit": 0}, "query.limit"),
        ):
            response = await intake.client.get("/catalogue/motive", params=params)
            assert response.status_code == 422, (params, response.text)
            assert fields_of(response) == {field}
        bad_kind = await intake.client.get("/catalogue/colours")
        assert fields_of(bad_kind) == {"path.kind"}


async def test_create_with_an_idempotency_key_happens_once(service_factory):
    async with service_factory("intake") as intake:
        headers = {"Idempotency-Key": "warranty-1"}
        first = await intake.client.post("/catalogue/motive", json=WARRANTY, headers=headers)
        again = await intake.client.post("/catalogue/motive", json=WARRANTY, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(await changes(intake)) == 1


async def test_only_admins_change_the_catalogue_and_all_staff_read_it(service_factory):
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        as_agent = await intake.client.post(
            "/catalogue/motive", json=WARRANTY, headers=bearer("agent", "supervisor")
        )
        assert as_agent.status_code == 403
        patch_as_agent = await intake.client.patch(
            "/catalogue/motive/BILLING", json={"active": False}, headers=bearer("agent")
        )
        assert patch_as_agent.status_code == 403
        as_admin = await intake.client.post(
            "/catalogue/motive", json=WARRANTY, headers=bearer("admin")
        )
        assert as_admin.status_code == 201
        for role in ("agent", "supervisor", "admin"):
            read = await intake.client.get("/catalogue/motive/WARRANTY", headers=bearer(role))
            assert read.status_code == 200, role
        assert (
            await intake.client.get("/catalogue/motive", headers=bearer("intake"))
        ).status_code == 403
