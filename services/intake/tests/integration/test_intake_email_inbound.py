"""POST /inbound/email on the real database and broker: a new email opens a case, a reply joins
it, the same email twice is one contact, and what is not an email is refused clearly."""

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

from atiende_contracts import NotificationChannel, NotificationSent
from atiende_testing import eventually

RAW = {"Content-Type": "message/rfc822"}


def customer_email(
    subject="Mi pedido no ha llegado",
    body="Hice el pedido 4471 hace dos semanas y sigue sin llegar.",
    sender="Marta López <marta@example.com>",
    attachments=(),
    **headers,
):
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = "atencion@atiende.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for name, content in attachments:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


async def post_email(svc, raw, status=201):
    response = await svc.client.post("/inbound/email", content=raw, headers=RAW)
    assert response.status_code == status, response.text
    return response.json()


async def fetch(svc, query, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(query, *args)


async def events(svc, routing_key):
    rows = await fetch(
        svc, "SELECT data FROM outbox WHERE routing_key = $1 ORDER BY position", routing_key
    )
    return [r["data"] for r in rows]


async def test_a_new_email_opens_a_case_with_the_default_motive_and_keeps_its_attachments(
    service_factory,
):
    async with service_factory("intake") as intake:
        raw = customer_email(attachments=[("factura.pdf", b"%PDF" + bytes(2000))])
        answer = await post_email(intake, raw)

        assert answer["outcome"] == "opened"
        assert answer["case"]["number"].startswith("AT-")
        [case] = await fetch(
            intake, "SELECT * FROM cases WHERE id = $1", uuid.UUID(answer["case"]["id"])
        )
        assert case["motive"] == "OTHER"
        assert case["type"] == "claim"
        assert case["channel"] == "email"
        assert case["reply_email"] == "marta@example.com"
        [contact] = await fetch(
            intake, "SELECT * FROM contacts WHERE id = $1", uuid.UUID(answer["contact_id"])
        )
        assert contact["channel"] == "email"
        assert contact["direction"] == "inbound"
        assert contact["touchpoint"] == "EMAIL"
        assert contact["body"].startswith("Mi pedido no ha llegado\n\nHice el pedido 4471")
        assert contact["attachments"] == [
            {"name": "factura.pdf", "size": 2004, "content_type": "application/pdf"}
        ]
        [customer] = await fetch(
            intake, "SELECT * FROM customers WHERE id = $1", contact["customer_id"]
        )
        assert customer["name"] == "Marta López"
        [opened] = await events(intake, "case.opened.v1")
        assert opened["customer_email"] == "marta@example.com"
        assert opened["channel"] == "email"


async def test_a_reply_to_the_acknowledgement_joins_its_case_by_number(service_factory):
    async with service_factory("intake") as intake:
        first = await post_email(intake, customer_email())
        number = first["case"]["number"]
        reply = customer_email(
            subject=f"Re: [{number}] Hemos recibido su caso",
            body=f"Sigo esperando.\n\nEl lun, 24 nov 2026 a las 10:00, Atiende <atiende@example.com> escribió:\n> Estimada Marta:\n> Su caso es el {number}.\n",
        )
        joined = await post_email(intake, reply)

        assert joined["outcome"] == "joined"
        assert joined["case"] == first["case"]
        [linked] = await events(intake, "case.contact_linked.v1")
        assert linked["reason"] == "case_number"
        assert linked["case_number"] == number
        assert linked["contact_id"] == joined["contact_id"]
        [contact] = await fetch(
            intake, "SELECT body FROM contacts WHERE id = $1", uuid.UUID(joined["contact_id"])
        )
        assert contact["body"] == f"Re: [{number}] Hemos recibido su caso\n\nSigo esperando."


async def test_a_reply_that_lost_the_number_joins_the_case_of_the_email_it_answers(
    service_factory,
):
    """Only the thread header can explain this join: both emails are unclassified (the default
    motive never joins by "same problem"), and the reply names no case number."""
    async with service_factory("intake") as intake:
        first = await post_email(intake, customer_email())
        case_id = uuid.UUID(first["case"]["id"])
        delivery_id = uuid.uuid4()
        # notifications announces the acknowledgement it sent; intake learns its Message-ID
        async with intake.foreign_unit_of_work() as uow:
            await uow.emit(
                NotificationSent(
                    delivery_id=delivery_id,
                    case_id=case_id,
                    template="case_acknowledgement",
                    channel=NotificationChannel.EMAIL,
                    recipient="marta@example.com",
                    sent_at=datetime.now(UTC),
                ),
                subject=case_id,
            )

        async def learnt():
            return await fetch(
                intake, "SELECT 1 FROM sent_emails WHERE delivery_id = $1", delivery_id
            )

        await eventually(learnt, message="intake never learnt the sent email")
        unthreaded = await post_email(
            intake, customer_email(subject="Otra cosa", body="Y además me cobraron dos veces.")
        )
        reply = customer_email(
            subject="Otra cosa más",
            body="¿Alguna novedad?",
            In_Reply_To=f"<{delivery_id}@atiende>",
            References=f"<{delivery_id}@atiende>",
        )
        joined = await post_email(intake, reply)

        # the same customer, the same (default) motive, within the window: without the header
        # it opened a case of its own
        assert unthreaded["outcome"] == "opened"
        assert unthreaded["case"] != first["case"]
        assert joined["outcome"] == "joined"
        assert joined["case"] == first["case"]
        [linked] = await events(intake, "case.contact_linked.v1")
        assert (linked["reason"], linked["contact_id"]) == ("thread_header", joined["contact_id"])


async def test_a_reply_to_the_customers_own_earlier_email_joins_its_case(service_factory):
    async with service_factory("intake") as intake:
        first_raw = customer_email()
        first = await post_email(intake, first_raw)
        first_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in first_raw.splitlines()
            if line.lower().startswith(b"message-id:")
        )
        follow_up = customer_email(
            subject="Más datos", body="Adjunto el número de seguimiento.", References=first_id
        )
        joined = await post_email(intake, follow_up)

        assert (joined["outcome"], joined["case"]) == ("joined", first["case"])
        [linked] = await events(intake, "case.contact_linked.v1")
        assert linked["reason"] == "thread_header"


async def test_a_case_number_we_never_issued_does_not_lose_the_email(service_factory):
    async with service_factory("intake") as intake:
        answer = await post_email(intake, customer_email(subject="Re: [AT-1999-999999] Pedido"))
        assert answer["outcome"] == "opened"
        assert answer["case"]["number"] != "AT-1999-999999"


async def test_the_same_email_twice_is_one_contact_and_the_same_answer(service_factory):
    async with service_factory("intake") as intake:
        raw = customer_email()
        first = await post_email(intake, raw)
        again = await post_email(intake, raw, status=200)

        assert again == first
        assert len(await fetch(intake, "SELECT id FROM contacts")) == 1
        assert len(await events(intake, "contact.received.v1")) == 1


async def test_other_media_types_are_refused_with_415(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post(
            "/inbound/email", content=customer_email(), headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "header.Content-Type"


async def test_an_email_over_the_size_limit_is_refused_with_413(service_factory):
    async with service_factory("intake", inbound_email_max_bytes=4096) as intake:
        big = customer_email(attachments=[("big.pdf", bytes(8000))])
        response = await intake.client.post("/inbound/email", content=big, headers=RAW)
        assert response.status_code == 413
        assert response.json()["errors"][0]["field"] == "body"
        assert await fetch(intake, "SELECT id FROM contacts") == []


async def test_a_message_without_sender_is_refused_with_422_naming_the_body(service_factory):
    async with service_factory("intake") as intake:
        response = await intake.client.post(
            "/inbound/email", content=customer_email(sender=None), headers=RAW
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["errors"][0]["field"] == "body"
        assert "From" in problem["errors"][0]["message"]
        empty = await intake.client.post("/inbound/email", content=b"", headers=RAW)
        assert empty.status_code == 422
        assert await fetch(intake, "SELECT id FROM customers") == []
