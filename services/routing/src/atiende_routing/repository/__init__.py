"""Routing's repositories (one module per aggregate) and the unit of work that hands them out:
the ports the use cases see (Protocols) and their PostgreSQL implementations. Each module's
repositories are attributes of both unit-of-work classes below."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from typing import Protocol

from atiende_contracts import Envelope, EventData
from atiende_runtime.erasure import Scrubbed
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .cases import CasesRepository, PostgresCasesRepository
from .commitments import (
    CommitmentsRepository,
    EscalationsRepository,
    PostgresCommitmentsRepository,
    PostgresEscalationsRepository,
)
from .compensations import CompensationsRepository, PostgresCompensationsRepository
from .org import OrgRepository, PostgresOrgRepository, PostgresWorkRepository, WorkRepository
from .phrasebook import PhrasebookRepository, PostgresPhrasebookRepository
from .problems import PostgresProblemsRepository, ProblemsRepository
from .procedures import PostgresProceduresRepository, ProceduresRepository
from .rules import PostgresRulesRepository, RulesRepository
from .sla import (
    ClocksRepository,
    PostgresClocksRepository,
    PostgresSlaPoliciesRepository,
    SlaPoliciesRepository,
)
from .steps import PostgresStepsRepository, StepsRepository
from .timers import PostgresTimersRepository, TimersRepository


class UnitOfWork(Protocol):
    """One transaction: the repositories it hands out and the events it emits commit together."""

    @property
    def cases(self) -> CasesRepository: ...

    @property
    def steps(self) -> StepsRepository: ...

    @property
    def commitments(self) -> CommitmentsRepository: ...

    @property
    def escalations(self) -> EscalationsRepository: ...

    @property
    def phrasebook(self) -> PhrasebookRepository: ...

    @property
    def org(self) -> OrgRepository: ...

    @property
    def rules(self) -> RulesRepository: ...

    @property
    def work(self) -> WorkRepository: ...

    @property
    def sla_policies(self) -> SlaPoliciesRepository: ...

    @property
    def clocks(self) -> ClocksRepository: ...

    @property
    def timers(self) -> TimersRepository: ...

    @property
    def problems(self) -> ProblemsRepository: ...

    @property
    def procedures(self) -> ProceduresRepository: ...

    @property
    def compensations(self) -> CompensationsRepository: ...

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None: ...

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed: ...


class PostgresUnitOfWork:
    """Routing's repositories on the runtime's unit of work (a route's or the inbox's transaction)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self._uow = uow
        self.cases = PostgresCasesRepository(uow.conn)
        self.steps = PostgresStepsRepository(uow.conn)
        self.commitments = PostgresCommitmentsRepository(uow.conn)
        self.escalations = PostgresEscalationsRepository(uow.conn)
        self.phrasebook = PostgresPhrasebookRepository(uow.conn)
        self.org = PostgresOrgRepository(uow.conn)
        self.rules = PostgresRulesRepository(uow.conn)
        self.work = PostgresWorkRepository(uow.conn)
        self.sla_policies = PostgresSlaPoliciesRepository(uow.conn)
        self.clocks = PostgresClocksRepository(uow.conn)
        self.timers = PostgresTimersRepository(uow.conn, uow.savepoint)
        self.problems = PostgresProblemsRepository(uow.conn)
        self.procedures = PostgresProceduresRepository(uow.conn)
        self.compensations = PostgresCompensationsRepository(uow.conn)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> Envelope:
        return await self._uow.emit(data, subject=subject)

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        return await self._uow.scrub_copies(subjects=subjects, values=values, free_text=free_text)
