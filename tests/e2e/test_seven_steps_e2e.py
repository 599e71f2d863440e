"""The seven steps walked over HTTP against real intake and routing processes: a complaint opened
through intake is routed, claimed, answered with a calming phrase, listened to, its expectation
confirmed, solutions offered, a commitment made and kept, resolved, verified twice and closed."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from atiende_testing import eventually

pytestmark = pytest.mark.e2e


async def test_the_seven_steps_from_open_to_close(cluster_factory):
    cluster = cluster_factory("intake", "routing")
    await cluster.start()
    intake, routing = cluster["intake"], cluster["routing"]
    # the cluster runs with authentication on: no token is a 401, a token without the role a 403
    async with httpx.AsyncClient(timeout=10) as anonymous:
        assert (await anonymous.get(f"{routing.url}/agents")).status_code == 401
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers("agent")) as agent_only:
        refused = await agent_only.post(f"{routing.url}/teams", json={"id": "x", "name": "X"})
        assert refused.status_code == 403
    async with httpx.AsyncClient(timeout=10, headers=cluster.headers(sub="ana")) as http:
        agent = await http.post(
            f"{routing.url}/agents",
            json={
                "id": "ana",
                "name": "Ana",
                "email": "ana@example.com",
                "teams": ["general"],
                "availability": "available",
            },
        )
        assert agent.status_code == 201, agent.text

        created = await http.post(
            f"{intake.url}/cases",
            json={
                "customer": {"name": "Lucía Gómez", "email": "lucia@example.com"},
                "type": "complaint",
                "channel": "phone",
                "description": "Me cobraron dos veces la factura de marzo",
                "expectation": "que me devuelvan el cargo duplicado",
            },
        )
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        url = f"{routing.url}/cases/{case_id}"

        async def routed():
            r = await http.get(url)
            return r.status_code == 200 and r.json()["agent_id"] == "ana" and r

        view = await eventually(routed, timeout=20, message="case never reached Ana")
        etag = view.headers["ETag"]
        case = view.json()
        assert case["status"] == "assigned"
        # step 3 comes prefilled with what the customer said they expect
        assert [(s["step"], s["source"]) for s in case["steps"]] == [("3", "intake")]

        async def command(path, body=None, *, status=200):
            nonlocal etag
            r = await http.post(f"{url}{path}", json=body, headers={"If-Match": etag})
            assert r.status_code == status, r.text
            etag = r.headers.get("ETag", etag)
            return r.json()

        await command("/status", {"status": "in_progress"})

        # 1: respect shown, with a phrase from the phrasebook for this customer (es, formal)
        phrases = (await http.get(f"{url}/phrases")).json()
        assert len(phrases) == 6
        await command("/steps/1", {"text": phrases[0]["text"]})
        # 2: the customer's account listened to and recorded
        await command("/steps/2", {"text": "Dos cargos de 45,20 € el 3 de marzo"})
        # 3: the expectation discovered (confirmed by the agent in their own words)
        await command("/steps/3", {"text": "Devolución del cargo duplicado"})
        # 4: repeated back and confirmed
        await command(
            "/steps/4",
            {"text": "¿Quiere que le devolvamos los 45,20 € cobrados de más?", "confirmed": True},
        )
        # a stale write is refused
        stale = await http.post(f"{url}/steps/2", json={"text": "x"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        # 5: solutions offered, one chosen
        await command(
            "/steps/5",
            {
                "text": "Devolución a la tarjeta o abono en la próxima factura",
                "options": ["devolución a la tarjeta", "abono en factura"],
                "chosen": "devolución a la tarjeta",
            },
        )
        # 6: action taken and followed: a commitment with a due time
        promise = await command(
            "/commitments",
            {
                "description": "La llamaré antes de las doce para confirmar la devolución",
                "due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
                "channel": "phone",
            },
            status=201,
        )
        assert promise["owner_id"] == "ana"
        await command(
            "/steps/6",
            {"text": "Devolución pedida a contabilidad", "commitment_id": promise["id"]},
        )
        kept = await command(f"/commitments/{promise['id']}/kept")
        assert kept["state"] == "kept"

        resolved = await command(
            "/resolve",
            {
                "resolution": "Devolución de 45,20 € emitida",
                "root_cause": {"category": "isolated_incident"},
            },
        )
        assert resolved["status"] == "resolved"

        # closing waits for both verifications
        early = await http.post(f"{url}/close", json={}, headers={"If-Match": etag})
        assert early.status_code == 409
        assert early.json()["detail"] == "closing requires step 7a: action verified"

        await command("/steps/7a", {"text": "La devolución aparece en el extracto"})
        await command("/steps/7b", {"text": "La clienta confirma que está satisfecha"})
        closed = await command("/close", {})
        assert (closed["status"], closed["close_reason"]) == ("closed", "verified")

        final = (await http.get(url)).json()
        assert [s["step"] for s in final["steps"]] == ["1", "2", "3", "4", "5", "6", "7a", "7b"]
        # each step names its author: the token's subject (Ana's), not a name sent in the body
        assert {s["author"] for s in final["steps"]} == {"ana"}
        assert [c["state"] for c in final["commitments"]] == ["kept"]
        clocks = {c["clock"]: c for c in final["clocks"]}
        assert clocks["first_response"]["state"] == "met"
        assert clocks["resolution"]["state"] == "met"
        kinds = [e["kind"] for e in final["timeline"]]
        assert kinds.count("step") == 8
        assert "commitment" in kinds
