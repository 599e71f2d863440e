"""customer.erased on the real database and broker: surveys scrubs the customer's comment and
free-text answers (in its tables and its outbox), their link stops working, scores stay, and a
case.opened arriving after the erasure does not make them surveyable again."""

import uuid
from datetime import UTC, datetime

from atiende_contracts import CaseOpened, CaseResolved, CustomerErased
from atiende_testing import eventually

BASE_URL = "https://encuestas.example.test"
CUSTOMER = uuid.uuid4()


async def emit(svc, event, subject):
    async with svc.foreign_unit_of_work() as uow:
        return await uow.emit(event, subject=subject)


def opened(case_id, number, *, consent=True):
    return CaseOpened(
        case_id=case_id,
        case_number=number,
        customer_id=CUSTOMER,
        customer_name="Ana Pérez",
        customer_email="ana@example.com",
        type="complaint",
        channel="phone",
        description="The fridge came dented",
        opened_at=datetime.now(UTC),
        consent_surveys=consent,
    )


async def test_erasure_scrubs_the_answers_and_the_links_and_keeps_the_scores(service_factory):
    case_id = uuid.uuid4()
    async with service_factory("surveys", survey_base_url=BASE_URL) as surveys:
        pool = surveys.runtime.pool
        await emit(surveys, opened(case_id, "AT-2026-000042"), case_id)
        await emit(
            surveys,
            CaseResolved(
                case_id=case_id,
                case_number="AT-2026-000042",
                resolution="new fridge",
                resolved_at=datetime.now(UTC),
            ),
            case_id,
        )

        async def invited():
            return await pool.fetchval(
                "SELECT data->>'survey_url' FROM outbox WHERE type LIKE '%survey.invited%'"
            )

        path = (await eventually(invited, message="no invitation")).removeprefix(BASE_URL)
        answered = await surveys.client.post(
            path, data={"satisfaction": "2", "comment": "Soy Ana Pérez, llamadme"}
        )
        assert answered.status_code == 303, answered.text

        await emit(
            surveys,
            CustomerErased(customer_id=CUSTOMER, case_ids=[case_id], erased_at=datetime.now(UTC)),
            CUSTOMER,
        )

        async def handled():
            return await pool.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = 'surveys.customer-erased'"
            )

        await eventually(handled, message="customer.erased was not handled")
        response = await pool.fetchrow(
            "SELECT satisfaction, comment, answers, scores FROM responses"
        )
        assert (response["satisfaction"], response["comment"]) == (2, "[erased]")
        assert response["answers"] == {"satisfaction": 2, "comment": "[erased]"}
        assert response["scores"] == {"csat": 2.0}
        comments = await pool.fetch(
            "SELECT data->>'comment' AS c FROM outbox WHERE data ? 'comment'"
        )
        assert {r["c"] for r in comments} == {"[erased]"}
        assert not await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE data::text ILIKE '%/s/%' AND subject = $1",
            str(case_id),
        )
        assert (await surveys.client.get(path)).status_code == 404

        # an older case.opened arriving late says they consent: they stay unsurveyable
        late = uuid.uuid4()
        await emit(surveys, opened(late, "AT-2026-000043"), late)

        async def remembered():
            return await pool.fetchval("SELECT count(*) FROM cases WHERE case_id = $1", late)

        await eventually(remembered, message="the late case was not remembered")
        assert (
            await pool.fetchval(
                "SELECT consent_surveys FROM customers WHERE customer_id = $1", CUSTOMER
            )
            is False
        )
        assert await pool.fetchval("SELECT count(*) FROM erased_customers") == 1
