"""kill -9 of notifications in the middle of a webhook send: the receiver got the request but
the process died before recording it, so the restarted process sends it again with the same
webhook-id — at least once, and exactly once at a receiver that deduplicates on the id."""

import asyncio
import contextlib
import uuid

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from standardwebhooks import Webhook

from atiende_testing import eventually, free_port

pytestmark = pytest.mark.reliability


@contextlib.asynccontextmanager
async def hanging_receiver():
    """The first request is held open until released; the others are answered at once."""
    state = {"arrived": [], "processed": {}, "release": asyncio.Event()}
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        webhook_id = request.headers["webhook-id"]
        state["arrived"].append((dict(request.headers), body))
        if len(state["arrived"]) == 1:
            await state["release"].wait()
            return Response(status_code=204)
        state["processed"].setdefault(webhook_id, (dict(request.headers), body))
        return Response(status_code=204)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}/hook", state
    finally:
        state["release"].set()
        server.should_exit = True
        await task


async def test_kill_9_mid_send_resends_the_same_webhook_id(cluster_factory):
    async with hanging_receiver() as (url, state):
        cluster = cluster_factory(
            "intake",
            "notifications",
            ATIENDE_WEBHOOK_ALLOW_HTTP="true",
            ATIENDE_WEBHOOK_ALLOW_PRIVATE="true",
            ATIENDE_WEBHOOK_RETRY_SCHEDULE="[0, 0.2, 0.2, 0.2, 0.2]",
            ATIENDE_WEBHOOK_TIMEOUT="60",
        )
        await cluster.start()
        notifications = cluster["notifications"]
        async with httpx.AsyncClient(timeout=10, headers=cluster.headers()) as http:
            created = await http.post(
                f"{notifications.url}/webhooks/endpoints",
                json={"url": url, "event_types": ["case.opened"]},
            )
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            opened = await http.post(
                f"{cluster['intake'].url}/cases",
                json={
                    "customer": {"name": "Lucía Gómez", "email": "lucia@example.com"},
                    "type": "complaint",
                    "channel": "phone",
                    "description": "Crash test " + uuid.uuid4().hex,
                },
            )
            assert opened.status_code == 201, opened.text

            await eventually(lambda: state["arrived"], timeout=30, message="no webhook sent")
            notifications.kill()  # mid-send: the receiver holds the request open
            state["release"].set()
            notifications.start()
            await notifications.wait_ready()

            first_id = state["arrived"][0][0]["webhook-id"]
            await eventually(
                lambda: first_id in state["processed"], timeout=30, message="never resent"
            )
            headers, body = state["processed"][first_id]
            assert Webhook(secret).verify(body, headers)["type"] == "case.opened"
            assert {h["webhook-id"] for h, _ in state["arrived"]} == {first_id}
            assert list(state["processed"]) == [first_id]

            async def recorded_sent():
                found = (await http.get(f"{notifications.url}/deliveries")).json()
                return [d for d in found if d["id"] == first_id and d["status"] == "sent"]

            await eventually(recorded_sent, timeout=20, message="resend not recorded")
