import uuid

from atiende_testing import eventually

WALK_TO_RESOLUTION = [
    ("3", {"text": "wants the invoice corrected"}),
    ("4", {"text": "you want a corrected invoice, right?", "confirmed": True}),
    (
        "5",
        {
            "text": "offered a corrected invoice or a refund",
            "options": ["corrected invoice", "refund"],
            "chosen": "refund",
        },
    ),
    ("6", {"text": "refund ordered"}),
]


async def test_opened_case_is_assigned_once_and_can_be_resolved(service_factory):
    async with service_factory("intake") as intake, service_factory("routing") as routing:
        response = await intake.client.post(
            "/cases",
            json={
                "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
                "type": "complaint",
                "channel": "phone",
                "description": "The invoice is wrong",
            },
        )
        assert response.status_code == 201, response.text
        case = response.json()

        async def assigned():
            r = await routing.client.get(f"/cases/{case['id']}")
            return r.status_code == 200 and r.json()["status"] == "assigned" and r.json()

        routed = await eventually(assigned, message="case never assigned")
        assert routed["team"] == "general"

        # a complaint is resolved once steps 3 to 6 are recorded
        for step, body in WALK_TO_RESOLUTION:
            walked = await routing.client.post(f"/cases/{case['id']}/steps/{step}", json=body)
            assert walked.status_code == 200, walked.text
        # ... and with its root cause: without one, a 422 names the field and the rule
        no_cause = await routing.client.post(
            f"/cases/{case['id']}/resolve", json={"resolution": "refund"}
        )
        assert no_cause.status_code == 422, no_cause.text
        assert no_cause.json()["errors"][0]["field"] == "root_cause"
        unnamed = await routing.client.post(
            f"/cases/{case['id']}/resolve",
            json={"root_cause": {"category": "procedure_design_fault"}},
        )
        assert unnamed.status_code == 422, unnamed.text
        assert (unnamed.json()["errors"][0]["field"], unnamed.json()["errors"][0]["rule"]) == (
            "root_cause.procedure",
            "required",
        )
        resolved = await routing.client.post(
            f"/cases/{case['id']}/resolve",
            json={"resolution": "refund", "root_cause": {"category": "isolated_incident"}},
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved"
        again = await routing.client.post(f"/cases/{case['id']}/resolve", json={})
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["title"] == "Case cannot be resolved"

        unknown = await routing.client.get(f"/cases/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert unknown.json()["title"] == "Case not found"
