"""PostgreSQL's unit of work: the repositories over the runtime unit of work's connection, and
its emit (events go to the outbox in the same transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable

from atiende_contracts import Envelope, EventData
from atiende_runtime.erasure import Scrubbed
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .cases import PostgresCasesRepository
from .catalogue import PostgresCatalogueRepository
from .contacts import PostgresContactsRepository
from .customers import PostgresCustomersRepository
from .emails import PostgresEmailFeedbackRepository, PostgresSentEmailsRepository
from .history import PostgresCaseFactsRepository
from .locks import PostgresLocks
from .rate_limits import PostgresRateLimitsRepository


class PostgresUnitOfWork:
    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.cases = PostgresCasesRepository(uow.conn)
        self.contacts = PostgresContactsRepository(uow.conn)
        self.customers = PostgresCustomersRepository(uow.conn)
        self.catalogue = PostgresCatalogueRepository(uow.conn)
        self.sent_emails = PostgresSentEmailsRepository(uow.conn)
        self.rate_limits = PostgresRateLimitsRepository(uow.conn)
        self.locks = PostgresLocks(uow.conn)
        self.email_feedback = PostgresEmailFeedbackRepository(uow.conn)
        self.case_facts = PostgresCaseFactsRepository(uow.conn)

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        return await self._uow.emit(data, subject=subject)

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        return await self._uow.scrub_copies(subjects=subjects, values=values, free_text=free_text)
