"""/cases/{id}: a case with its clocks, steps, commitments, escalations and timeline, and every
command an agent or supervisor gives on it. Commands take an optional If-Match (the case's ETag,
its version): a stale one answers 412; without it the write is unconditional."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from atiende_contracts import CaseStatus, Channel, EscalationReason, Rank, RootCauseCategory
from atiende_runtime.auth import Principal, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.errors import Invalid

from ...domain.cases import STATUS_COMMAND_TARGETS, RoutedCase
from ...domain.root_causes import RootCause
from ...domain.steps import Step, parse_step
from ...repository import UnitOfWork
from ...usecases import commitments, escalation, lifecycle
from ...usecases import steps as steps_usecases
from ...usecases.phrasebook import phrases_for_case
from .case_models import (
    CaseDetailOut,
    CommitmentOut,
    RoutedCaseOut,
    StepOut,
    expected_version,
    is_supervisor,
    run,
    tagged,
)
from .deps import CODE_PATTERN, CaseWorker, Runtime, actor_of

router = APIRouter(tags=["cases"])

Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]
IfMatch = Annotated[
    str | None,
    Header(description='The case\'s ETag (e.g. "7"); a stale one answers 412', alias="If-Match"),
]

COMMAND_ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown case"},
    409: {"description": "The case's status refuses it (names current and allowed statuses)"},
    412: {"description": "If-Match names an older version of the case"},
    422: {"description": "A field breaks a rule"},
}


class _Command(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RootCauseIn(_Command):
    category: RootCauseCategory = Field(
        description="isolated_incident, procedure_design_fault, policy_hurts_customers or"
        " needs_clearer_information"
    )
    procedure: str | None = Field(
        default=None,
        max_length=100,
        pattern=CODE_PATTERN,
        description="The procedure concerned (GET /procedures); required for"
        " procedure_design_fault",
    )
    policy: str | None = Field(
        default=None,
        max_length=100,
        pattern=CODE_PATTERN,
        description="The policy concerned (GET /policies); required for policy_hurts_customers",
    )
    note: str | None = Field(default=None, max_length=2000)

    def root_cause(self) -> RootCause:
        return RootCause(self.category, self.procedure, self.policy, self.note or None)


class ResolveCase(_Command):
    resolution: str = Field(default="resolved", min_length=1, max_length=2000)
    root_cause: RootCauseIn | None = Field(
        default=None, description="Why it failed: required for complaints and claims"
    )


class CloseCase(_Command):
    waiver: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"\S",
        description="A supervisor's reason to close without both verifications",
    )


class ReopenCase(_Command):
    reason: str = Field(min_length=1, max_length=2000)


class ClaimCase(_Command):
    agent_id: str | None = Field(
        default=None, description="Only when authentication is off: who claims (else the caller)"
    )


class AssignCase(_Command):
    agent_id: str = Field(min_length=1, max_length=64)


class TransferCase(_Command):
    team: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    agent_id: str | None = Field(default=None, max_length=64)


class ChangeStatus(_Command):
    status: Annotated[
        CaseStatus,
        WithJsonSchema({"type": "string", "enum": sorted(s.value for s in STATUS_COMMAND_TARGETS)}),
    ] = Field(description="Resolve, close and reopen have their own commands")
    reason: str | None = Field(default=None, max_length=100, description="A pause reason code")
    note: str | None = Field(default=None, max_length=2000)


class RecordStep(_Command):
    text: str = Field(min_length=1, max_length=4000)
    options: list[str] = Field(default_factory=list, max_length=20)
    chosen: str | None = None
    confirmed: bool | None = None
    commitment_id: uuid.UUID | None = None


class MakeCommitment(_Command):
    description: str = Field(min_length=1, max_length=1000)
    due_at: datetime
    owner_id: str | None = Field(default=None, max_length=64)
    to_whom: str | None = Field(default=None, max_length=200)
    channel: Channel | None = None


class Escalate(_Command):
    level: Rank | None = Field(default=None, description="A higher rank; default one rung up")
    upset: bool = Field(default=False, description="The agent marks the customer upset")
    note: str | None = Field(default=None, max_length=2000)


class Deescalate(_Command):
    reason: str = Field(min_length=1, max_length=2000)
    level: Rank | None = None


class PhraseOut(BaseModel):
    language: str
    register_: str = Field(serialization_alias="register")
    text: str


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetailOut,
    summary="A case: routing state, clocks, steps, commitments, escalations, timeline",
    responses={404: {"description": "Unknown case"}},
)
async def get_case(
    case_id: uuid.UUID, runtime: Runtime, _: CaseWorker, response: Response
) -> CaseDetailOut:
    async def work(uow: UnitOfWork) -> lifecycle.CaseView:
        return await lifecycle.view_case(uow, case_id, _now())

    view = await run(runtime, case_id, work)
    tagged(response, view.case.version)
    return CaseDetailOut.of_view(view)


async def _case_command(
    runtime: Runtime,
    case_id: uuid.UUID,
    response: Response,
    work: Callable[[UnitOfWork], Awaitable[RoutedCase]],
) -> RoutedCaseOut:
    case = await run(runtime, case_id, work)
    tagged(response, case.version)
    return RoutedCaseOut.of(case)


@router.post(
    "/cases/{case_id}/claim",
    response_model=RoutedCaseOut,
    summary="Take the case for yourself; emits case.assigned",
    responses=COMMAND_ERRORS,
)
async def claim(
    case_id: uuid.UUID,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
    body: ClaimCase | None = None,
) -> RoutedCaseOut:
    agent_id = actor_of(principal) or (body.agent_id if body else None)
    if not agent_id:
        raise Invalid.field("agent_id", "required", "who claims the case")
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.claim(uow, case_id, agent_id, _now(), expected_version=version)

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/assign",
    response_model=RoutedCaseOut,
    summary="Give the case to an agent of its team (supervisor); emits case.assigned",
    responses=COMMAND_ERRORS,
)
async def assign(
    case_id: uuid.UUID,
    body: AssignCase,
    runtime: Runtime,
    principal: Supervisor,
    response: Response,
    if_match: IfMatch = None,
) -> RoutedCaseOut:
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.assign(
            uow, case_id, body.agent_id, _now(), actor=actor_of(principal), expected_version=version
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/transfer",
    response_model=RoutedCaseOut,
    summary="Move the case to another team (and agent) with a reason; clocks keep running",
    responses=COMMAND_ERRORS,
)
async def transfer(
    case_id: uuid.UUID,
    body: TransferCase,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> RoutedCaseOut:
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.transfer(
            uow,
            case_id,
            body.team,
            body.reason,
            _now(),
            agent_id=body.agent_id,
            actor=actor_of(principal),
            expected_version=version,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/status",
    response_model=RoutedCaseOut,
    summary="Start, pause (waiting, with a reason and a note) or resume work; emits case.status_changed",
    responses=COMMAND_ERRORS,
)
async def change_status(
    case_id: uuid.UUID,
    body: ChangeStatus,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> RoutedCaseOut:
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.change_status(
            uow,
            case_id,
            body.status,
            _now(),
            reason=body.reason,
            note=body.note,
            actor=actor_of(principal),
            expected_version=version,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/steps/{step}",
    response_model=StepOut,
    summary="Record one of the seven steps (1, 2, 3, 4, 5, 6, 7a, 7b)",
    responses=COMMAND_ERRORS,
)
async def record_step(
    case_id: uuid.UUID,
    step: Annotated[str, Path(json_schema_extra={"enum": [s.value for s in Step]})],
    body: RecordStep,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> StepOut:
    which = parse_step(step)
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> tuple[StepOut, int]:
        record, new_version = await steps_usecases.record_step(
            uow,
            case_id,
            which,
            body.text,
            _now(),
            options=body.options,
            chosen=body.chosen,
            confirmed=body.confirmed,
            commitment_id=body.commitment_id,
            actor=actor_of(principal),
            expected_version=version,
        )
        return StepOut.of(record), new_version

    out, new_version = await run(runtime, case_id, work)
    tagged(response, new_version)
    return out


@router.post(
    "/cases/{case_id}/commitments",
    response_model=CommitmentOut,
    status_code=201,
    summary="Promise the customer something by a time; emits commitment.made",
    responses=COMMAND_ERRORS,
)
async def make_commitment(
    case_id: uuid.UUID,
    body: MakeCommitment,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> CommitmentOut:
    version = expected_version(if_match)
    lead = timedelta(minutes=runtime.settings.commitment_reminder_minutes)

    async def work(uow: UnitOfWork) -> tuple[CommitmentOut, int]:
        made, new_version = await commitments.make(
            uow,
            case_id,
            description=body.description,
            due_at=body.due_at,
            now=_now(),
            lead=lead,
            owner_id=body.owner_id,
            to_whom=body.to_whom,
            channel=body.channel,
            actor=actor_of(principal),
            expected_version=version,
        )
        return CommitmentOut.of(made), new_version

    out, new_version = await run(runtime, case_id, work)
    tagged(response, new_version)
    response.headers["Location"] = f"/cases/{case_id}/commitments/{out.id}"
    return out


@router.post(
    "/cases/{case_id}/commitments/{commitment_id}/kept",
    response_model=CommitmentOut,
    summary="The promise was kept; emits commitment.kept",
    responses=COMMAND_ERRORS,
)
async def keep_commitment(
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> CommitmentOut:
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> tuple[CommitmentOut, int]:
        kept, new_version = await commitments.keep(
            uow,
            case_id,
            commitment_id,
            _now(),
            actor=actor_of(principal),
            expected_version=version,
        )
        return CommitmentOut.of(kept), new_version

    out, new_version = await run(runtime, case_id, work)
    tagged(response, new_version)
    return out


@router.post(
    "/cases/{case_id}/escalate",
    response_model=RoutedCaseOut,
    summary="Call in a higher rank (or mark the customer upset); emits case.escalated",
    responses=COMMAND_ERRORS,
)
async def escalate(
    case_id: uuid.UUID,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
    body: Escalate | None = None,
) -> RoutedCaseOut:
    command = body or Escalate()
    version = expected_version(if_match)
    reason = EscalationReason.CUSTOMER_UPSET if command.upset else EscalationReason.MANUAL

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await escalation.escalate(
            uow,
            case_id,
            reason,
            _now(),
            level=command.level,
            note=command.note,
            actor=actor_of(principal),
            expected_version=version,
            mark_upset=command.upset,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/deescalate",
    response_model=RoutedCaseOut,
    summary="Bring the case down the ladder with a reason (supervisor); emits case.deescalated",
    responses={**COMMAND_ERRORS, 403: {"description": "Only a supervisor may"}},
)
async def deescalate(
    case_id: uuid.UUID,
    body: Deescalate,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> RoutedCaseOut:
    version = expected_version(if_match)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await escalation.deescalate(
            uow,
            case_id,
            body.reason,
            _now(),
            supervisor=is_supervisor(principal),
            level=body.level,
            actor=actor_of(principal),
            expected_version=version,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/resolve",
    response_model=RoutedCaseOut,
    summary="Resolve a case (complaints and claims: after steps 3-6, with a root cause); emits"
    " case.resolved, and problem.detected, problem.case_linked or procedure.review_requested"
    " when the root cause passes a threshold",
    responses={
        **COMMAND_ERRORS,
        409: {"description": "Already resolved, or a step is missing"},
        422: {"description": "No root cause for a complaint or claim, or it names nothing known"},
    },
)
async def resolve_case(
    case_id: uuid.UUID,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
    body: ResolveCase | None = None,
) -> RoutedCaseOut:
    command = body or ResolveCase()
    version = expected_version(if_match)
    rules = lifecycle.Rules.of(runtime.settings)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.resolve_case(
            uow,
            case_id,
            command.resolution,
            _now(),
            root_cause=command.root_cause.root_cause() if command.root_cause else None,
            actor=actor_of(principal),
            expected_version=version,
            rules=rules,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/close",
    response_model=RoutedCaseOut,
    summary="Close a resolved case (complaints and claims: after 7a and 7b, or a supervisor's waiver)",
    responses={**COMMAND_ERRORS, 403: {"description": "Only a supervisor may waive"}},
)
async def close_case(
    case_id: uuid.UUID,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
    body: CloseCase | None = None,
) -> RoutedCaseOut:
    command = body or CloseCase()
    version = expected_version(if_match)
    rules = lifecycle.Rules.of(runtime.settings)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.close_case(
            uow,
            case_id,
            _now(),
            waiver=command.waiver,
            supervisor=is_supervisor(principal),
            actor=actor_of(principal),
            expected_version=version,
            rules=rules,
        )

    return await _case_command(runtime, case_id, response, work)


@router.post(
    "/cases/{case_id}/reopen",
    response_model=RoutedCaseOut,
    summary="Reopen a resolved or closed case within the reopen window; emits case.reopened",
    responses=COMMAND_ERRORS,
)
async def reopen_case(
    case_id: uuid.UUID,
    body: ReopenCase,
    runtime: Runtime,
    principal: CaseWorker,
    response: Response,
    if_match: IfMatch = None,
) -> RoutedCaseOut:
    version = expected_version(if_match)
    rules = lifecycle.Rules.of(runtime.settings)

    async def work(uow: UnitOfWork) -> RoutedCase:
        return await lifecycle.reopen_case(
            uow,
            case_id,
            body.reason,
            _now(),
            actor=actor_of(principal),
            expected_version=version,
            rules=rules,
        )

    return await _case_command(runtime, case_id, response, work)


@router.get(
    "/cases/{case_id}/phrases",
    response_model=list[PhraseOut],
    summary="Calming phrases for step 1 in the customer's language and register",
    responses={404: {"description": "Unknown case"}},
)
async def case_phrases(case_id: uuid.UUID, runtime: Runtime, _: CaseWorker) -> list[PhraseOut]:
    async def work(uow: UnitOfWork) -> list[PhraseOut]:
        return [
            PhraseOut(language=p.language, register_=p.register.value, text=p.text)
            for p in await phrases_for_case(uow, case_id)
        ]

    return await run(runtime, case_id, work)
