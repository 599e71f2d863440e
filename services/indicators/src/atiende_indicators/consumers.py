"""Indicators' event handler: one consumer group for every event on the exchange."""

from __future__ import annotations

from atiende_contracts import EventData
from atiende_runtime.inbox import Consumers, HandlerContext

from .domain import project
from .repository import IndicatorsRepository

consumers = Consumers()


@consumers.on_any(["#"], name="project-events")
async def project_event(ctx: HandlerContext, event: EventData) -> None:
    projection = project(event, ctx.envelope.time)
    if projection is None:
        return  # an event no indicator uses yet; the inbox still records it as handled
    await IndicatorsRepository(ctx.conn).apply(projection)
