"""/sla-policies: SLA policies (per priority targets, business or calendar time, which statuses
pause which clock, warning thresholds), versioned — every change is a new version and an
sla_policy.changed event. /sla-pause-reasons: the managed list a pause must name. Admin only
to change; any role may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from atiende_contracts import CaseStatus, SlaClock
from atiende_runtime import idempotency
from atiende_runtime.bodies import RequestModel

from ...domain.sla import DEFAULT_PAUSES, Priority, SlaPolicy
from ...repository import PostgresUnitOfWork
from ...repository.sla import PauseReason
from ...usecases import sla
from .deps import Admin, Anyone, Runtime, actor_of

router = APIRouter(tags=["sla"])

ClockTargets = Annotated[
    dict[SlaClock, Annotated[float, Field(ge=1 / 60, description="At least a second")]],
    Field(json_schema_extra={"required": [c.value for c in SlaClock]}),
]
"""Minutes for every clock."""

TargetsIn = dict[Priority, ClockTargets]


PausingStatus = Annotated[
    CaseStatus,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [
                s.value for s in CaseStatus if s not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            ],
        }
    ),
]
"""A status that may pause a clock: a resolved or closed case has no clock running."""


class PolicyIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    business_hours: bool = Field(
        default=True, description="Count the team's business hours (false: calendar time)"
    )
    targets_minutes: TargetsIn = Field(
        json_schema_extra={"required": [p.value for p in Priority]},
        description="Per priority (low, normal, high, urgent), minutes for each clock"
        " (first_response, next_update, resolution)",
    )
    pauses: dict[SlaClock, list[PausingStatus]] = Field(
        default_factory=lambda: {c: sorted(s) for c, s in DEFAULT_PAUSES.items()},
        json_schema_extra={
            "properties": {SlaClock.FIRST_RESPONSE.value: {"type": "array", "maxItems": 0}}
        },
        description="Statuses that pause each clock (first_response: never)",
    )
    warn_at_percent: list[Annotated[int, Field(ge=1, le=99)]] = Field(
        default=[75], description="Warn at these % of the target"
    )
    warn_minutes_before: list[Annotated[int, Field(gt=0)]] = Field(
        default=[15], description="…and minutes before due"
    )
    active: bool = True

    def policy(self, policy_id: str) -> SlaPolicy:
        return SlaPolicy(
            id=policy_id,
            name=self.name,
            business_hours=self.business_hours,
            targets={
                p: {c: timedelta(minutes=m) for c, m in clocks.items()}
                for p, clocks in self.targets_minutes.items()
            },
            pauses={c: frozenset(s) for c, s in self.pauses.items()},
            warn_at_percent=tuple(self.warn_at_percent),
            warn_minutes_before=tuple(self.warn_minutes_before),
            active=self.active,
        )


class NewPolicyIn(PolicyIn):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class PolicyOut(BaseModel):
    id: str
    version: int
    name: str
    business_hours: bool
    targets_minutes: TargetsIn
    pauses: dict[SlaClock, list[CaseStatus]]
    warn_at_percent: list[int]
    warn_minutes_before: list[int]
    active: bool
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, policy: SlaPolicy) -> PolicyOut:
        return cls(
            id=policy.id,
            version=policy.version,
            name=policy.name,
            business_hours=policy.business_hours,
            targets_minutes={
                p: {c: t.total_seconds() / 60 for c, t in clocks.items()}
                for p, clocks in policy.targets.items()
            },
            pauses={c: sorted(s) for c, s in policy.pauses.items()},
            warn_at_percent=list(policy.warn_at_percent),
            warn_minutes_before=list(policy.warn_minutes_before),
            active=policy.active,
            changed_at=policy.changed_at,
            actor=policy.actor,
        )


class PauseReasonIO(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=100, pattern=r"\S")
    label: str = Field(min_length=1, max_length=300, pattern=r"\S")


class PauseReasonsIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[PauseReasonIO] = Field(min_length=1, description="At least one reason")


@router.get("/sla-policies", response_model=list[PolicyOut], summary="Every SLA policy (latest)")
async def list_policies(runtime: Runtime, _: Anyone) -> list[PolicyOut]:
    async with runtime.unit_of_work() as tx:
        policies = await sla.list_policies(PostgresUnitOfWork(tx))
    return [PolicyOut.of(p) for p in policies]


@router.get(
    "/sla-policies/{policy_id}",
    response_model=PolicyOut,
    summary="An SLA policy, its latest version or the one asked",
    responses={404: {"description": "Unknown policy or version"}},
)
async def get_policy(
    policy_id: str, runtime: Runtime, _: Anyone, version: Annotated[int | None, Query(ge=1)] = None
) -> PolicyOut:
    async with runtime.unit_of_work() as tx:
        policy = await sla.get_policy(PostgresUnitOfWork(tx), policy_id, version)
    return PolicyOut.of(policy)


@router.post(
    "/sla-policies",
    status_code=201,
    response_model=PolicyOut,
    summary="Create an SLA policy (version 1); emits sla_policy.changed",
    responses={409: {"description": "The id exists"}, 422: {"description": "A rule is broken"}},
)
async def create_policy(
    body: NewPolicyIn,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            stored = await sla.save_policy(
                PostgresUnitOfWork(tx),
                body.policy(body.id),
                datetime.now(UTC),
                actor_of(principal),
                create=True,
            )
            return idempotency.Answer(
                201,
                PolicyOut.of(stored).model_dump(mode="json"),
                {"Location": f"/sla-policies/{stored.id}"},
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.put(
    "/sla-policies/{policy_id}",
    response_model=PolicyOut,
    summary="Change an SLA policy: stores its next version; emits sla_policy.changed",
    responses={404: {"description": "Unknown policy"}, 422: {"description": "A rule is broken"}},
)
async def change_policy(
    policy_id: str, body: PolicyIn, runtime: Runtime, principal: Admin
) -> PolicyOut:
    async with runtime.unit_of_work() as tx:
        stored = await sla.save_policy(
            PostgresUnitOfWork(tx),
            body.policy(policy_id),
            datetime.now(UTC),
            actor_of(principal),
            create=False,
        )
    return PolicyOut.of(stored)


@router.get(
    "/sla-pause-reasons", response_model=list[PauseReasonIO], summary="Reasons a pause may name"
)
async def list_pause_reasons(runtime: Runtime, _: Anyone) -> list[PauseReasonIO]:
    async with runtime.unit_of_work() as tx:
        reasons = await sla.pause_reasons(PostgresUnitOfWork(tx))
    return [PauseReasonIO(code=r.code, label=r.label) for r in reasons]


@router.put(
    "/sla-pause-reasons",
    response_model=list[PauseReasonIO],
    summary="Replace the list of pause reasons (pauses already recorded keep theirs)",
)
async def set_pause_reasons(
    body: PauseReasonsIn, runtime: Runtime, _: Admin
) -> list[PauseReasonIO]:
    async with runtime.unit_of_work() as tx:
        reasons = await sla.set_pause_reasons(
            PostgresUnitOfWork(tx), [PauseReason(r.code, r.label) for r in body.reasons]
        )
    return [PauseReasonIO(code=r.code, label=r.label) for r in reasons]
