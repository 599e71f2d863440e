"""Procedures (versioned; one active per motive and channel), policies, the procedure in force
for a case, the check that a root cause names a procedure or policy that exists, and the review
requested when root causes blame one of them too often."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from atiende_contracts import ProcedureReviewRequested
from atiende_runtime.errors import Conflict, FieldError, Invalid

from ..domain.errors import AlreadyExists
from ..domain.procedures import (
    NoProcedureInForce,
    Policy,
    PolicyNotFound,
    Procedure,
    ProcedureNotFound,
    ProcedureText,
    ReviewThreshold,
    in_force,
)
from ..domain.root_causes import RootCause
from ..repository import UnitOfWork
from . import casework

# --- procedures ------------------------------------------------------------------------------------


async def _one_active_per_key(uow: UnitOfWork, procedure: Procedure) -> None:
    if not procedure.active:
        return
    for other in await uow.procedures.current(procedure.motive):
        if other.code != procedure.code and other.active and other.key == procedure.key:
            channel = f" on channel {procedure.channel}" if procedure.channel else ""
            raise Conflict(
                f"procedure {other.code!r} is already in force for motive"
                f" {procedure.motive!r}{channel}: change or deactivate it instead",
                title="Procedure already in force",
                extensions={"procedure": other.code},
            )


async def create_procedure(
    uow: UnitOfWork,
    code: str,
    motive: str,
    channel: str | None,
    texts: Mapping[str, ProcedureText],
    now: datetime,
    actor: str | None,
) -> Procedure:
    await uow.procedures.lock()
    if await uow.procedures.latest(code) is not None:
        raise AlreadyExists("procedure", code)
    procedure = Procedure(code, 1, motive, texts, channel, True, now, actor)
    await _one_active_per_key(uow, procedure)
    await uow.procedures.add_version(procedure)
    return procedure


async def change_procedure(
    uow: UnitOfWork,
    code: str,
    motive: str,
    channel: str | None,
    texts: Mapping[str, ProcedureText],
    active: bool,
    now: datetime,
    actor: str | None,
) -> Procedure:
    """A new version (the earlier ones stay, for the history)."""
    await uow.procedures.lock()
    latest = await get_procedure(uow, code)
    procedure = Procedure(code, latest.version + 1, motive, texts, channel, active, now, actor)
    await _one_active_per_key(uow, procedure)
    await uow.procedures.add_version(procedure)
    return procedure


async def deactivate_procedure(
    uow: UnitOfWork, code: str, now: datetime, actor: str | None
) -> Procedure:
    """Never deleted: a new version that is not in force."""
    await uow.procedures.lock()
    latest = await get_procedure(uow, code)
    procedure = replace(
        latest, version=latest.version + 1, active=False, changed_at=now, actor=actor
    )
    await uow.procedures.add_version(procedure)
    return procedure


async def get_procedure(uow: UnitOfWork, code: str, version: int | None = None) -> Procedure:
    found = (
        await uow.procedures.version(code, version)
        if version is not None
        else await uow.procedures.latest(code)
    )
    if found is None:
        raise ProcedureNotFound(code, version)
    return found


async def procedure_history(uow: UnitOfWork, code: str) -> list[Procedure]:
    history = await uow.procedures.history(code)
    if not history:
        raise ProcedureNotFound(code)
    return history


async def list_procedures(uow: UnitOfWork, motive: str | None = None) -> list[Procedure]:
    return await uow.procedures.current(motive)


@dataclass(frozen=True)
class CaseProcedure:
    procedure: Procedure
    language: str
    text: ProcedureText


async def procedure_for_case(uow: UnitOfWork, case_id: uuid.UUID) -> CaseProcedure:
    """The procedure in force for the case (its motive and channel first, then its motive), in
    the customer's language when it is written in it."""
    case = await casework.get(uow, case_id)
    procedure = in_force(
        await uow.procedures.current(case.motive) if case.motive else [],
        case.motive,
        case.channel,
    )
    if procedure is None:
        raise NoProcedureInForce(case.number, case.motive)
    language, text = procedure.text_for(case.language)
    return CaseProcedure(procedure, language, text)


# --- policies ------------------------------------------------------------------------------------


async def list_policies(uow: UnitOfWork) -> list[Policy]:
    return await uow.procedures.policies()


async def get_policy(uow: UnitOfWork, code: str) -> Policy:
    policy = await uow.procedures.get_policy(code)
    if policy is None:
        raise PolicyNotFound(code)
    return policy


async def save_policy(
    uow: UnitOfWork, policy: Policy, now: datetime, actor: str | None, *, create: bool
) -> Policy:
    stored = replace(policy, changed_at=now, actor=actor)
    if create:
        if not await uow.procedures.add_policy(stored):
            raise AlreadyExists("policy", policy.code)
        return stored
    await get_policy(uow, policy.code)
    await uow.procedures.save_policy(stored)
    return stored


async def deactivate_policy(uow: UnitOfWork, code: str, now: datetime, actor: str | None) -> Policy:
    """Never deleted (resolved cases name it): no longer offered to new root causes."""
    policy = await get_policy(uow, code)
    return await save_policy(uow, replace(policy, active=False), now, actor, create=False)


# --- root causes and reviews ---------------------------------------------------------------------


async def check_named(uow: UnitOfWork, root_cause: RootCause) -> None:
    """The procedure and policy a root cause names are in the managed lists and active."""
    errors: list[FieldError] = []
    if root_cause.procedure is not None:
        procedure = await uow.procedures.latest(root_cause.procedure)
        if procedure is None or not procedure.active:
            errors.append(
                FieldError(
                    "root_cause.procedure",
                    "managed_list",
                    f"no active procedure {root_cause.procedure!r} (GET /procedures lists them)",
                )
            )
    if root_cause.policy is not None:
        policy = await uow.procedures.get_policy(root_cause.policy)
        if policy is None or not policy.active:
            errors.append(
                FieldError(
                    "root_cause.policy",
                    "managed_list",
                    f"no active policy {root_cause.policy!r} (GET /policies lists them)",
                )
            )
    if errors:
        raise Invalid(errors)


async def review_threshold(uow: UnitOfWork) -> ReviewThreshold:
    return await uow.procedures.review_threshold()


async def set_review_threshold(
    uow: UnitOfWork, threshold: ReviewThreshold, now: datetime, actor: str | None
) -> ReviewThreshold:
    await uow.procedures.set_review_threshold(threshold, now, actor)
    return threshold


async def _title(uow: UnitOfWork, kind: str, code: str) -> str:
    if kind == "procedure":
        procedure = await uow.procedures.latest(code)
        return procedure.text_for(None)[1].title if procedure else code
    policy = await uow.procedures.get_policy(code)
    return policy.title if policy else code


async def on_resolved(
    uow: UnitOfWork, kind: str, code: str, now: datetime
) -> ProcedureReviewRequested | None:
    """After a resolution whose root cause blames a procedure or policy (same transaction): a
    review is requested once the blaming cases within the window reach the threshold, once per
    window."""
    await uow.procedures.lock_subject(kind, code)
    threshold = await uow.procedures.review_threshold()
    blaming = await uow.procedures.blaming(kind, code, now - threshold.window)
    last = await uow.procedures.last_review(kind, code)
    if not threshold.due(len(blaming), last, now):
        return None
    case_ids = [c.id for c in blaming]
    await uow.procedures.add_review(kind, code, case_ids, now)
    requested = ProcedureReviewRequested(
        subject_kind=kind,
        code=code,
        title=await _title(uow, kind, code),
        case_ids=case_ids,
        window_hours=threshold.window.total_seconds() / 3600,
        requested_at=now,
    )
    await uow.emit(requested, subject=f"{kind}:{code}")
    return requested
