"""Root causes, problems and procedures on the fakes: the root cause a resolution needs, five
similar resolutions opening one problem, later cases joining it, its magnitude, resolving it
telling the open cases; the procedure in force for a case; a review requested once per window."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from atiende_contracts import (
    CaseOpened,
    CaseResolved,
    CaseType,
    Channel,
    ProblemCaseLinked,
    ProblemDetected,
    ProblemLinkReason,
    ProblemResolved,
    ProcedureReviewRequested,
    RootCauseCategory,
)
from atiende_routing.domain.problems import ProblemStatus, Threshold, Trigger
from atiende_routing.domain.procedures import (
    NoProcedureInForce,
    Policy,
    ProcedureText,
    ReviewThreshold,
)
from atiende_routing.domain.root_causes import RootCause
from atiende_routing.usecases import lifecycle, problems, procedures
from atiende_runtime.errors import Conflict, Invalid

from ..fakes import FakeUnitOfWork, ledger_entry

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NO_GATES = lifecycle.Rules(require_steps=False)
DESIGN = RootCause(RootCauseCategory.PROCEDURE_DESIGN_FAULT, procedure="returns")
TEXTS = {"es": ProcedureText("Devoluciones", ("Le enviamos una etiqueta de devolución",))}


def of(uow, kind):
    return [e for e in uow.emitted if isinstance(e, kind)]


async def uow_with_threshold(**fields):
    uow = FakeUnitOfWork()
    await procedures.create_procedure(
        uow, "returns", "late_delivery", None, TEXTS, OPENED_AT, "admin"
    )
    values = {
        "id": "late",
        "name": "Late deliveries by design",
        "motive": "late_delivery",
        "root_cause": RootCauseCategory.PROCEDURE_DESIGN_FAULT,
        "trigger": Trigger.COUNT,
        "cases": 5,
        "window": timedelta(hours=24),
        **fields,
    }
    await problems.save_threshold(uow, Threshold(**values), OPENED_AT, "admin", create=True)
    return uow


async def open_one(uow, n, at, **fields):
    values = {
        "case_id": uuid.UUID(int=n),
        "case_number": f"AT-2026-{n:06d}",
        "customer_id": uuid.UUID(int=1000 + n),
        "customer_name": "Ana",
        "customer_email": "ana@example.com",
        "type": CaseType.COMPLAINT,
        "channel": Channel.EMAIL,
        "description": "it came late",
        "motive": "late_delivery",
        "opened_at": at,
        **fields,
    }
    await lifecycle.open_case(uow, CaseOpened(**values), at)
    return uuid.UUID(int=n)


async def resolve(uow, case_id, at, root_cause=DESIGN):
    return await lifecycle.resolve_case(
        uow, case_id, "refunded", at, root_cause=root_cause, rules=NO_GATES
    )


async def test_a_complaint_without_a_root_cause_or_naming_nothing_known_is_refused():
    uow = await uow_with_threshold()
    case_id = await open_one(uow, 1, OPENED_AT)
    with pytest.raises(Invalid) as missing:
        await resolve(uow, case_id, OPENED_AT, root_cause=None)
    assert missing.value.errors[0].field == "root_cause"
    with pytest.raises(Invalid) as unknown:
        await resolve(
            uow,
            case_id,
            OPENED_AT,
            RootCause(RootCauseCategory.POLICY_HURTS_CUSTOMERS, policy="no-such-policy"),
        )
    assert (unknown.value.errors[0].field, unknown.value.errors[0].rule) == (
        "root_cause.policy",
        "managed_list",
    )
    assert not of(uow, CaseResolved)
    await procedures.save_policy(
        uow, Policy("no-such-policy", "Now it exists"), OPENED_AT, None, create=True
    )
    resolved = await resolve(
        uow,
        case_id,
        OPENED_AT,
        RootCause(RootCauseCategory.POLICY_HURTS_CUSTOMERS, policy="no-such-policy", note="fees"),
    )
    assert (resolved.root_cause, resolved.root_cause_policy, resolved.root_cause_note) == (
        "policy_hurts_customers",
        "no-such-policy",
        "fees",
    )
    [told] = of(uow, CaseResolved)
    assert (told.root_cause, told.root_cause_policy) == (
        RootCauseCategory.POLICY_HURTS_CUSTOMERS,
        "no-such-policy",
    )


async def test_five_similar_resolutions_open_one_problem_and_later_cases_join_it():
    uow = await uow_with_threshold()
    ids = [await open_one(uow, n, OPENED_AT) for n in range(1, 6)]
    other = await open_one(uow, 99, OPENED_AT)
    # each opening waits on its motive's thresholds, so it sees a problem being opened meanwhile
    assert uow.problems.locked == ["late"] * 6
    uow.problems.locked.clear()
    await resolve(
        uow, other, OPENED_AT + timedelta(hours=1), RootCause(RootCauseCategory.ISOLATED_INCIDENT)
    )
    for i, case_id in enumerate(ids[:4]):
        await resolve(uow, case_id, OPENED_AT + timedelta(hours=2 + i))
    assert not of(uow, ProblemDetected)

    await resolve(uow, ids[4], OPENED_AT + timedelta(hours=7))
    [detected] = of(uow, ProblemDetected)
    assert detected.case_ids == ids  # the isolated incident does not count
    assert not of(uow, ProblemCaseLinked)
    problem_id = detected.problem_id
    assert uow.problems.locked == ["late"] * 5  # each matching resolution counts under the lock

    # a new case of the motive joins the open problem as it opens; so does a later resolution
    sixth = await open_one(uow, 6, OPENED_AT + timedelta(hours=8))
    [linked] = of(uow, ProblemCaseLinked)
    assert (linked.case_id, linked.reason) == (sixth, ProblemLinkReason.AUTOMATIC)
    seventh = await open_one(uow, 7, OPENED_AT + timedelta(hours=8), motive="wrong_invoice")
    assert len(of(uow, ProblemCaseLinked)) == 1  # another motive stays out
    assert uow.problems.locked == ["late"] * 6  # nor does it wait on the motive's thresholds

    for case_id, amount, currency in (
        (ids[0], "20.00", "EUR"),
        (ids[1], "35.50", "EUR"),
        (ids[1], "-5.50", "EUR"),
        (ids[2], "10.00", "USD"),
        (seventh, "99.00", "EUR"),
    ):
        await uow.compensations.record(ledger_entry(case_id, amount, currency))
    view = await problems.view_problem(uow, problem_id)
    assert (view.magnitude.cases, view.magnitude.open_cases, view.magnitude.customers) == (6, 1, 6)
    assert view.magnitude.compensation == {"EUR": Decimal("50.00"), "USD": Decimal("10.00")}
    assert [link.case.id for link in view.cases] == [*ids, sixth]


async def test_resolving_a_problem_tells_every_linked_open_case_and_links_no_more():
    uow = await uow_with_threshold(cases=2)
    first, second = [await open_one(uow, n, OPENED_AT) for n in (1, 2)]
    await resolve(uow, first, OPENED_AT + timedelta(hours=1))
    await resolve(uow, second, OPENED_AT + timedelta(hours=2))
    [detected] = of(uow, ProblemDetected)
    waiting = await open_one(uow, 3, OPENED_AT + timedelta(hours=3))
    by_hand = await open_one(uow, 4, OPENED_AT + timedelta(hours=3), motive="wrong_invoice")
    linked = await problems.link_case(uow, detected.problem_id, by_hand, OPENED_AT, "ana")
    assert linked.reason is ProblemLinkReason.MANUAL
    with pytest.raises(Conflict):
        await problems.link_case(uow, detected.problem_id, by_hand, OPENED_AT, "ana")

    known = await problems.known_error(uow, detected.problem_id, "offer collection", OPENED_AT)
    assert known.status is ProblemStatus.KNOWN_ERROR
    done = await problems.resolve(
        uow, detected.problem_id, "new carrier", OPENED_AT + timedelta(days=1), "sara"
    )
    assert done.status is ProblemStatus.RESOLVED
    [told] = of(uow, ProblemResolved)
    assert {c.case_id for c in told.open_cases} == {waiting, by_hand}
    assert told.linked_cases == 4
    with pytest.raises(Conflict):
        await problems.unlink_case(uow, detected.problem_id, by_hand, OPENED_AT, "ana")

    # after it is resolved, the old cases do not open a new problem; two new ones do
    await resolve(uow, waiting, OPENED_AT + timedelta(days=1, hours=1))
    assert len(of(uow, ProblemDetected)) == 1
    again = await open_one(uow, 5, OPENED_AT + timedelta(days=1, hours=1))
    await resolve(uow, again, OPENED_AT + timedelta(days=1, hours=2))
    assert len(of(uow, ProblemDetected)) == 2


async def test_a_baseline_threshold_opens_a_problem_only_well_above_the_usual_rate():
    week = timedelta(days=7)
    uow = await uow_with_threshold(
        trigger=Trigger.BASELINE, cases=3, factor=2, window=week, active=False
    )
    now = OPENED_AT + timedelta(days=60)
    # the usual rate, from before the threshold was switched on: 8 cases over the four weeks
    # before this one (2 a week)
    for n in range(8, 0, -1):
        at = now - week - timedelta(days=3 * n)
        await resolve(uow, await open_one(uow, n, at), at)
    threshold = await problems.get_threshold(uow, "late")
    await problems.save_threshold(
        uow, replace(threshold, active=True), now - week, "admin", create=False
    )
    # this week, in the order time passes (a window counts every case resolved since it opened)
    for n in range(12, 9, -1):
        await resolve(
            uow, await open_one(uow, n, now - timedelta(hours=n)), now - timedelta(hours=n)
        )
    assert not of(uow, ProblemDetected)  # 3 this week < 2 x 2
    await resolve(uow, await open_one(uow, 13, now), now)
    [detected] = of(uow, ProblemDetected)
    assert len(detected.case_ids) == 4


async def test_the_procedure_in_force_for_a_case_and_one_active_per_motive_and_channel():
    uow = await uow_with_threshold()
    phone = {
        "es": ProcedureText("Por teléfono", ("Le llamamos",)),
        "en": ProcedureText("By phone", ("We call you",)),
    }
    await procedures.create_procedure(
        uow, "returns-phone", "late_delivery", "phone", phone, OPENED_AT, None
    )
    with pytest.raises(Conflict):
        await procedures.create_procedure(uow, "dup", "late_delivery", None, TEXTS, OPENED_AT, None)
    by_phone = await open_one(uow, 1, OPENED_AT, channel=Channel.PHONE, language="en")
    by_mail = await open_one(uow, 2, OPENED_AT)
    found = await procedures.procedure_for_case(uow, by_phone)
    assert (found.procedure.code, found.language, found.text.title) == (
        "returns-phone",
        "en",
        "By phone",
    )
    assert (await procedures.procedure_for_case(uow, by_mail)).procedure.code == "returns"

    changed = await procedures.change_procedure(
        uow,
        "returns",
        "late_delivery",
        None,
        {"es": ProcedureText("Devoluciones", ("Paso nuevo",))},
        True,
        OPENED_AT,
        None,
    )
    assert changed.version == 2
    await procedures.deactivate_procedure(uow, "returns", OPENED_AT, None)
    assert [p.version for p in await procedures.procedure_history(uow, "returns")] == [1, 2, 3]
    with pytest.raises(NoProcedureInForce):
        await procedures.procedure_for_case(uow, by_mail)


async def test_blame_on_one_procedure_requests_a_review_once_per_window():
    uow = await uow_with_threshold(cases=100)
    await procedures.set_review_threshold(
        uow, ReviewThreshold(3, timedelta(days=7)), OPENED_AT, None
    )
    ids = [await open_one(uow, n, OPENED_AT) for n in range(1, 6)]
    for i, case_id in enumerate(ids):
        await resolve(uow, case_id, OPENED_AT + timedelta(hours=i))
    [review] = of(uow, ProcedureReviewRequested)
    assert (review.subject_kind, review.code, review.title) == (
        "procedure",
        "returns",
        "Devoluciones",
    )
    assert review.case_ids == ids[:3]
    later = await open_one(uow, 9, OPENED_AT + timedelta(days=8))
    await resolve(uow, later, OPENED_AT + timedelta(days=8))
    assert len(of(uow, ProcedureReviewRequested)) == 1  # only one case in the new window
