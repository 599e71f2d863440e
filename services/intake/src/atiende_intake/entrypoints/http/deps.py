"""The one typed way a route reaches intake's runtime, and its unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from atiende_runtime.service import ServiceRuntime, runtime_of
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ...repository.unit_of_work import PostgresUnitOfWork
from ...settings import IntakeSettings


def runtime(request: Request) -> ServiceRuntime[IntakeSettings]:
    return runtime_of(request)


Runtime = Annotated[ServiceRuntime[IntakeSettings], Depends(runtime)]


@asynccontextmanager
async def transaction(
    service: ServiceRuntime[IntakeSettings],
) -> AsyncIterator[tuple[RuntimeUnitOfWork, PostgresUnitOfWork]]:
    """One transaction: the runtime's unit of work (its connection, for Idempotency-Key) and
    intake's, handing out the repositories."""
    async with service.unit_of_work() as tx:
        yield tx, PostgresUnitOfWork(tx)


@asynccontextmanager
async def unit_of_work(
    service: ServiceRuntime[IntakeSettings],
) -> AsyncIterator[PostgresUnitOfWork]:
    async with service.unit_of_work() as tx:
        yield PostgresUnitOfWork(tx)
