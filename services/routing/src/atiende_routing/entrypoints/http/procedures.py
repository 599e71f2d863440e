"""/procedures: per motive (and optionally channel), the steps an agent follows, written for the
customer in each language; versioned, deactivated never deleted (admin changes them, everyone
reads them). /cases/{id}/procedure: the one in force for a case. /policies: the managed list of
policies a root cause may blame. /procedure-review-threshold: when blame requests a review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from atiende_contracts import Channel
from atiende_runtime import idempotency
from atiende_runtime.bodies import RequestModel
from atiende_runtime.languages import Language
from atiende_runtime.params import NOT_BLANK

from ...domain.procedures import Policy, Procedure, ProcedureText, ReviewThreshold
from ...repository import PostgresUnitOfWork
from ...usecases import procedures
from .deps import CODE_PATTERN, Admin, Anyone, CaseWorker, Runtime, actor_of

router = APIRouter(tags=["procedures"])


def _now() -> datetime:
    return datetime.now(UTC)


class ProcedureTextIO(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    steps: list[Annotated[str, Field(min_length=1, max_length=2000, pattern=NOT_BLANK)]] = Field(
        min_length=1, max_length=50, description="In order, in words the customer understands"
    )


class ProcedureIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    motive: str = Field(
        min_length=1, max_length=100, pattern=NOT_BLANK, description="A motive of the catalogue"
    )
    channel: Channel | None = Field(default=None, description="Only for this channel; null: any")
    texts: dict[Language, ProcedureTextIO] = Field(
        min_length=1, description="Per language (es, en): title and steps"
    )

    def parsed_texts(self) -> dict[str, ProcedureText]:
        return {
            lang.value: ProcedureText(t.title, tuple(t.steps)) for lang, t in self.texts.items()
        }


class ChangeProcedureIn(ProcedureIn):
    active: bool = True


class NewProcedureIn(ProcedureIn):
    code: str = Field(min_length=1, max_length=100, pattern=CODE_PATTERN)


class ProcedureOut(BaseModel):
    code: str
    version: int
    motive: str
    channel: str | None
    texts: dict[str, ProcedureTextIO]
    active: bool
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, p: Procedure) -> ProcedureOut:
        return cls(
            code=p.code,
            version=p.version,
            motive=p.motive,
            channel=p.channel,
            texts={
                lang: ProcedureTextIO(title=t.title, steps=list(t.steps))
                for lang, t in p.texts.items()
            },
            active=p.active,
            changed_at=p.changed_at,
            actor=p.actor,
        )


class CaseProcedureOut(BaseModel):
    code: str
    version: int
    motive: str
    channel: str | None = Field(description="Set when the procedure is for the case's channel")
    language: str = Field(description="The customer's language when it is written in it")
    title: str
    steps: list[str]


@router.get(
    "/procedures", response_model=list[ProcedureOut], summary="Procedures (latest versions)"
)
async def list_procedures(
    runtime: Runtime, _: Anyone, motive: Annotated[str | None, Query(max_length=100)] = None
) -> list[ProcedureOut]:
    async with runtime.unit_of_work() as tx:
        found = await procedures.list_procedures(PostgresUnitOfWork(tx), motive)
    return [ProcedureOut.of(p) for p in found]


@router.get(
    "/procedures/{code}",
    response_model=ProcedureOut,
    summary="A procedure, its latest version or the one asked",
    responses={404: {"description": "Unknown procedure or version"}},
)
async def get_procedure(
    code: str, runtime: Runtime, _: Anyone, version: Annotated[int | None, Query(ge=1)] = None
) -> ProcedureOut:
    async with runtime.unit_of_work() as tx:
        found = await procedures.get_procedure(PostgresUnitOfWork(tx), code, version)
    return ProcedureOut.of(found)


@router.get(
    "/procedures/{code}/history",
    response_model=list[ProcedureOut],
    summary="Every version of a procedure, oldest first",
    responses={404: {"description": "Unknown procedure"}},
)
async def procedure_history(code: str, runtime: Runtime, _: Anyone) -> list[ProcedureOut]:
    async with runtime.unit_of_work() as tx:
        found = await procedures.procedure_history(PostgresUnitOfWork(tx), code)
    return [ProcedureOut.of(p) for p in found]


@router.post(
    "/procedures",
    status_code=201,
    response_model=ProcedureOut,
    summary="Create a procedure (version 1)",
    responses={
        409: {"description": "The code exists, or another is in force for the motive and channel"},
        422: {"description": "A rule is broken"},
    },
)
async def create_procedure(
    body: NewProcedureIn,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            stored = await procedures.create_procedure(
                PostgresUnitOfWork(tx),
                body.code,
                body.motive,
                body.channel.value if body.channel else None,
                body.parsed_texts(),
                _now(),
                actor_of(principal),
            )
            return idempotency.Answer(
                201,
                ProcedureOut.of(stored).model_dump(mode="json"),
                {"Location": f"/procedures/{stored.code}"},
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.put(
    "/procedures/{code}",
    response_model=ProcedureOut,
    summary="Change a procedure: stores its next version",
    responses={
        404: {"description": "Unknown procedure"},
        409: {"description": "Another is in force for the motive and channel"},
        422: {"description": "A rule is broken"},
    },
)
async def change_procedure(
    code: str, body: ChangeProcedureIn, runtime: Runtime, principal: Admin
) -> ProcedureOut:
    async with runtime.unit_of_work() as tx:
        stored = await procedures.change_procedure(
            PostgresUnitOfWork(tx),
            code,
            body.motive,
            body.channel.value if body.channel else None,
            body.parsed_texts(),
            body.active,
            _now(),
            actor_of(principal),
        )
    return ProcedureOut.of(stored)


@router.delete(
    "/procedures/{code}",
    response_model=ProcedureOut,
    summary="Deactivate a procedure (a new version, never a deletion)",
    responses={404: {"description": "Unknown procedure"}},
)
async def deactivate_procedure(code: str, runtime: Runtime, principal: Admin) -> ProcedureOut:
    async with runtime.unit_of_work() as tx:
        stored = await procedures.deactivate_procedure(
            PostgresUnitOfWork(tx), code, _now(), actor_of(principal)
        )
    return ProcedureOut.of(stored)


@router.get(
    "/cases/{case_id}/procedure",
    response_model=CaseProcedureOut,
    summary="The procedure in force for a case: its motive and channel, else its motive",
    responses={404: {"description": "Unknown case, or no procedure covers it"}},
)
async def case_procedure(case_id: uuid.UUID, runtime: Runtime, _: CaseWorker) -> CaseProcedureOut:
    async with runtime.unit_of_work() as tx:
        found = await procedures.procedure_for_case(PostgresUnitOfWork(tx), case_id)
    return CaseProcedureOut(
        code=found.procedure.code,
        version=found.procedure.version,
        motive=found.procedure.motive,
        channel=found.procedure.channel,
        language=found.language,
        title=found.text.title,
        steps=list(found.text.steps),
    )


# --- policies ---------------------------------------------------------------------------------------


class PolicyIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=4000)
    active: bool = True

    def policy(self, code: str) -> Policy:
        return Policy(code, self.title, self.description or None, self.active)


class NewPolicyIn(PolicyIn):
    code: str = Field(min_length=1, max_length=100, pattern=CODE_PATTERN)


class PolicyOut(BaseModel):
    code: str
    title: str
    description: str | None
    active: bool
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, p: Policy) -> PolicyOut:
        return cls(**p.__dict__)


@router.get(
    "/policies", response_model=list[PolicyOut], summary="The policies a root cause may name"
)
async def list_policies(runtime: Runtime, _: Anyone) -> list[PolicyOut]:
    async with runtime.unit_of_work() as tx:
        found = await procedures.list_policies(PostgresUnitOfWork(tx))
    return [PolicyOut.of(p) for p in found]


@router.get(
    "/policies/{code}",
    response_model=PolicyOut,
    summary="A policy",
    responses={404: {"description": "Unknown policy"}},
)
async def get_policy(code: str, runtime: Runtime, _: Anyone) -> PolicyOut:
    async with runtime.unit_of_work() as tx:
        found = await procedures.get_policy(PostgresUnitOfWork(tx), code)
    return PolicyOut.of(found)


@router.post(
    "/policies",
    status_code=201,
    response_model=PolicyOut,
    summary="Add a policy to the managed list",
    responses={409: {"description": "The code exists"}, 422: {"description": "A rule is broken"}},
)
async def create_policy(
    body: NewPolicyIn,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            stored = await procedures.save_policy(
                PostgresUnitOfWork(tx),
                body.policy(body.code),
                _now(),
                actor_of(principal),
                create=True,
            )
            return idempotency.Answer(
                201,
                PolicyOut.of(stored).model_dump(mode="json"),
                {"Location": f"/policies/{stored.code}"},
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.put(
    "/policies/{code}",
    response_model=PolicyOut,
    summary="Change a policy",
    responses={404: {"description": "Unknown policy"}, 422: {"description": "A rule is broken"}},
)
async def change_policy(code: str, body: PolicyIn, runtime: Runtime, principal: Admin) -> PolicyOut:
    async with runtime.unit_of_work() as tx:
        stored = await procedures.save_policy(
            PostgresUnitOfWork(tx), body.policy(code), _now(), actor_of(principal), create=False
        )
    return PolicyOut.of(stored)


@router.delete(
    "/policies/{code}",
    response_model=PolicyOut,
    summary="Deactivate a policy (never deleted: resolved cases name it)",
    responses={404: {"description": "Unknown policy"}},
)
async def deactivate_policy(code: str, runtime: Runtime, principal: Admin) -> PolicyOut:
    async with runtime.unit_of_work() as tx:
        stored = await procedures.deactivate_policy(
            PostgresUnitOfWork(tx), code, _now(), actor_of(principal)
        )
    return PolicyOut.of(stored)


# --- the review threshold ---------------------------------------------------------------------------


class ReviewThresholdIO(RequestModel):
    model_config = ConfigDict(extra="forbid")

    cases: int = Field(ge=1, le=100_000, description="Root causes blaming one procedure or policy")
    window_hours: float = Field(
        ge=1 / 60, le=24 * 366, description="…within this many hours (at least a minute)"
    )


@router.get(
    "/procedure-review-threshold",
    response_model=ReviewThresholdIO,
    summary="When blame requests a review of a procedure or policy",
)
async def get_review_threshold(runtime: Runtime, _: Anyone) -> ReviewThresholdIO:
    async with runtime.unit_of_work() as tx:
        found = await procedures.review_threshold(PostgresUnitOfWork(tx))
    return ReviewThresholdIO(cases=found.cases, window_hours=found.window.total_seconds() / 3600)


@router.put(
    "/procedure-review-threshold",
    response_model=ReviewThresholdIO,
    summary="Change when blame requests a review of a procedure or policy",
)
async def set_review_threshold(
    body: ReviewThresholdIO, runtime: Runtime, principal: Admin
) -> ReviewThresholdIO:
    threshold = ReviewThreshold(cases=body.cases, window=timedelta(hours=body.window_hours))
    async with runtime.unit_of_work() as tx:
        await procedures.set_review_threshold(
            PostgresUnitOfWork(tx), threshold, _now(), actor_of(principal)
        )
    return body
