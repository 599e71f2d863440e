"""The survey timer: one PollingWorker that decides due invitations (the delay, the customer's
daytime), sends the one reminder, and expires overdue surveys. Each round is one transaction over
rows claimed with FOR UPDATE SKIP LOCKED, so a restart or a second replica neither loses nor
doubles an invitation. A scheduled row's insert NOTIFYs `surveys_due`, so a due-now invitation
goes out at once; the poll picks up those that fall due with time."""

from __future__ import annotations

from datetime import UTC, datetime

from atiende_runtime.service import ServiceRuntime, Worker
from atiende_runtime.worker import PollingWorker

from .. import usecases
from ..repository import PostgresUnitOfWork
from ..settings import SurveysSettings
from .config import survey_config

BATCH = 50


def workers(runtime: ServiceRuntime[SurveysSettings]) -> list[Worker]:
    settings = runtime.settings
    config = survey_config(settings)

    async def round_() -> int:
        now = datetime.now(UTC)
        async with runtime.unit_of_work() as tx:
            uow = PostgresUnitOfWork(tx)
            sent = await usecases.send_due(uow, now, config, BATCH)
            housekept = await usecases.remind_and_expire(uow, now, config, BATCH)
        return max(sent, housekept)

    async def next_due() -> float | None:
        async with runtime.unit_of_work() as tx:
            due = await PostgresUnitOfWork(tx).schedule.next_due()
        return None if due is None else max(0.0, (due - datetime.now(UTC)).total_seconds())

    return [
        PollingWorker(
            "surveys-due",
            round_,
            database_url=settings.session_database_url,
            channel="surveys_due",
            batch_size=BATCH,
            poll_interval=settings.survey_poll_interval,
            grace=settings.shutdown_timeout,
            next_due=next_due,
        )
    ]
