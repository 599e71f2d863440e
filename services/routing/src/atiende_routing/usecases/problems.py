"""Problems: detected at resolution from the managed thresholds (in the resolution's own
transaction), joined by every later matching case (a new case of the problem's motive and zone
when it opens; a case resolved with its motive and root cause), linked and unlinked by hand,
owned, marked known error with a workaround, and resolved — telling every linked open case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from atiende_contracts import ProblemCaseLinked, ProblemLinkReason
from atiende_runtime.errors import Conflict, NotFound

from ..domain.cases import RoutedCase
from ..domain.errors import AlreadyExists, CaseNotFound
from ..domain.problems import (
    Magnitude,
    Problem,
    ProblemNotFound,
    ProblemStatus,
    Threshold,
    ThresholdNotFound,
    Trigger,
)
from ..repository import UnitOfWork
from ..repository.problems import LinkedCase
from . import casework

# --- thresholds (admin) -----------------------------------------------------------------------


async def thresholds(uow: UnitOfWork) -> list[Threshold]:
    return await uow.problems.thresholds()


async def get_threshold(uow: UnitOfWork, threshold_id: str) -> Threshold:
    threshold = await uow.problems.get_threshold(threshold_id)
    if threshold is None:
        raise ThresholdNotFound(threshold_id)
    return threshold


async def save_threshold(
    uow: UnitOfWork, threshold: Threshold, now: datetime, actor: str | None, *, create: bool
) -> Threshold:
    stored = replace(threshold, changed_at=now, actor=actor)
    if create:
        if not await uow.problems.add_threshold(stored):
            raise AlreadyExists("problem threshold", threshold.id)
        return stored
    await get_threshold(uow, threshold.id)
    await uow.problems.save_threshold(stored)
    return stored


async def deactivate_threshold(
    uow: UnitOfWork, threshold_id: str, now: datetime, actor: str | None
) -> Threshold:
    """Thresholds are never deleted (problems point at them): a deactivated one detects nothing."""
    threshold = await get_threshold(uow, threshold_id)
    stored = replace(threshold, active=False, changed_at=now, actor=actor)
    await uow.problems.save_threshold(stored)
    return stored


# --- detection and automatic links ------------------------------------------------------------


async def _link(
    uow: UnitOfWork,
    problem: Problem,
    case: RoutedCase,
    reason: ProblemLinkReason,
    now: datetime,
    actor: str | None,
) -> bool:
    if not await uow.problems.link(problem.id, case.id, reason, now, actor):
        return False
    await casework.note(
        uow, case, now, "problem", f"linked to problem {problem.number}: {problem.title}", actor
    )
    if reason is not ProblemLinkReason.DETECTED:  # problem.detected lists those
        await uow.emit(
            ProblemCaseLinked(
                problem_id=problem.id,
                problem_number=problem.number,
                case_id=case.id,
                case_number=case.number,
                customer_id=case.customer_id,
                reason=reason,
                actor=actor,
                linked_at=now,
            ),
            subject=problem.id,
        )
    return True


async def _detect(uow: UnitOfWork, threshold: Threshold, now: datetime) -> Problem | None:
    """A problem for the threshold when its matching cases are too many (the caller holds the
    threshold's lock). Cases resolved before its last problem was resolved count no more."""
    after = now - threshold.window
    last = await uow.problems.last_resolved_at(threshold.id)
    if last is not None and last > after:
        after = last
    window = await uow.problems.matching_cases(threshold, after)
    before = 0
    if threshold.trigger is Trigger.BASELINE:
        start, end = threshold.baseline_span()
        before = await uow.problems.count_matching(threshold, now - start, now - end)
    if not threshold.exceeded(len(window), before):
        return None
    problem, detected = Problem.detected(threshold, await uow.problems.next_number(), window, now)
    await uow.problems.add(problem)
    for case in window:
        await _link(uow, problem, case, ProblemLinkReason.DETECTED, now, None)
    await uow.emit(detected, subject=problem.id)
    return problem


async def on_resolved(uow: UnitOfWork, case: RoutedCase, now: datetime) -> list[Problem]:
    """After a resolution with a root cause (same transaction): for each active threshold the
    case matches, link it to the threshold's unresolved problem, or open one if the count is now
    too high. Returns the problems the case was linked to."""
    if case.root_cause is None or case.motive is None:
        return []
    found: list[Problem] = []
    for threshold in await uow.problems.thresholds_for(case.motive, case.root_cause):
        if not threshold.matches(case):
            continue
        # two resolutions racing would each count the other's case as missing: one at a time
        await uow.problems.lock_threshold(threshold.id)
        problem = await uow.problems.unresolved_of(threshold.id)
        if problem is not None:
            await _link(uow, problem, case, ProblemLinkReason.AUTOMATIC, now, None)
            found.append(problem)
            continue
        detected = await _detect(uow, threshold, now)
        if detected is not None:
            found.append(detected)
    return found


async def on_opened(uow: UnitOfWork, case: RoutedCase, now: datetime) -> list[Problem]:
    """A new case of an unresolved problem's motive (and touchpoint, product, region where the
    problem names them) joins it: its agent sees the problem and its workaround, and its
    customer hears when the problem is resolved."""
    if case.motive is None:
        return []
    # a problem another transaction is opening is not visible yet: wait for the detections of
    # the motive's thresholds (in id order, as resolutions take them) so the case joins it
    unresolved = await uow.problems.unresolved_after_detections(case.motive)
    found = [p for p in unresolved if p.covers(case)]
    for problem in found:
        await _link(uow, problem, case, ProblemLinkReason.AUTOMATIC, now, None)
    return found


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemView:
    problem: Problem
    magnitude: Magnitude
    cases: list[LinkedCase]


async def get_problem(
    uow: UnitOfWork, problem_id: uuid.UUID, *, for_update: bool = False
) -> Problem:
    problem = await uow.problems.get(problem_id, for_update=for_update)
    if problem is None:
        raise ProblemNotFound(problem_id)
    return problem


async def view_problem(uow: UnitOfWork, problem_id: uuid.UUID) -> ProblemView:
    problem = await get_problem(uow, problem_id)
    return ProblemView(
        problem,
        await uow.problems.magnitude(problem.id),
        await uow.problems.linked(problem.id),
    )


async def list_problems(
    uow: UnitOfWork, status: ProblemStatus | None, limit: int = 100
) -> list[Problem]:
    return await uow.problems.search(status, limit)


async def problems_of_case(uow: UnitOfWork, case_id: uuid.UUID) -> list[Problem]:
    await casework.get(uow, case_id)
    return await uow.problems.of_case(case_id)


# --- by hand ------------------------------------------------------------------------------------


def _unresolved(problem: Problem, action: str) -> None:
    if problem.is_resolved:
        raise Conflict(
            f"problem {problem.number} is resolved: cases are no longer {action}",
            title="Problem is resolved",
            extensions={"current_status": problem.status.value},
        )


async def link_case(
    uow: UnitOfWork, problem_id: uuid.UUID, case_id: uuid.UUID, now: datetime, actor: str | None
) -> LinkedCase:
    problem = await get_problem(uow, problem_id, for_update=True)
    _unresolved(problem, "linked")
    case = await uow.cases.get(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if not await _link(uow, problem, case, ProblemLinkReason.MANUAL, now, actor):
        raise Conflict(
            f"case {case.number} is already linked to problem {problem.number}",
            title="Case already linked",
        )
    return LinkedCase(case, ProblemLinkReason.MANUAL, now, actor)


async def unlink_case(
    uow: UnitOfWork, problem_id: uuid.UUID, case_id: uuid.UUID, now: datetime, actor: str | None
) -> None:
    problem = await get_problem(uow, problem_id, for_update=True)
    _unresolved(problem, "unlinked")
    case = await uow.cases.get(case_id)
    if case is None or not await uow.problems.unlink(problem.id, case_id):
        raise NotFound(
            f"case {case_id} is not linked to problem {problem.number}", title="Case not linked"
        )
    await casework.note(uow, case, now, "problem", f"unlinked from problem {problem.number}", actor)


async def change(
    uow: UnitOfWork,
    problem_id: uuid.UUID,
    *,
    owner: str | None = None,
    change_owner: bool = False,
    title: str | None = None,
) -> Problem:
    problem = await get_problem(uow, problem_id, for_update=True)
    problem = problem.changed(owner=owner, title=title, change_owner=change_owner)
    await uow.problems.save(problem)
    return problem


async def known_error(
    uow: UnitOfWork, problem_id: uuid.UUID, workaround: str, now: datetime
) -> Problem:
    problem = (await get_problem(uow, problem_id, for_update=True)).known_error(workaround, now)
    await uow.problems.save(problem)
    return problem


async def resolve(
    uow: UnitOfWork, problem_id: uuid.UUID, resolution: str, now: datetime, actor: str | None
) -> Problem:
    """Resolved: problem.resolved lists every linked case still open, so each customer is told."""
    problem = await get_problem(uow, problem_id, for_update=True)
    linked = await uow.problems.linked(problem.id)
    open_cases = [link.case for link in linked if link.case.is_open]
    problem, resolved = problem.resolve(
        resolution, now, open_cases=open_cases, linked=len(linked), actor=actor
    )
    await uow.problems.save(problem)
    for case in open_cases:
        await casework.note(
            uow, case, now, "problem", f"problem {problem.number} resolved: {resolution}", actor
        )
    await uow.emit(resolved, subject=problem.id)
    return problem
