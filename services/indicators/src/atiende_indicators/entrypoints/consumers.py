"""Indicators' event handler: one consumer group for every event on the exchange."""

from __future__ import annotations

from atiende_contracts import EventData
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..repository import PostgresUnitOfWork
from ..settings import IndicatorsSettings

consumers: Consumers[IndicatorsSettings] = Consumers()


@consumers.on_any(["#"], name="project-events")
async def project_event(ctx: HandlerContext[IndicatorsSettings], event: EventData) -> None:
    await usecases.project_event(PostgresUnitOfWork(ctx.uow), event, ctx.envelope.time)
