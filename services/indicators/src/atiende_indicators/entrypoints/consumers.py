"""Indicators' event handler: one consumer group for every event on the exchange."""

from __future__ import annotations

from atiende_contracts import Envelope, EventData
from atiende_runtime.inbox import BatchContext, Consumers

from .. import usecases
from ..repository import PostgresUnitOfWork
from ..settings import IndicatorsSettings

consumers: Consumers[IndicatorsSettings] = Consumers()


@consumers.on_any_batch(["#"], name="project-events")
async def project_events(
    ctx: BatchContext[IndicatorsSettings], events: list[tuple[Envelope, EventData]]
) -> None:
    """A batch of events in one transaction, as one aggregated upsert per read model."""
    await usecases.project_events(
        PostgresUnitOfWork(ctx.uow), [(event, envelope.time) for envelope, event in events]
    )
