"""With authentication on, who did each staff action lands in its event (the outbox) and in the
row it changed: an agent opening a case by phone, customer changes, merges, their undo, erasure
and catalogue changes. A customer writing in by email is nobody's action."""

import uuid
from email.message import EmailMessage

from atiende_runtime.auth import mint_token

SECRET = "intake-actors-secret-at-least-32-bytes"


def bearer(subject, *roles):
    return {"Authorization": f"Bearer {mint_token(SECRET, subject=subject, roles=roles)}"}


AGENT = bearer("ana.agent@example.com", "agent")
SUPERVISOR = bearer("sara.sup@example.com", "supervisor")
ADMIN = bearer("root.admin@example.com", "admin")
GATEWAY = bearer("mail-gateway-1", "mail-gateway")


async def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def events(svc, name):
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM outbox WHERE routing_key = $1 ORDER BY position", f"{name}.v1"
        )
    return [r["data"] for r in rows]


async def row(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetchrow(query, *args)


def an_email():
    message = EmailMessage()
    message["From"] = "Marta López <marta@example.com>"
    message["To"] = "atencion@atiende.example"
    message["Subject"] = "Mi pedido no ha llegado"
    message["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    message.set_content("Hice el pedido hace dos semanas y no llega.")
    return message.as_bytes()


async def test_staff_actions_record_their_token_subject(service_factory):
    async with service_factory("intake", jwt_secret=SECRET) as intake:
        client = intake.client
        by_phone = {
            "customer": {"name": "Ana Pérez", "email": "ana@example.com"},
            "type": "complaint",
            "channel": "phone",
            "description": "Where is my parcel?",
            "motive": "DELIVERY",
        }
        case = await ok(await client.post("/cases", json=by_phone, headers=AGENT), 201)
        mailed = await ok(
            await client.post(
                "/inbound/email",
                content=an_email(),
                headers={"Content-Type": "message/rfc822", **GATEWAY},
            ),
            201,
        )
        opened = {e["case_id"]: e for e in await events(intake, "case.opened")}
        assert (opened[case["id"]]["actor"], opened[case["id"]]["channel"]) == (
            "ana.agent@example.com",
            "phone",
        )
        mailed_case = mailed["case"]["id"]
        assert (opened[mailed_case]["actor"], opened[mailed_case]["channel"]) == (None, "email")
        opened_by = "SELECT opened_by FROM cases WHERE id = $1"
        assert (await row(intake, opened_by, uuid.UUID(case["id"])))["opened_by"] == (
            "ana.agent@example.com"
        )
        assert (await row(intake, opened_by, uuid.UUID(mailed_case)))["opened_by"] is None

        ana = case["customer_id"]
        await ok(await client.patch(f"/customers/{ana}", json={"tier": "vip"}, headers=AGENT))
        dup = await ok(
            await client.post(
                "/customers", json={"name": "A. P.", "email": "ap@example.com"}, headers=AGENT
            ),
            201,
        )
        merge = await ok(
            await client.post(
                f"/customers/{ana}/merge",
                json={"source_customer_id": dup["id"]},
                headers=SUPERVISOR,
            ),
            201,
        )
        await ok(await client.post(f"/customer-merges/{merge['id']}/undo", headers=SUPERVISOR))
        await ok(await client.post(f"/customers/{dup['id']}/erase", headers=SUPERVISOR))

        changed = [e for e in await events(intake, "customer.profile_changed")]
        assert [(e["customer_id"], e["tier"], e["actor"]) for e in changed][-2:] == [
            (ana, "vip", "ana.agent@example.com"),
            (dup["id"], "standard", "ana.agent@example.com"),
        ]
        [merged] = await events(intake, "customer.merged")
        [undone] = await events(intake, "customer.merge_undone")
        [erased] = await events(intake, "customer.erased")
        assert (merged["actor"], undone["actor"], erased["actor"]) == (
            "sara.sup@example.com",
            "sara.sup@example.com",
            "sara.sup@example.com",
        )
        merge_row = await row(
            intake,
            "SELECT merged_by, undone_by FROM customer_merges WHERE id = $1",
            uuid.UUID(merge["id"]),
        )
        assert tuple(merge_row) == ("sara.sup@example.com", "sara.sup@example.com")
        who = "SELECT updated_by, erased_by FROM customers WHERE id = $1"
        assert tuple(await row(intake, who, uuid.UUID(ana))) == ("ana.agent@example.com", None)
        assert tuple(await row(intake, who, uuid.UUID(dup["id"]))) == (
            "ana.agent@example.com",
            "sara.sup@example.com",
        )

        entry = {"code": "WARRANTY", "name_es": "Garantía", "name_en": "Warranty"}
        await ok(await client.post("/catalogue/motive", json=entry, headers=ADMIN), 201)
        other_admin = bearer("eva.admin@example.com", "admin")
        await ok(
            await client.patch(
                "/catalogue/motive/WARRANTY", json={"name_en": "Guarantee"}, headers=other_admin
            )
        )
        entry_events = [
            (e["name_en"], e["actor"])
            for e in await events(intake, "catalogue.entry_changed")
            if e["code"] == "WARRANTY"
        ]
        assert entry_events == [
            ("Warranty", "root.admin@example.com"),
            ("Guarantee", "eva.admin@example.com"),
        ]
        entry_row = await row(
            intake,
            "SELECT updated_by FROM catalogue_entries WHERE kind = 'motive' AND code = 'WARRANTY'",
        )
        assert entry_row["updated_by"] == "eva.admin@example.com"


async def test_with_authentication_off_nobody_is_recorded(service_factory):
    async with service_factory("intake") as intake:
        body = {
            "customer": {"name": "Luis", "email": "luis@example.com"},
            "type": "complaint",
            "channel": "phone",
            "description": "Billed twice",
            "motive": "BILLING",
        }
        case = await ok(await intake.client.post("/cases", json=body), 201)
        [opened] = await events(intake, "case.opened")
        assert opened["actor"] is None
        stored = await row(
            intake, "SELECT opened_by FROM cases WHERE id = $1", uuid.UUID(case["id"])
        )
        assert stored["opened_by"] is None
