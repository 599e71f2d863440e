"""Root causes, problems and procedures on real PostgreSQL and RabbitMQ: five similar resolved
complaints open one problem whose live magnitude includes the compensation ledger; a sixth case
joins it as it opens and reads the procedure in force; resolving the problem emits
problem.resolved with the open case, and notifications writes to that customer (a real SMTP
server); blame on one procedure requests a review once; racing resolutions on two replicas open
one problem."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from atiende_contracts import CaseOpened, CaseType, Channel
from atiende_testing import eventually

DESIGN_FAULT = {"category": "procedure_design_fault", "procedure": "late-delivery"}
NO_GATES = {"require_steps": False}


def case_opened(n: int) -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_number=f"AT-2026-{n:06d}",
        customer_id=uuid.uuid4(),
        customer_name=f"Cliente {n}",
        customer_email=f"cliente{n}@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.EMAIL,
        description="el pedido llegó tarde",
        motive="DELIVERY",
        region="north",
        language="es",
        opened_at=datetime.now(UTC),
    )


async def open_cases(routing, *events: CaseOpened) -> None:
    async with routing.foreign_unit_of_work() as uow:
        for event in events:
            await uow.emit(event, subject=event.case_id)
    for event in events:

        async def known(case_id=event.case_id):
            return (await routing.client.get(f"/cases/{case_id}")).status_code == 200

        await eventually(known, timeout=15, message=f"routing never opened {event.case_number}")


async def outbox(svc, event_type: str) -> list[dict]:
    async with svc.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM outbox WHERE type = 'io.atiende.' || $1 || '.v1' ORDER BY position",
            event_type,
        )
    return [r["data"] if isinstance(r["data"], dict) else json.loads(r["data"]) for r in rows]


async def set_up(routing, cases: int) -> None:
    procedure = await routing.client.post(
        "/procedures",
        json={
            "code": "late-delivery",
            "motive": "DELIVERY",
            "texts": {
                "es": {
                    "title": "Pedido con retraso",
                    "steps": [
                        "Le decimos hoy mismo dónde está su pedido",
                        "Le ofrecemos recogerlo",
                    ],
                },
                "en": {"title": "Late order", "steps": ["We tell you today where it is"]},
            },
        },
        headers={"Idempotency-Key": "procedure-late-delivery"},
    )
    assert procedure.status_code == 201, procedure.text
    threshold = await routing.client.post(
        "/problem-thresholds",
        json={
            "id": "late-north",
            "name": "Late deliveries in the north",
            "motive": "DELIVERY",
            "root_cause": "procedure_design_fault",
            "region": "north",
            "cases": cases,
            "window_hours": 24,
            "owner": "sara",
        },
    )
    assert threshold.status_code == 201, threshold.text


async def resolve(client, case_id, root_cause=DESIGN_FAULT):
    answer = await client.post(
        f"/cases/{case_id}/resolve",
        json={"resolution": "le devolvimos el envío", "root_cause": root_cause},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_five_similar_complaints_open_a_problem_whose_resolution_reaches_the_open_customers(
    service_factory, smtp_sink
):
    notify = {
        "smtp_host": smtp_sink.host,
        "smtp_port": smtp_sink.port,
        "dispatch_poll_interval": 0.2,
    }
    async with (
        service_factory("routing", **NO_GATES) as routing,
        service_factory("notifications", **notify),
    ):
        await set_up(routing, cases=5)
        first_five = [case_opened(n) for n in range(1, 6)]
        await open_cases(routing, *first_five)

        unknown = await routing.client.post(
            f"/cases/{first_five[0].case_id}/resolve",
            json={"root_cause": {"category": "procedure_design_fault", "procedure": "nope"}},
        )
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["errors"][0]["field"] == "root_cause.procedure"

        for event in first_five[:4]:
            body = await resolve(routing.client, event.case_id)
            assert (body["root_cause"], body["root_cause_procedure"]) == (
                "procedure_design_fault",
                "late-delivery",
            )
        assert (await routing.client.get("/problems")).json() == []
        await resolve(routing.client, first_five[4].case_id)

        [problem] = (await routing.client.get("/problems", params={"status": "open"})).json()
        assert (problem["owner"], problem["threshold_id"]) == ("sara", "late-north")
        [detected] = await outbox(routing, "problem.detected")
        assert detected["case_ids"] == [str(e.case_id) for e in first_five]
        [resolved_event] = [
            e
            for e in await outbox(routing, "case.resolved")
            if e["case_id"] == str(first_five[0].case_id)
        ]
        assert resolved_event["root_cause"] == "procedure_design_fault"
        # three cases blamed the procedure within a week: one review, not three
        [review] = await outbox(routing, "procedure.review_requested")
        assert (review["code"], review["title"]) == ("late-delivery", "Pedido con retraso")
        assert review["case_ids"] == [str(e.case_id) for e in first_five[:3]]

        # a sixth customer writes about the same thing: the case joins the problem as it opens
        sixth = case_opened(6)
        await open_cases(routing, sixth)
        [linked] = await outbox(routing, "problem.case_linked")
        assert (linked["case_id"], linked["reason"]) == (str(sixth.case_id), "automatic")
        procedure = await routing.client.get(f"/cases/{sixth.case_id}/procedure")
        assert procedure.status_code == 200, procedure.text
        assert (procedure.json()["code"], procedure.json()["language"]) == ("late-delivery", "es")
        assert procedure.json()["steps"][0] == "Le decimos hoy mismo dónde está su pedido"
        [of_case] = (await routing.client.get(f"/cases/{sixth.case_id}/problems")).json()
        assert of_case["id"] == problem["id"]

        # the compensations granted on its cases (the ledger) are its cost, per currency
        async with routing.runtime.pool.acquire() as conn:
            for event, amount in ((first_five[0], "20.00"), (first_five[1], "25.50")):
                grant = uuid.uuid4()
                await conn.execute(
                    """INSERT INTO compensation_ledger (entry_id, entry_kind, grant_id, case_id,
                           customer_id, catalogue_code, catalogue_version, kind, amount, currency)
                       VALUES ($1, 'grant', $1, $2, $3, 'voucher', 1, 'discount', $4, 'EUR')""",
                    grant,
                    event.case_id,
                    event.customer_id,
                    Decimal(amount),
                )
        detail = (await routing.client.get(f"/problems/{problem['id']}")).json()
        magnitude = detail["magnitude"]
        assert (magnitude["cases"], magnitude["open_cases"], magnitude["customers"]) == (6, 1, 6)
        assert {k: Decimal(v) for k, v in magnitude["compensation"].items()} == {
            "EUR": Decimal("45.50")
        }
        assert magnitude["sla_breaches"] == 0
        assert [c["reason"] for c in detail["cases"]] == ["detected"] * 5 + ["automatic"]

        known = await routing.client.post(
            f"/problems/{problem['id']}/known-error",
            json={"workaround": "ofrecer la recogida en tienda"},
        )
        assert known.status_code == 200, known.text
        illegal = await routing.client.post(
            f"/problems/{problem['id']}/known-error", json={"workaround": "again"}
        )
        assert illegal.status_code == 409
        assert illegal.json()["allowed_statuses"] == ["resolved"]
        renamed = await routing.client.patch(
            f"/problems/{problem['id']}", json={"title": "los retrasos en el reparto del norte"}
        )
        assert renamed.status_code == 200, renamed.text
        done = await routing.client.post(
            f"/problems/{problem['id']}/resolve", json={"resolution": "cambiamos de transportista"}
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "resolved"
        [told] = await outbox(routing, "problem.resolved")
        assert told["open_cases"] == [
            {
                "case_id": str(sixth.case_id),
                "case_number": sixth.case_number,
                "customer_id": str(sixth.customer_id),
            }
        ]
        assert told["linked_cases"] == 6

        [mail] = await smtp_sink.wait_for(
            lambda m: (
                sixth.customer_email in (m.get("To") or "")
                and sixth.case_number in (m.get("Subject") or "")
                and "causa" in (m.get("Subject") or "")
            ),
            timeout=30,
        )
        text = mail.get_payload(decode=True) if not mail.is_multipart() else None
        body = (text or mail.get_payload(0).get_payload(decode=True)).decode()
        assert "los retrasos en el reparto del norte" in body
        # the five resolved customers are not written to about the problem
        assert not [
            m
            for m in smtp_sink.messages
            if "causa" in (m.get("Subject") or "")
            and any(e.customer_email in (m.get("To") or "") for e in first_five)
        ]


async def test_racing_resolutions_on_two_replicas_open_one_problem(service_factory):
    async with (
        service_factory("routing", **NO_GATES) as one,
        service_factory("routing", **NO_GATES) as two,
    ):
        await set_up(one, cases=2)
        events = [case_opened(n) for n in range(11, 17)]
        await open_cases(one, *events)
        clients = [one.client, two.client] * 3
        await asyncio.gather(*(resolve(c, e.case_id) for c, e in zip(clients, events, strict=True)))

        problems = (await one.client.get("/problems")).json()
        assert len(problems) == 1, problems
        detail = (await one.client.get(f"/problems/{problems[0]['id']}")).json()
        assert detail["magnitude"]["cases"] == len(events)
        [detected] = await outbox(one, "problem.detected")
        linked = await outbox(one, "problem.case_linked")
        assert len(detected["case_ids"]) + len(linked) == len(events)


async def test_a_resolution_waiting_on_another_links_to_its_problem_instead_of_opening_one(
    service_factory,
):
    """Deterministic interleaving: A counts and opens the problem but has not committed; B's
    resolution (on another replica) is then made to wait until it is blocked on A, then A
    commits. B must link its case to A's problem, not open a second one (or fail)."""
    from atiende_routing.repository import PostgresUnitOfWork
    from atiende_routing.usecases import lifecycle

    async with (
        service_factory("routing", **NO_GATES) as one,
        service_factory("routing", **NO_GATES) as two,
    ):
        await set_up(one, cases=2)
        earlier, a, b = (case_opened(n) for n in range(21, 24))
        await open_cases(one, earlier, a, b)
        await resolve(one.client, earlier.case_id)
        # B in another team: resolutions in one team already queue on the team's row, and the
        # detection's own lock is what must hold across teams
        team = await one.client.post("/teams", json={"id": "south-desk", "name": "South desk"})
        assert team.status_code == 201, team.text
        moved = await one.client.post(
            f"/cases/{b.case_id}/transfer", json={"team": "south-desk", "reason": "by region"}
        )
        assert moved.status_code == 200, moved.text

        async with one.runtime.unit_of_work() as tx:
            await lifecycle.resolve_case(
                PostgresUnitOfWork(tx),
                a.case_id,
                "le devolvimos el envío",
                datetime.now(UTC),
                root_cause=lifecycle_root_cause(),
                rules=lifecycle.Rules(require_steps=False),
            )
            holder = await tx.conn.fetchval("SELECT pg_backend_pid()")
            racing = asyncio.create_task(resolve(two.client, b.case_id))

            async def blocked_on_a():
                async with one.runtime.pool.acquire() as conn:
                    return await conn.fetchval(
                        """SELECT count(*) FROM pg_stat_activity
                           WHERE $1 = ANY(pg_blocking_pids(pid))""",
                        holder,
                    )

            await eventually(blocked_on_a, timeout=15, message="B never waited on A")
        await racing

        problems = (await one.client.get("/problems")).json()
        assert len(problems) == 1, problems
        detail = (await one.client.get(f"/problems/{problems[0]['id']}")).json()
        assert [(c["case_id"], c["reason"]) for c in detail["cases"]] == [
            (str(earlier.case_id), "detected"),
            (str(a.case_id), "detected"),
            (str(b.case_id), "automatic"),
        ]


def lifecycle_root_cause():
    from atiende_contracts import RootCauseCategory
    from atiende_routing.domain.root_causes import RootCause

    return RootCause(RootCauseCategory.PROCEDURE_DESIGN_FAULT, procedure="late-delivery")
