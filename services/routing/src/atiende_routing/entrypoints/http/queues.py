"""/queues: my cases and my team's, escalated first, then by the earliest SLA deadline, a page
at a time (an opaque cursor names where the next page starts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from atiende_contracts import CaseStatus
from atiende_runtime.errors import Invalid

from ...repository import PostgresUnitOfWork
from ...repository.cases import QueueFilter
from ...usecases import lifecycle
from .case_models import RoutedCaseOut
from .deps import CaseWorker, Runtime, actor_of

router = APIRouter(tags=["queues"])


class QueuePage(BaseModel):
    items: list[RoutedCaseOut]
    next_cursor: str | None


Limit = Annotated[int, Query(ge=1, le=200)]


async def _page(runtime: Runtime, where: QueueFilter, cursor: str | None, limit: int) -> QueuePage:
    async with runtime.unit_of_work() as tx:
        cases, after = await lifecycle.queue(PostgresUnitOfWork(tx), where, cursor, limit)
    return QueuePage(items=[RoutedCaseOut.of(c) for c in cases], next_cursor=after)


@router.get(
    "/queues/mine",
    response_model=QueuePage,
    summary="My open cases: escalated first, then by SLA deadline",
)
async def my_queue(
    runtime: Runtime,
    principal: CaseWorker,
    agent_id: Annotated[
        str | None, Query(description="Only when authentication is off: whose queue")
    ] = None,
    status: CaseStatus | None = None,
    priority: str | None = None,
    escalated: bool | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> QueuePage:
    me = actor_of(principal) or agent_id
    if not me:
        raise Invalid.field("agent_id", "required", "whose queue (authentication is off)")
    where = QueueFilter(agent_id=me, status=status, priority=priority, escalated=escalated)
    return await _page(runtime, where, cursor, limit)


@router.get(
    "/queues/teams/{team}",
    response_model=QueuePage,
    summary="A team's open cases (unassigned=true: its waiting queue), escalated first, by deadline",
)
async def team_queue(
    team: str,
    runtime: Runtime,
    _: CaseWorker,
    status: CaseStatus | None = None,
    priority: str | None = None,
    escalated: bool | None = None,
    unassigned: bool = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> QueuePage:
    where = QueueFilter(
        team=team, status=status, priority=priority, escalated=escalated, unassigned=unassigned
    )
    return await _page(runtime, where, cursor, limit)
