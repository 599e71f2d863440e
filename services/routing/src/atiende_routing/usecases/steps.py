"""The seven steps as the case's working record: each recorded with its author and time; step 1
meets the first-response clock and every step said to the customer meets the next-update one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from atiende_contracts import CaseStatus, SlaClock
from atiende_runtime.errors import Conflict

from ..domain import steps
from ..domain.steps import Step, StepRecord
from ..repository import UnitOfWork
from . import casework, sla


async def record_step(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    step: Step,
    text: str,
    now: datetime,
    *,
    options: Sequence[str] = (),
    chosen: str | None = None,
    confirmed: bool | None = None,
    commitment_id: uuid.UUID | None = None,
    actor: str | None = None,
    expected_version: int | None = None,
) -> tuple[StepRecord, int]:
    """Returns the record and the case's new version."""
    case = await casework.load(uow, case_id, expected_version)
    if case.status is CaseStatus.CLOSED:
        # verification (7a, 7b) happens after the resolution, but a closed case is finished
        raise Conflict(
            f"case {case.number} is closed: reopen it to record more steps",
            title="Case is closed",
            extensions={"current_status": case.status.value, "allowed_statuses": []},
        )
    done = [r.step for r in await uow.steps.of_case(case.id)]
    record = steps.record(
        case.id,
        step,
        text,
        author=actor,
        at=now,
        recorded=done,
        options=options,
        chosen=chosen,
        confirmed=confirmed,
        commitment_id=commitment_id,
    )
    await uow.steps.record(record)
    if step is Step.RESPECT:
        await sla.meet(uow, case.id, SlaClock.FIRST_RESPONSE, now)
    if step in steps.SAID_TO_CUSTOMER:
        await sla.meet(uow, case.id, SlaClock.NEXT_UPDATE, now)
    touched = await casework.with_due(uow, case.touched(), now)
    await uow.cases.save(touched)
    await casework.note(
        uow, case, now, "step", f"step {step.value} ({steps.LABELS[step]}): {record.text}", actor
    )
    return record, touched.version


async def steps_of(uow: UnitOfWork, case_id: uuid.UUID) -> list[StepRecord]:
    return await uow.steps.of_case(case_id)
