"""The one reminder on the real database and timer: it carries a link of its own that opens the
same questionnaire, an answer through it counts once, and the invitation's link keeps working."""

import hashlib
import uuid
from datetime import UTC, datetime

from atiende_surveys import usecases
from atiende_surveys.domain import CaseFacts
from atiende_surveys.entrypoints.config import survey_config
from atiende_surveys.repository import PostgresUnitOfWork
from atiende_testing import eventually

BASE_URL = "https://encuestas.example.test"


async def rows(svc, sql, *args):
    async with svc.runtime.pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def test_the_reminder_link_opens_the_same_survey_and_an_answer_counts_once(
    service_factory,
):
    async with service_factory(
        "surveys", survey_base_url=BASE_URL, survey_poll_interval=0.2
    ) as surveys:
        case_id, customer = uuid.uuid4(), uuid.uuid4()
        now = datetime.now(UTC)
        async with surveys.runtime.unit_of_work() as tx:
            uow = PostgresUnitOfWork(tx)
            await usecases.remember_case(
                uow, CaseFacts(case_id, "AT-2026-000077", customer, "es", now), True
            )
            await usecases.case_resolved(
                uow,
                case_id=case_id,
                case_number="AT-2026-000077",
                now=now,
                config=survey_config(surveys.runtime.settings),
            )
        (invited,) = await eventually(
            lambda: rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%survey.invited%'"),
            message="no survey.invited emitted",
        )
        first_path = invited["data"]["survey_url"].removeprefix(BASE_URL)
        # four days later (the reminder waits three): the timer sends the one reminder
        async with surveys.runtime.pool.acquire() as conn:
            await conn.execute("UPDATE invitations SET invited_at = now() - interval '4 days'")
            await conn.execute("UPDATE contacts SET at = now() - interval '4 days'")
        (reminded,) = await eventually(
            lambda: rows(surveys, "SELECT data FROM outbox WHERE type LIKE '%survey.reminded%'"),
            message="no survey.reminded emitted",
        )
        url = reminded["data"]["survey_url"]
        assert url.startswith(f"{BASE_URL}/s/")
        assert url != invited["data"]["survey_url"]
        reminder_path = url.removeprefix(BASE_URL)
        reminder_token = reminder_path.removeprefix("/s/")
        (stored,) = await rows(surveys, "SELECT * FROM invitations")
        assert stored["reminders"] == 1
        assert stored["reminder_token_hash"] == hashlib.sha256(reminder_token.encode()).hexdigest()
        assert [r["reminder"] for r in await rows(surveys, "SELECT reminder FROM contacts")] == [
            False,
            True,
        ]

        for path in (reminder_path, first_path):
            page = await surveys.client.get(path)
            assert page.status_code == 200
            assert "¿Cómo valora la forma en que atendimos su caso AT-2026-000077?" in page.text

        answered = await surveys.client.post(reminder_path, data={"satisfaction": "5"})
        assert answered.status_code == 303, answered.text
        for path in (reminder_path, first_path):
            again = await surveys.client.post(path, data={"satisfaction": "1"})
            assert again.status_code == 409
        responses = await rows(surveys, "SELECT invitation_id, satisfaction FROM responses")
        assert [(r["invitation_id"], r["satisfaction"]) for r in responses] == [(stored["id"], 5)]
        answers = await rows(
            surveys, "SELECT event_id FROM outbox WHERE type LIKE '%survey.answered%'"
        )
        assert len(answers) == 1
        # a token one character off opens nothing and says nothing of the case
        guessed = await surveys.client.get(reminder_path[:-1] + ("A" if url[-1] != "A" else "B"))
        assert guessed.status_code == 404
        assert "AT-2026-000077" not in guessed.text
