"""Routing's event handlers: thin, each runs its use case inside the inbox transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from atiende_contracts import CaseOpened
from atiende_runtime.inbox import Consumers, HandlerContext

from ..repository import PostgresUnitOfWork
from ..settings import RoutingSettings
from ..usecases import lifecycle

consumers: Consumers[RoutingSettings] = Consumers()


@consumers.on(CaseOpened, name="assign-case")
async def assign_case(ctx: HandlerContext[RoutingSettings], event: CaseOpened) -> None:
    await lifecycle.open_and_assign(
        PostgresUnitOfWork(ctx.uow), event, ctx.settings.default_team, datetime.now(UTC)
    )
