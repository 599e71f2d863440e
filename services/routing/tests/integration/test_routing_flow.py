import uuid

from atiende_testing import eventually


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

        resolved = await routing.client.post(
            f"/cases/{case['id']}/resolve", json={"resolution": "refund"}
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
