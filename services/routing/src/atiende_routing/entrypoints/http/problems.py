"""/problem-thresholds: when many similar cases make a problem (admin). /problems: the problems
detected, their live magnitude and linked cases; agents link and unlink cases, supervisors own,
mark known error and resolve them. /cases/{id}/problems: the problems a case belongs to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from atiende_contracts import CaseStatus, ProblemLinkReason, RootCauseCategory
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.bodies import RequestModel

from ...domain.problems import (
    TRANSITIONS,
    Magnitude,
    Problem,
    ProblemStatus,
    Threshold,
    Trigger,
)
from ...repository import PostgresUnitOfWork
from ...repository.problems import LinkedCase
from ...usecases import problems
from .deps import CODE_PATTERN, Admin, Anyone, CaseWorker, Runtime, actor_of

router = APIRouter(tags=["problems"])

Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]


def _now() -> datetime:
    return datetime.now(UTC)


# --- thresholds -------------------------------------------------------------------------------------


def _factor_for_baseline(schema: dict[str, Any]) -> None:
    """A baseline threshold has a factor; a count threshold (the default) has none."""
    schema["anyOf"] = [
        {
            "required": ["trigger", "factor"],
            "properties": {"trigger": {"const": "baseline"}, "factor": {"type": "number"}},
        },
        {
            "properties": {
                "trigger": {"const": "count"},
                "factor": {"type": "null"},
            }
        },
    ]


class ThresholdIn(RequestModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_factor_for_baseline
    )

    name: str = Field(min_length=1, max_length=200)
    motive: str = Field(min_length=1, max_length=100, description="A motive of the catalogue")
    root_cause: RootCauseCategory
    touchpoint: str | None = Field(default=None, min_length=1, max_length=100)
    product: str | None = Field(default=None, min_length=1, max_length=100)
    region: str | None = Field(default=None, min_length=1, max_length=100)
    trigger: Trigger = Field(
        default=Trigger.COUNT,
        description="count: `cases` within the window; baseline: at least `cases` within the"
        " window and `factor` times the mean of the 4 windows before it",
    )
    cases: int = Field(
        ge=1, le=100_000, description="How many matching cases (a floor for baseline)"
    )
    window_hours: float = Field(default=24, ge=1 / 60, le=24 * 366, description="At least a minute")
    factor: float | None = Field(default=None, gt=0, le=1000, description="baseline only")
    owner: str | None = Field(default=None, max_length=64, description="Owner of its problems")
    active: bool = True

    def threshold(self, threshold_id: str) -> Threshold:
        return Threshold(
            id=threshold_id,
            name=self.name,
            motive=self.motive,
            root_cause=self.root_cause,
            trigger=self.trigger,
            cases=self.cases,
            window=timedelta(hours=self.window_hours),
            factor=self.factor,
            touchpoint=self.touchpoint,
            product=self.product,
            region=self.region,
            owner=self.owner,
            active=self.active,
        )


class NewThresholdIn(ThresholdIn):
    id: str = Field(min_length=1, max_length=100, pattern=CODE_PATTERN)


class ThresholdOut(BaseModel):
    id: str
    name: str
    motive: str
    root_cause: RootCauseCategory
    touchpoint: str | None
    product: str | None
    region: str | None
    trigger: Trigger
    cases: int
    window_hours: float
    factor: float | None
    owner: str | None
    active: bool
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, t: Threshold) -> ThresholdOut:
        return cls(
            id=t.id,
            name=t.name,
            motive=t.motive,
            root_cause=t.root_cause,
            touchpoint=t.touchpoint,
            product=t.product,
            region=t.region,
            trigger=t.trigger,
            cases=t.cases,
            window_hours=t.window.total_seconds() / 3600,
            factor=t.factor,
            owner=t.owner,
            active=t.active,
            changed_at=t.changed_at,
            actor=t.actor,
        )


@router.get(
    "/problem-thresholds", response_model=list[ThresholdOut], summary="Every problem threshold"
)
async def list_thresholds(runtime: Runtime, _: Admin) -> list[ThresholdOut]:
    async with runtime.unit_of_work() as tx:
        found = await problems.thresholds(PostgresUnitOfWork(tx))
    return [ThresholdOut.of(t) for t in found]


@router.get(
    "/problem-thresholds/{threshold_id}",
    response_model=ThresholdOut,
    summary="A problem threshold",
    responses={404: {"description": "Unknown threshold"}},
)
async def get_threshold(threshold_id: str, runtime: Runtime, _: Admin) -> ThresholdOut:
    async with runtime.unit_of_work() as tx:
        found = await problems.get_threshold(PostgresUnitOfWork(tx), threshold_id)
    return ThresholdOut.of(found)


@router.post(
    "/problem-thresholds",
    status_code=201,
    response_model=ThresholdOut,
    summary="Create a problem threshold",
    responses={409: {"description": "The id exists"}, 422: {"description": "A rule is broken"}},
)
async def create_threshold(
    body: NewThresholdIn,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            stored = await problems.save_threshold(
                PostgresUnitOfWork(tx),
                body.threshold(body.id),
                _now(),
                actor_of(principal),
                create=True,
            )
            return idempotency.Answer(
                201,
                ThresholdOut.of(stored).model_dump(mode="json"),
                {"Location": f"/problem-thresholds/{stored.id}"},
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.put(
    "/problem-thresholds/{threshold_id}",
    response_model=ThresholdOut,
    summary="Change a problem threshold (its problems keep what they were detected with)",
    responses={404: {"description": "Unknown threshold"}, 422: {"description": "A rule is broken"}},
)
async def change_threshold(
    threshold_id: str, body: ThresholdIn, runtime: Runtime, principal: Admin
) -> ThresholdOut:
    async with runtime.unit_of_work() as tx:
        stored = await problems.save_threshold(
            PostgresUnitOfWork(tx),
            body.threshold(threshold_id),
            _now(),
            actor_of(principal),
            create=False,
        )
    return ThresholdOut.of(stored)


@router.delete(
    "/problem-thresholds/{threshold_id}",
    response_model=ThresholdOut,
    summary="Deactivate a problem threshold (never deleted: problems point at it)",
    responses={404: {"description": "Unknown threshold"}},
)
async def deactivate_threshold(
    threshold_id: str, runtime: Runtime, principal: Admin
) -> ThresholdOut:
    async with runtime.unit_of_work() as tx:
        stored = await problems.deactivate_threshold(
            PostgresUnitOfWork(tx), threshold_id, _now(), actor_of(principal)
        )
    return ThresholdOut.of(stored)


# --- problems ---------------------------------------------------------------------------------------


class ProblemOut(BaseModel):
    id: uuid.UUID
    number: str
    title: str
    threshold_id: str
    motive: str
    root_cause: RootCauseCategory
    touchpoint: str | None
    product: str | None
    region: str | None
    status: ProblemStatus
    owner: str | None
    workaround: str | None
    known_error_at: datetime | None
    resolution: str | None
    resolved_at: datetime | None
    detected_at: datetime
    version: int
    allowed_statuses: list[ProblemStatus]

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        values = {n: getattr(problem, n) for n in cls.model_fields if n != "allowed_statuses"}
        return cls(**values, allowed_statuses=sorted(TRANSITIONS[problem.status]))


class MagnitudeOut(BaseModel):
    cases: int
    open_cases: int
    customers: int = Field(description="Distinct customers among the linked cases")
    compensation: dict[str, Decimal] = Field(
        description="Per currency: grants minus reversals on the linked cases"
    )
    sla_breaches: int = Field(description="Clocks of the linked cases that passed their deadline")

    @classmethod
    def of(cls, m: Magnitude) -> MagnitudeOut:
        return cls(
            cases=m.cases,
            open_cases=m.open_cases,
            customers=m.customers,
            compensation=dict(m.compensation),
            sla_breaches=m.sla_breaches,
        )


class LinkedCaseOut(BaseModel):
    case_id: uuid.UUID
    case_number: str
    status: CaseStatus
    customer_id: uuid.UUID | None
    root_cause: str | None
    reason: ProblemLinkReason
    linked_at: datetime
    actor: str | None

    @classmethod
    def of(cls, link: LinkedCase) -> LinkedCaseOut:
        return cls(
            case_id=link.case.id,
            case_number=link.case.number,
            status=link.case.status,
            customer_id=link.case.customer_id,
            root_cause=link.case.root_cause,
            reason=link.reason,
            linked_at=link.linked_at,
            actor=link.actor,
        )


class ProblemDetailOut(ProblemOut):
    magnitude: MagnitudeOut
    cases: list[LinkedCaseOut]


class LinkCase(RequestModel):
    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID


class ProblemChange(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    owner: str | None = Field(
        default=None, max_length=64, description="A supervisor's id; null: nobody"
    )
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="What the problem is, in words a customer reads when it is resolved",
    )


class KnownErrorIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    workaround: str = Field(min_length=1, max_length=4000)


class ResolveProblem(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resolution: str = Field(min_length=1, max_length=4000)


PROBLEM_ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown problem"},
    409: {"description": "The problem's status refuses it"},
    422: {"description": "A field breaks a rule"},
}


@router.get("/problems", response_model=list[ProblemOut], summary="Problems, newest first")
async def list_problems(
    runtime: Runtime,
    _: Anyone,
    status: ProblemStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ProblemOut]:
    async with runtime.unit_of_work() as tx:
        found = await problems.list_problems(PostgresUnitOfWork(tx), status, limit)
    return [ProblemOut.of(p) for p in found]


async def _detail(runtime: Runtime, problem_id: uuid.UUID) -> ProblemDetailOut:
    async with runtime.unit_of_work() as tx:
        view = await problems.view_problem(PostgresUnitOfWork(tx), problem_id)
    return ProblemDetailOut(
        **ProblemOut.of(view.problem).model_dump(),
        magnitude=MagnitudeOut.of(view.magnitude),
        cases=[LinkedCaseOut.of(link) for link in view.cases],
    )


@router.get(
    "/problems/{problem_id}",
    response_model=ProblemDetailOut,
    summary="A problem with its live magnitude and linked cases",
    responses={404: {"description": "Unknown problem"}},
)
async def get_problem(problem_id: uuid.UUID, runtime: Runtime, _: Anyone) -> ProblemDetailOut:
    return await _detail(runtime, problem_id)


@router.post(
    "/problems/{problem_id}/cases",
    status_code=201,
    response_model=LinkedCaseOut,
    summary="Link a case to the problem by hand; emits problem.case_linked",
    responses={
        404: {"description": "Unknown problem or case"},
        409: {"description": "Already linked, or the problem is resolved"},
    },
)
async def link_case(
    problem_id: uuid.UUID,
    body: LinkCase,
    request: Request,
    runtime: Runtime,
    principal: CaseWorker,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            link = await problems.link_case(
                PostgresUnitOfWork(tx), problem_id, body.case_id, _now(), actor_of(principal)
            )
            return idempotency.Answer(201, LinkedCaseOut.of(link).model_dump(mode="json"), {})

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.delete(
    "/problems/{problem_id}/cases/{case_id}",
    status_code=204,
    summary="Unlink a case from the problem",
    responses={
        404: {"description": "Unknown problem, or the case is not linked"},
        409: {"description": "The problem is resolved"},
    },
)
async def unlink_case(
    problem_id: uuid.UUID, case_id: uuid.UUID, runtime: Runtime, principal: CaseWorker
) -> Response:
    async with runtime.unit_of_work() as tx:
        await problems.unlink_case(
            PostgresUnitOfWork(tx), problem_id, case_id, _now(), actor_of(principal)
        )
    return Response(status_code=204)


@router.patch(
    "/problems/{problem_id}",
    response_model=ProblemOut,
    summary="Change the problem's owner or title (only the fields sent)",
    responses=PROBLEM_ERRORS,
)
async def change_problem(
    problem_id: uuid.UUID, body: ProblemChange, runtime: Runtime, _: Supervisor
) -> ProblemOut:
    async with runtime.unit_of_work() as tx:
        problem = await problems.change(
            PostgresUnitOfWork(tx),
            problem_id,
            owner=body.owner or None,
            change_owner="owner" in body.model_fields_set,
            title=body.title,
        )
    return ProblemOut.of(problem)


@router.post(
    "/problems/{problem_id}/known-error",
    response_model=ProblemOut,
    summary="Mark the problem a known error, with the workaround agents give meanwhile",
    responses=PROBLEM_ERRORS,
)
async def known_error(
    problem_id: uuid.UUID, body: KnownErrorIn, runtime: Runtime, _: Supervisor
) -> ProblemOut:
    async with runtime.unit_of_work() as tx:
        problem = await problems.known_error(
            PostgresUnitOfWork(tx), problem_id, body.workaround, _now()
        )
    return ProblemOut.of(problem)


@router.post(
    "/problems/{problem_id}/resolve",
    response_model=ProblemOut,
    summary="Resolve the problem; emits problem.resolved with every linked open case",
    responses=PROBLEM_ERRORS,
)
async def resolve_problem(
    problem_id: uuid.UUID, body: ResolveProblem, runtime: Runtime, principal: Supervisor
) -> ProblemOut:
    async with runtime.unit_of_work() as tx:
        problem = await problems.resolve(
            PostgresUnitOfWork(tx), problem_id, body.resolution, _now(), actor_of(principal)
        )
    return ProblemOut.of(problem)


@router.get(
    "/cases/{case_id}/problems",
    response_model=list[ProblemOut],
    summary="The problems a case is linked to (with their workaround, if known)",
    responses={404: {"description": "Unknown case"}},
)
async def case_problems(case_id: uuid.UUID, runtime: Runtime, _: CaseWorker) -> list[ProblemOut]:
    async with runtime.unit_of_work() as tx:
        found = await problems.problems_of_case(PostgresUnitOfWork(tx), case_id)
    return [ProblemOut.of(p) for p in found]
