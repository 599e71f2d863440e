"""What the case routes share: the answer models, the ETag/If-Match handling and the one way a
command runs (its unit of work; a stale If-Match is a 412, a role refusal a 403)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from atiende_contracts import CaseStatus, Rank
from atiende_runtime.auth import Principal
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem
from atiende_runtime.service import ServiceRuntime

from ...domain.cases import TRANSITIONS, RoutedCase
from ...domain.commitments import Commitment
from ...domain.errors import NotPermitted, StaleCase
from ...domain.escalation import EscalationRecord
from ...domain.steps import StepRecord
from ...repository import PostgresUnitOfWork, UnitOfWork
from ...repository.cases import TimelineEntry
from ...settings import RoutingSettings
from ...usecases import lifecycle

T = TypeVar("T")

_VERSION = re.compile(r'^\s*(?:W/)?"v?(\d+)"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; None when absent or `*` (the write is unconditional).
    A value that names no version of ours can never match: 412."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _VERSION.match(if_match)
    if found is None:
        raise Problem(
            412, "Precondition failed", f"If-Match {if_match!r} names no version of this case"
        )
    return int(found.group(1))


def is_supervisor(principal: Principal) -> bool:
    return bool(principal.roles & {"supervisor", "admin", "*"})


async def run(
    runtime: ServiceRuntime[RoutingSettings],
    case_id: uuid.UUID,
    work: Callable[[UnitOfWork], Awaitable[T]],
) -> T:
    """A command on one case in one transaction."""
    current_case_id.set(str(case_id))
    try:
        async with runtime.unit_of_work() as tx:
            return await work(PostgresUnitOfWork(tx))
    except StaleCase as exc:
        raise Problem(
            412,
            "Precondition failed",
            exc.message,
            extensions={"current_version": exc.current},
            headers={"ETag": etag(exc.current)},
        ) from exc
    except NotPermitted as exc:
        raise Problem(403, "Forbidden", exc.message) from exc


def tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


class RoutedCaseOut(BaseModel):
    id: uuid.UUID
    number: str
    type: str
    status: CaseStatus
    team: str | None
    agent_id: str | None
    priority: str
    policy_id: str | None
    rule_id: str | None
    rule_version: int | None
    opened_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    closed_at: datetime | None
    close_reason: str | None
    reopened_at: datetime | None
    merged_into: uuid.UUID | None
    recovery_of: uuid.UUID | None = None
    root_cause: str | None = None
    root_cause_procedure: str | None = None
    root_cause_policy: str | None = None
    root_cause_note: str | None = None
    waiting_reason: str | None
    waiting_note: str | None
    escalation: Rank | None
    responsible_id: str | None
    upset: bool
    customer_id: uuid.UUID | None
    channel: str | None
    language: str | None
    formality: str | None
    tier: str | None
    expectation: str | None
    sla_due_at: datetime | None
    version: int
    allowed_statuses: list[CaseStatus]

    @classmethod
    def of(cls, case: RoutedCase) -> RoutedCaseOut:
        values = {
            name: getattr(case, name) for name in cls.model_fields if name != "allowed_statuses"
        }
        return cls(**values, allowed_statuses=sorted(TRANSITIONS[case.status]))


class StepOut(BaseModel):
    step: str
    text: str
    author: str | None
    recorded_at: datetime
    options: list[str]
    chosen: str | None
    commitment_id: uuid.UUID | None
    source: str

    @classmethod
    def of(cls, record: StepRecord) -> StepOut:
        return cls(
            step=record.step.value,
            text=record.text,
            author=record.author,
            recorded_at=record.recorded_at,
            options=list(record.options),
            chosen=record.chosen,
            commitment_id=record.commitment_id,
            source=record.source,
        )


class CommitmentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    description: str
    owner_id: str
    to_whom: str | None
    channel: str | None
    due_at: datetime
    made_at: datetime
    state: str
    reminded_at: datetime | None
    kept_at: datetime | None
    missed_at: datetime | None

    @classmethod
    def of(cls, c: Commitment) -> CommitmentOut:
        return cls(
            id=c.id,
            case_id=c.case_id,
            description=c.description,
            owner_id=c.owner_id,
            to_whom=c.to_whom,
            channel=c.channel.value if c.channel else None,
            due_at=c.due_at,
            made_at=c.made_at,
            state=c.state.value,
            reminded_at=c.reminded_at,
            kept_at=c.kept_at,
            missed_at=c.missed_at,
        )


class EscalationOut(BaseModel):
    level: Rank
    reason: str
    direction: str
    responsible_id: str | None
    actor: str | None
    note: str | None
    at: datetime

    @classmethod
    def of(cls, r: EscalationRecord) -> EscalationOut:
        return cls(
            level=r.level,
            reason=r.reason,
            direction=r.direction,
            responsible_id=r.responsible_id,
            actor=r.actor,
            note=r.note,
            at=r.at,
        )


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    actor: str | None
    summary: str

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineOut:
        return cls(at=e.at, kind=e.kind, actor=e.actor, summary=e.summary)


class ClockOut(BaseModel):
    clock: str
    cycle: int
    state: str
    target_seconds: float
    elapsed_seconds: float
    paused_seconds: float
    due_at: datetime | None
    started_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    business_hours: bool
    policy_id: str
    priority: str
    pauses: list[dict[str, Any]]


class CaseDetailOut(RoutedCaseOut):
    clocks: list[ClockOut]
    steps: list[StepOut]
    commitments: list[CommitmentOut]
    escalations: list[EscalationOut]
    timeline: list[TimelineOut]

    @classmethod
    def of_view(cls, view: lifecycle.CaseView) -> CaseDetailOut:
        base = RoutedCaseOut.of(view.case).model_dump()
        return cls(
            **base,
            clocks=[
                ClockOut(
                    clock=c.clock.value,
                    cycle=c.cycle,
                    state=c.state.value,
                    target_seconds=c.target.total_seconds(),
                    elapsed_seconds=c.elapsed.total_seconds(),
                    paused_seconds=c.paused.total_seconds(),
                    due_at=c.due_at,
                    started_at=c.started_at,
                    met_at=c.met_at,
                    breached_at=c.breached_at,
                    business_hours=c.business_hours,
                    policy_id=c.policy_id,
                    priority=c.priority.value,
                    pauses=[
                        {
                            "status": p.status,
                            "reason": p.reason,
                            "note": p.note,
                            "started_at": p.started_at,
                            "ended_at": p.ended_at,
                        }
                        for p in c.pauses
                    ],
                )
                for c in view.clocks
            ],
            steps=[StepOut.of(s) for s in view.steps],
            commitments=[CommitmentOut.of(c) for c in view.commitments],
            escalations=[EscalationOut.of(e) for e in view.escalations],
            timeline=[TimelineOut.of(e) for e in view.timeline],
        )
