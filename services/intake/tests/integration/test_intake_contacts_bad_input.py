"""Bad input to POST /contacts and POST /cases: a problem+json naming the field, and nothing saved
— no contact, case, customer or event."""

from datetime import UTC, datetime, timedelta

import pytest

VALID = {
    "customer": {"name": "New Customer", "email": "new@example.com"},
    "kind": "complaint",
    "channel": "phone",
    "text": "The parcel never arrived",
    "motive": "DELIVERY",
}


def with_(**changes):
    return {**VALID, **changes}


BAD_CONTACTS = [
    (with_(motive="NO_SUCH_MOTIVE"), "motive", "unknown_code"),
    (with_(cause="BILLING_WRONG_AMOUNT"), "cause", "cause_not_of_motive"),
    (with_(cause="NO_SUCH_CAUSE"), "cause", "unknown_code"),
    (with_(motive=None, cause="DELIVERY_LATE"), "cause", "cause_needs_motive"),
    (with_(touchpoint="NO_SUCH_PLACE"), "touchpoint", "unknown_code"),
    (with_(motive="delivery"), "motive", "string_pattern_mismatch"),
    (with_(customer={"email": "not-an-address"}), "customer.email", "string_pattern_mismatch"),
    (with_(customer={"phone": "+999 1234"}), "customer.phone", "phone"),
    (with_(text="x" * 10_001), "text", "string_too_long"),
    (with_(kind="rant"), "kind", "enum"),
    (with_(channel="fax"), "channel", "enum"),
    (with_(severity="apocalyptic"), "severity", "enum"),
    (with_(case_number="AT-2026-999999"), "case_number", "unknown_case"),
    (with_(case_number="case 12"), "case_number", "string_pattern_mismatch"),
    (
        with_(received_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
        "received_at",
        "in_the_future",
    ),
    (with_(surprise="field"), "surprise", "extra_forbidden"),
]


async def saved(svc):
    async with svc.runtime.pool.acquire() as conn:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("contacts", "cases", "customers", "customer_identities", "outbox")
        }


def assert_problem_naming(response, field, rule):
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [(field, rule)]
    assert field in problem["detail"]


async def test_bad_contacts_are_refused_naming_the_field_and_save_nothing(service_factory):
    async with service_factory("intake") as intake:
        # something already saved, so a half-save of any kind would show in the counts
        assert (
            await intake.client.post("/contacts", json=with_(customer={"email": "old@example.com"}))
        ).status_code == 201
        before = await saved(intake)

        for body, field, rule in BAD_CONTACTS:
            response = await intake.client.post("/contacts", json=body)
            assert_problem_naming(response, field, rule)

        assert await saved(intake) == before


async def test_an_inactive_motive_is_refused(service_factory):
    async with service_factory("intake") as intake:
        async with intake.runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE catalogue_entries SET active = false"
                " WHERE kind = 'motive' AND code = 'DELIVERY'"
            )
        before = await saved(intake)

        response = await intake.client.post("/contacts", json=VALID)

        assert_problem_naming(response, "motive", "inactive_code")
        assert await saved(intake) == before


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"motive": "NO_SUCH_MOTIVE"}, "motive", "unknown_code"),
        ({"cause": "DELIVERY_LATE", "motive": None}, "cause", "cause_needs_motive"),
        ({"description": "x" * 10_001}, "description", "string_too_long"),
        ({"type": "rant"}, "type", "enum"),
        ({"customer": {"email": "not-an-address"}}, "customer.email", "string_pattern_mismatch"),
    ],
)
async def test_bad_cases_are_refused_naming_the_field(service_factory, changes, field, rule):
    async with service_factory("intake") as intake:
        body = {
            "customer": {"name": "New Customer", "email": "new@example.com"},
            "type": "complaint",
            "channel": "phone",
            "description": "The parcel never arrived",
            "motive": "DELIVERY",
            **changes,
        }

        response = await intake.client.post("/cases", json=body)

        assert_problem_naming(response, field, rule)
        assert await saved(intake) == {
            "contacts": 0,
            "cases": 0,
            "customers": 0,
            "customer_identities": 0,
            "outbox": 0,
        }
