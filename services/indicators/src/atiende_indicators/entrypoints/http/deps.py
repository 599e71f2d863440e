"""Dependencies shared by indicators' routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from atiende_runtime.auth import Principal, require
from atiende_runtime.service import ServiceRuntime, runtime_of
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ...repository import PostgresUnitOfWork
from ...settings import IndicatorsSettings


def runtime(request: Request) -> ServiceRuntime[IndicatorsSettings]:
    return runtime_of(request)


Runtime = Annotated[ServiceRuntime[IndicatorsSettings], Depends(runtime)]
ReadIndicators = Annotated[Principal, Depends(require("supervisor", "manager"))]


@asynccontextmanager
async def snapshot(
    runtime: ServiceRuntime[IndicatorsSettings],
) -> AsyncIterator[PostgresUnitOfWork]:
    """A read-only unit of work on one snapshot, so every read in it describes the same moment."""
    async with (
        runtime.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, runtime.source, runtime.publishes))
