"""With authentication on, the supervisor who publishes a questionnaire version or starts a
campaign is kept on its row (surveys announces neither, so the row is the record)."""

import uuid
from datetime import UTC, datetime, timedelta

from atiende_runtime.auth import mint_token

SECRET = "surveys-actors-secret-at-least-32-bytes"
FOLLOWUP = {
    "kind": "custom",
    "title": {"es": "Seguimiento", "en": "Follow-up"},
    "questions": [
        {"code": "fixed", "type": "yes_no", "text": {"es": "¿Se resolvió?", "en": "Solved?"}}
    ],
}


def bearer(subject, *roles):
    return {"Authorization": f"Bearer {mint_token(SECRET, subject=subject, roles=roles)}"}


async def row(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchrow(query, *args)


async def test_questionnaire_versions_and_campaigns_keep_who_made_them(service_factory):
    sara = bearer("sara.sup@example.com", "supervisor")
    async with service_factory(
        "surveys", jwt_secret=SECRET, survey_base_url="https://encuestas.example.test"
    ) as surveys:
        client = surveys.client
        published = await client.put("/questionnaires/followup", json=FOLLOWUP, headers=sara)
        assert published.status_code == 201, published.text
        until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        started = await client.post(
            "/campaigns", json={"questionnaire_id": "followup", "send_until": until}, headers=sara
        )
        assert started.status_code == 201, started.text

        version = await row(
            surveys,
            "SELECT version, published_by FROM questionnaires WHERE id = 'followup'",
        )
        assert tuple(version) == (published.json()["version"], "sara.sup@example.com")
        campaign = await row(
            surveys,
            "SELECT created_by FROM campaigns WHERE id = $1",
            uuid.UUID(started.json()["id"]),
        )
        assert campaign["created_by"] == "sara.sup@example.com"
