"""With authentication on, the staff member who saves a template version, sets a customer's
preferences or a colleague's channels is kept on the row; with it off, nobody is."""

import uuid

from atiende_runtime.auth import mint_token

SECRET = "notifications-actors-secret-at-least-32-bytes"
TEMPLATE = "/templates/case_resolved/email/es/informal"


def bearer(subject, *roles):
    return {"Authorization": f"Bearer {mint_token(SECRET, subject=subject, roles=roles)}"}


async def row(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchrow(query, *args)


async def writes(svc, headers):
    """Save a template, a customer's preferences and an agent's channels; the customer's id."""
    client = svc.client
    template = {"subject": "[{{ case_number }}] Listo", "body_text": "{{ resolution }}"}
    saved = await client.put(TEMPLATE, json=template, headers=headers)
    assert saved.status_code == 201, saved.text
    customer = uuid.uuid4()
    prefs = {"preferred_channel": "sms", "time_zone": "Atlantic/Canary"}
    put = await client.put(f"/customers/{customer}/preferences", json=prefs, headers=headers)
    assert put.status_code == 200, put.text
    channels = await client.put("/staff/luis/channels", json={"channels": ["sms"]}, headers=headers)
    assert channels.status_code == 200, channels.text
    return customer


async def stored_actors(svc, customer):
    template = await row(
        svc, "SELECT actor FROM templates WHERE template = 'case_resolved' ORDER BY version DESC"
    )
    prefs = await row(
        svc, "SELECT updated_by FROM customer_preferences WHERE customer_id = $1", customer
    )
    staff = await row(svc, "SELECT updated_by FROM staff WHERE agent_id = 'luis'")
    return template["actor"], prefs["updated_by"], staff["updated_by"]


async def test_template_and_preference_writes_keep_their_token_subject(service_factory):
    async with service_factory("notifications", jwt_secret=SECRET) as svc:
        customer = await writes(svc, bearer("sara.sup@example.com", "supervisor"))
        assert await stored_actors(svc, customer) == ("sara.sup@example.com",) * 3


async def test_with_authentication_off_nobody_is_recorded(service_factory):
    async with service_factory("notifications") as svc:
        customer = await writes(svc, {})
        assert await stored_actors(svc, customer) == (None, None, None)
