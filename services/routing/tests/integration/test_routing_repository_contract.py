"""One set of assertions for routing's repositories, run against the fake and PostgreSQL, so the
fake the unit tests rely on cannot drift from the SQL."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from atiende_contracts import Channel, ProblemLinkReason, Rank, RootCauseCategory, SlaClock
from atiende_routing.domain.cases import CaseStatus, RoutedCase
from atiende_routing.domain.commitments import Commitment
from atiende_routing.domain.escalation import EscalationRecord
from atiende_routing.domain.phrasebook import Phrase
from atiende_routing.domain.problems import Magnitude, Problem, ProblemStatus, Threshold, Trigger
from atiende_routing.domain.procedures import Policy, Procedure, ProcedureText, ReviewThreshold
from atiende_routing.domain.sla import Clock, Priority
from atiende_routing.domain.steps import Step, StepRecord
from atiende_routing.repository import PostgresUnitOfWork
from atiende_routing.repository.cases import QueueFilter, QueuePosition, TimelineEntry
from atiende_runtime import db
from atiende_runtime.languages import Register
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..fakes import FakeUnitOfWork, ledger_entry

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SCHEMA = "routing"


@pytest.fixture(params=["fake", "postgres"])
def backend(request):
    """The backend's name and, for PostgreSQL, a fresh database."""
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    return request.param, url


@pytest.fixture
async def uow(backend):
    kind, url = backend
    if kind == "fake":
        yield FakeUnitOfWork()
        return
    await db.migrate(url, SCHEMA, "atiende_routing")
    conn = await db.connect(url, SCHEMA)
    try:
        yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/routing"))
    finally:
        await conn.close()


def new_case(**fields):
    values = {
        "id": uuid.uuid4(),
        "number": "AT-2026-000001",
        "type": "complaint",
        "status": CaseStatus.NEW,
        "opened_at": OPENED_AT,
        **fields,
    }
    return RoutedCase(**values)


async def test_a_case_is_added_once_and_read_back(uow):
    case = new_case()
    assert await uow.cases.add(case) is True
    assert await uow.cases.get(case.id) == case
    assert await uow.cases.get_for_update(case.id) == case

    assert await uow.cases.add(replace(case, number="AT-OTHER")) is False
    assert await uow.cases.get(case.id) == case


async def test_an_unknown_case_reads_as_none(uow):
    assert await uow.cases.get(uuid.uuid4()) is None
    assert await uow.cases.get_for_update(uuid.uuid4()) is None


async def test_a_case_is_saved_whole_and_assignments_counted(uow):
    case = new_case()
    await uow.cases.add(case)
    assigned, _ = case.assign("general", OPENED_AT + timedelta(minutes=1))
    await uow.cases.save(assigned, assignment=True)
    assert await uow.cases.get(case.id) == assigned

    resolved, _ = assigned.resolve("refund", OPENED_AT + timedelta(hours=2))
    escalated = replace(
        resolved.escalated_to(Rank.SENIOR, "sara"),
        sla_due_at=OPENED_AT + timedelta(hours=4),
        customer_id=uuid.uuid4(),
        upset=True,
        waiting_note="n",
    )
    await uow.cases.save(escalated)
    assert await uow.cases.get(case.id) == escalated


async def test_a_cases_recoveries_are_read_back_oldest_first(uow):
    original = new_case()
    other = new_case()
    later = new_case(
        number="AT-2026-000001-R2", recovery_of=original.id, opened_at=OPENED_AT + timedelta(days=9)
    )
    first = new_case(
        number="AT-2026-000001-R", recovery_of=original.id, opened_at=OPENED_AT + timedelta(days=2)
    )
    for case in (original, other, later, first, new_case(recovery_of=other.id)):
        await uow.cases.add(case)
    assert await uow.cases.recoveries_of(original.id) == [first, later]
    assert await uow.cases.recoveries_of(first.id) == []


async def test_saving_an_unknown_case_stores_nothing(uow):
    ghost, _ = new_case().assign("general", OPENED_AT)
    await uow.cases.save(ghost, assignment=True)
    assert await uow.cases.get(ghost.id) is None


async def test_set_agent_moves_only_open_cases_and_assigns_new_ones(uow):
    case = new_case()
    await uow.cases.add(case)
    moved = await uow.cases.set_agent(case.id, "billing", "ana", OPENED_AT)
    assert (moved.status, moved.team, moved.agent_id, moved.assigned_at) == (
        CaseStatus.ASSIGNED,
        "billing",
        "ana",
        OPENED_AT,
    )
    assert moved.version == case.version + 1
    assert await uow.cases.get(case.id) == moved
    done = new_case(id=uuid.uuid4(), status=CaseStatus.RESOLVED)
    await uow.cases.add(done)
    assert await uow.cases.set_agent(done.id, "billing", "ana", OPENED_AT) is None


async def test_queues_order_escalated_first_then_deadline_and_page(uow):
    due = OPENED_AT + timedelta(hours=1)
    cases = [
        new_case(id=uuid.UUID(int=1), team="t", sla_due_at=due + timedelta(hours=2)),
        new_case(id=uuid.UUID(int=2), team="t", sla_due_at=due),
        new_case(id=uuid.UUID(int=3), team="t", sla_due_at=None),
        new_case(
            id=uuid.UUID(int=4),
            team="t",
            escalation=Rank.SENIOR,
            sla_due_at=due + timedelta(hours=9),
        ),
        new_case(id=uuid.UUID(int=5), team="t", status=CaseStatus.CLOSED),
        new_case(id=uuid.UUID(int=6), team="other"),
        new_case(id=uuid.UUID(int=7), team="t", agent_id="ana", sla_due_at=due),
    ]
    for case in cases:
        await uow.cases.add(case)
    order = [c.id.int for c in await uow.cases.queue(QueueFilter(team="t"), None, 10)]
    assert order == [4, 2, 7, 1, 3]
    first = await uow.cases.queue(QueueFilter(team="t"), None, 2)
    rest = await uow.cases.queue(QueueFilter(team="t"), QueuePosition.of(first[-1]), 10)
    assert [c.id.int for c in first + rest] == order
    assert [
        c.id.int for c in await uow.cases.queue(QueueFilter(team="t", unassigned=True), None, 10)
    ] == [4, 2, 1, 3]
    assert [c.id.int for c in await uow.cases.queue(QueueFilter(agent_id="ana"), None, 10)] == [7]
    assert [
        c.id.int for c in await uow.cases.queue(QueueFilter(team="t", escalated=True), None, 10)
    ] == [4]
    position = QueuePosition.of(first[-1])
    assert QueuePosition.decode(position.encode()) == position


async def test_timeline_steps_commitments_and_escalations_and_their_erasure(uow):
    case = new_case(customer_id=uuid.uuid4())
    await uow.cases.add(case)
    assert await uow.cases.of_customer(case.customer_id) == [case]
    at = OPENED_AT + timedelta(minutes=3)
    await uow.cases.add_timeline(TimelineEntry(case.id, at, "opened", "opened by intake"))
    await uow.cases.add_timeline(TimelineEntry(case.id, at, "step", "step 2: said x", "ana"))
    assert [e.summary for e in await uow.cases.timeline(case.id)] == [
        "opened by intake",
        "step 2: said x",
    ]
    # several at once keep the order given (the timeline reads in insertion order)
    await uow.cases.add_timeline(
        *(TimelineEntry(case.id, at, "note", f"note {n}", None) for n in (3, 1, 2))
    )
    await uow.cases.add_timeline()
    assert [e.summary for e in await uow.cases.timeline(case.id)][2:] == [
        "note 3",
        "note 1",
        "note 2",
    ]

    five = StepRecord(case.id, Step.OPTIONS, "two ways", "ana", at, ("refund", "swap"), "swap")
    three = StepRecord(case.id, Step.EXPECTATION, "refund", None, at, source="intake")
    await uow.steps.record(five)
    await uow.steps.record(three)
    assert await uow.steps.of_case(case.id) == [three, five]
    again = replace(three, text="a refund this week", author="ana", source="agent")
    await uow.steps.record(again)
    assert await uow.steps.of_case(case.id) == [again, five]

    promise, _ = Commitment.make(
        case_id=case.id,
        case_number=case.number,
        description="call back",
        owner_id="ana",
        due_at=at + timedelta(hours=1),
        now=at,
        to_whom="Ana",
        channel=Channel.PHONE,
    )
    await uow.commitments.add(promise)
    assert await uow.commitments.get(promise.id) == promise
    kept, _ = promise.keep(at, "ana")
    await uow.commitments.save(kept)
    assert await uow.commitments.of_case(case.id) == [kept]

    record = EscalationRecord(case.id, Rank.SENIOR, "manual", "sara", at, "ana", "please")
    await uow.escalations.add(record)
    assert await uow.escalations.of_case(case.id) == [record]

    await uow.steps.erase(case.id, "[erased]")
    await uow.commitments.erase(case.id, "[erased]")
    await uow.escalations.erase(case.id, "[erased]")
    await uow.cases.erase_timeline(case.id, "[erased]")
    erased_five = (await uow.steps.of_case(case.id))[1]
    assert (erased_five.text, erased_five.options, erased_five.chosen) == (
        "[erased]",
        ("[erased]", "[erased]"),
        "[erased]",
    )
    [c] = await uow.commitments.of_case(case.id)
    assert (c.description, c.to_whom) == ("[erased]", "[erased]")
    assert (await uow.escalations.of_case(case.id))[0].note == "[erased]"
    assert [e.summary for e in await uow.cases.timeline(case.id)] == [
        "opened by intake",
        *["[erased]"] * 4,
    ]


async def test_open_commitments_move_with_a_merge(uow):
    a, b = new_case(), new_case(id=uuid.uuid4(), number="AT-2")
    await uow.cases.add(a)
    await uow.cases.add(b)
    at = OPENED_AT
    open_one, _ = Commitment.make(
        case_id=a.id,
        case_number=a.number,
        description="x",
        owner_id="ana",
        due_at=at + timedelta(hours=1),
        now=at,
    )
    kept_one, _ = Commitment.make(
        case_id=a.id,
        case_number=a.number,
        description="y",
        owner_id="ana",
        due_at=at + timedelta(hours=2),
        now=at,
    )
    await uow.commitments.add(open_one)
    await uow.commitments.add(kept_one)
    await uow.commitments.save(kept_one.keep(at, None)[0])
    moved = await uow.commitments.move(a.id, b.id, b.number)
    assert [(m.id, m.case_id, m.case_number) for m in moved] == [(open_one.id, b.id, "AT-2")]
    assert [c.id for c in await uow.commitments.of_case(a.id)] == [kept_one.id]


async def test_the_phrasebook_is_seeded_and_replaced_per_language_and_register(uow):
    if isinstance(uow, FakeUnitOfWork):  # the fake starts empty; the migration seeds PostgreSQL
        for language in ("es", "en"):
            for register in Register:
                await uow.phrasebook.replace(
                    language,
                    register.value,
                    [Phrase(language, register, i, f"{language}{i}") for i in range(6)],
                )
    for language in ("es", "en"):
        for register in Register:
            assert len(await uow.phrasebook.phrases(language, register.value)) == 6
    new = [Phrase("en", Register.FORMAL, 0, "One."), Phrase("en", Register.FORMAL, 1, "Two.")]
    await uow.phrasebook.replace("en", "formal", new)
    assert await uow.phrasebook.phrases("en", "formal") == new
    assert len(await uow.phrasebook.phrases("en", "informal")) == 6
    assert len(await uow.phrasebook.phrases()) == 20


# --- SLA: policies, pause reasons, clocks, timers ------------------------------------------------


async def test_sla_policies_are_versioned_and_the_default_is_there(uow):
    from atiende_routing.domain.sla import DEFAULT_POLICY

    default = await uow.sla_policies.get("default")
    assert (default.targets, default.pauses, default.business_hours) == (
        DEFAULT_POLICY.targets,
        DEFAULT_POLICY.pauses,
        True,
    )
    assert (default.warn_at_percent, default.warn_minutes_before) == ((75,), (15,))
    fast = replace(DEFAULT_POLICY, id="fast", name="Fast", changed_at=OPENED_AT)
    assert await uow.sla_policies.add(fast) is True
    assert await uow.sla_policies.add(fast) is False
    second = fast.next_version(name="Faster", business_hours=False)
    assert await uow.sla_policies.add(second) is True
    assert (await uow.sla_policies.get("fast")).name == "Faster"
    assert (await uow.sla_policies.get("fast", 1)).name == "Fast"
    assert await uow.sla_policies.get("fast", 3) is None
    assert [(p.id, p.version) for p in await uow.sla_policies.current()] == [
        ("default", 1),
        ("fast", 2),
    ]


async def test_pause_reasons_are_seeded_and_replaced(uow):
    from atiende_routing.repository.sla import PauseReason

    assert "customer_information" in [r.code for r in await uow.sla_policies.pause_reasons()]
    await uow.sla_policies.set_pause_reasons([PauseReason("b", "B"), PauseReason("a", "A")])
    assert await uow.sla_policies.pause_reasons() == [PauseReason("b", "B"), PauseReason("a", "A")]


async def test_clocks_keep_every_cycle_with_pauses_and_calendar(uow):
    from atiende_contracts import SlaClock
    from atiende_routing.domain.calendars import BusinessCalendar, Holiday, weekdays
    from atiende_routing.domain.sla import DEFAULT_POLICY, Priority, start_clock

    calendar = BusinessCalendar(
        "Europe/Madrid",
        weekdays(range(5), time(9), time(14)) + weekdays(range(5), time(16), time(19)),
        (Holiday(OPENED_AT.date(), "Fiesta"),),
    )
    case_id = uuid.uuid4()
    first = start_clock(
        case_id, "AT-1", SlaClock.RESOLUTION, 1, DEFAULT_POLICY, Priority.HIGH, calendar, OPENED_AT
    )
    first = first.pause(OPENED_AT + timedelta(hours=1), "waiting_on_customer", "x", "note")
    first = first.resume(OPENED_AT + timedelta(hours=2)).warn("75%")
    await uow.clocks.save(first)
    assert await uow.clocks.get(case_id, SlaClock.RESOLUTION) == first
    met = first.meet(OPENED_AT + timedelta(hours=3))
    await uow.clocks.save(met)
    again = start_clock(
        case_id, "AT-1", SlaClock.RESOLUTION, 2, DEFAULT_POLICY, Priority.HIGH, None, OPENED_AT
    )
    await uow.clocks.save(again)
    response = start_clock(
        case_id, "AT-1", SlaClock.FIRST_RESPONSE, 1, DEFAULT_POLICY, Priority.HIGH, None, OPENED_AT
    )
    await uow.clocks.save(response)
    assert await uow.clocks.current(case_id) == [response, again]
    assert await uow.clocks.get(case_id, SlaClock.RESOLUTION, for_update=True) == again
    assert len(await uow.clocks.history(case_id)) == 3
    assert await uow.clocks.current(uuid.uuid4()) == []

    # several saved at once (one statement): inserted, updated, the later of two cycles wins
    paused = response.pause(OPENED_AT + timedelta(minutes=5), "waiting_on_customer", "y", None)
    update = start_clock(
        case_id, "AT-1", SlaClock.NEXT_UPDATE, 1, DEFAULT_POLICY, Priority.LOW, calendar, OPENED_AT
    )
    warned = update.warn("75%").warn("15m")
    await uow.clocks.save(paused, update, warned, again.meet(OPENED_AT + timedelta(hours=4)))
    await uow.clocks.save()
    assert await uow.clocks.current(case_id) == [
        paused,
        warned,
        again.meet(OPENED_AT + timedelta(hours=4)),
    ]
    assert len(await uow.clocks.history(case_id)) == 4


async def test_timers_are_scheduled_moved_cancelled_claimed_and_fired_once(uow):
    from atiende_routing.domain.timers import Timer, TimerOutcome

    case_id = uuid.uuid4()
    t = OPENED_AT
    late = Timer("sla_breach", case_id, "resolution:1", t + timedelta(hours=2), {"cycle": 1})
    soon = Timer("sla_warning", case_id, "resolution:1:75%", t + timedelta(hours=1))
    other = Timer("commitment_due", case_id, "c1", t + timedelta(minutes=30))
    for timer in (late, soon, other):
        await uow.timers.schedule(timer)
    # the same kind and ref again moves the pending one
    await uow.timers.schedule(
        Timer("sla_breach", case_id, "resolution:1", t + timedelta(hours=3), {"cycle": 1})
    )
    pending = await uow.timers.pending(case_id)
    assert [(p.ref, p.due_at) for p in pending] == [
        ("c1", t + timedelta(minutes=30)),
        ("resolution:1:75%", t + timedelta(hours=1)),
        ("resolution:1", t + timedelta(hours=3)),
    ]
    assert pending[2].payload == {"cycle": 1}
    assert await uow.timers.next_due() == t + timedelta(minutes=30)

    claimed = await uow.timers.claim_due(t + timedelta(hours=1), 1)
    assert [c.ref for c in claimed] == ["c1"]
    await uow.timers.mark_fired([claimed[0].id], TimerOutcome.FIRED, t + timedelta(hours=1), "a")
    await uow.timers.mark_fired([claimed[0].id], TimerOutcome.STALE, t + timedelta(hours=2), "b")
    assert [c.ref for c in await uow.timers.claim_due(t + timedelta(hours=1), 10)] == [
        "resolution:1:75%"
    ]
    assert (
        await uow.timers.cancel(
            case_id, kinds=("sla_warning", "sla_breach"), ref_prefix="resolution:"
        )
        == 2
    )
    assert await uow.timers.pending(case_id) == []
    assert await uow.timers.next_due() is None
    assert await uow.timers.claim_due(t + timedelta(days=9), 10) == []


async def test_timers_scheduled_together_keep_the_upsert_rules_and_cancel_by_several_prefixes(
    uow,
):
    from atiende_routing.domain.timers import Timer

    case_id, t = uuid.uuid4(), OPENED_AT
    await uow.timers.schedule(Timer("sla_breach", case_id, "resolution:1", t, {"cycle": 1}))
    await uow.timers.schedule()  # nothing to schedule is no error
    await uow.timers.schedule(
        Timer("sla_warning", case_id, "first_response:1:75%", t + timedelta(minutes=1)),
        # already pending: moved, as one schedule after another would
        Timer("sla_breach", case_id, "resolution:1", t + timedelta(hours=2), {"cycle": 2}),
        Timer("commitment_due", case_id, "c1", t + timedelta(hours=3)),
        # the same kind and ref twice in one call: the later wins
        Timer("commitment_due", case_id, "c1", t + timedelta(hours=4), {"again": True}),
    )
    pending = await uow.timers.pending(case_id)
    assert [(p.ref, p.due_at, p.payload) for p in pending] == [
        ("first_response:1:75%", t + timedelta(minutes=1), {}),
        ("resolution:1", t + timedelta(hours=2), {"cycle": 2}),
        ("c1", t + timedelta(hours=4), {"again": True}),
    ]
    kinds = ("sla_warning", "sla_breach")
    assert await uow.timers.cancel(case_id, kinds=kinds, ref_prefix=[]) == 0
    assert (
        await uow.timers.cancel(case_id, kinds=kinds, ref_prefix=["first_response:", "resol"]) == 2
    )
    assert [p.ref for p in await uow.timers.pending(case_id)] == ["c1"]


async def test_a_postponed_timer_stays_pending_until_its_new_time(uow):
    from atiende_routing.domain.timers import Timer

    timer = Timer("sla_breach", uuid.uuid4(), "resolution:1", OPENED_AT)
    await uow.timers.schedule(timer)
    await uow.timers.postpone(timer.id, OPENED_AT + timedelta(seconds=30), "RuntimeError('boom')")
    assert await uow.timers.claim_due(OPENED_AT + timedelta(seconds=29), 10) == []
    (again,) = await uow.timers.claim_due(OPENED_AT + timedelta(seconds=30), 10)
    assert (again.id, again.fired_at) == (timer.id, None)


# --- problems and procedures ---------------------------------------------------------------------


def late_threshold(**fields):
    values = {
        "id": "late",
        "name": "Late deliveries",
        "motive": "late_delivery",
        "root_cause": RootCauseCategory.PROCEDURE_DESIGN_FAULT,
        "trigger": Trigger.COUNT,
        "cases": 2,
        "window": timedelta(hours=24),
        "region": "north",
        "changed_at": OPENED_AT,
        **fields,
    }
    return Threshold(**values)


def late_case(n, hours, **fields):
    values = {
        "id": uuid.UUID(int=n),
        "number": f"AT-{n}",
        "status": CaseStatus.RESOLVED,
        "motive": "late_delivery",
        "root_cause": "procedure_design_fault",
        "root_cause_procedure": "returns",
        "region": "north",
        "customer_id": uuid.UUID(int=500 + n % 2),
        "resolved_at": OPENED_AT + timedelta(hours=hours),
        **fields,
    }
    return new_case(**values)


async def add_ledger(uow, case_id, amount, currency):
    """Through the compensations repository, the one ledger the problems' magnitude reads."""
    await uow.compensations.record(ledger_entry(case_id, amount, currency))


async def test_thresholds_are_stored_found_by_motive_and_cause_and_deactivated(uow):
    late = late_threshold()
    assert await uow.problems.add_threshold(late) is True
    assert await uow.problems.add_threshold(late) is False
    baseline = late_threshold(id="late-weekly", trigger=Trigger.BASELINE, factor=2.5, region=None)
    await uow.problems.add_threshold(baseline)
    await uow.problems.add_threshold(late_threshold(id="other", motive="wrong_invoice"))
    assert await uow.problems.get_threshold("late") == late
    assert await uow.problems.thresholds_for("late_delivery", "procedure_design_fault") == [
        late,
        baseline,
    ]
    await uow.problems.save_threshold(replace(late, active=False))
    assert await uow.problems.thresholds_for("late_delivery", "procedure_design_fault") == [
        baseline
    ]
    assert [t.id for t in await uow.problems.thresholds()] == ["late", "late-weekly", "other"]


async def test_matching_cases_are_those_of_the_threshold_resolved_since_the_window_opened(uow):
    late = late_threshold()
    for case in (
        late_case(1, 1),
        late_case(2, 5),
        late_case(3, 30),
        late_case(4, 2, region="south"),
        late_case(5, 2, root_cause="isolated_incident"),
    ):
        await uow.cases.add(case)
    found = await uow.problems.matching_cases(late, OPENED_AT + timedelta(hours=1))
    # after `after`, however late: a case resolved with a later clock than the detecting
    # resolution's `now` still counts (AT-1, resolved at `after` itself, belongs to the window
    # before)
    assert [c.number for c in found] == ["AT-2", "AT-3"]
    anywhere = replace(late, region=None)
    assert (
        await uow.problems.count_matching(anywhere, OPENED_AT, OPENED_AT + timedelta(hours=24)) == 3
    )
    # (after, until]: a case resolved exactly at `after` belongs to the window before
    assert (
        await uow.problems.count_matching(
            late, OPENED_AT + timedelta(hours=1), OPENED_AT + timedelta(hours=5)
        )
        == 1
    )


async def test_problems_links_and_magnitude_read_the_ledger_and_the_clocks(uow):
    late = late_threshold()
    await uow.problems.add_threshold(late)
    cases = [late_case(1, 1), late_case(2, 2), late_case(3, 3, status=CaseStatus.IN_PROGRESS)]
    for case in cases:
        await uow.cases.add(case)
    first, second = await uow.problems.next_number(), await uow.problems.next_number()
    assert first != second
    problem, _ = Problem.detected(late, first, cases[:2], OPENED_AT)
    await uow.problems.add(problem)
    assert await uow.problems.get(problem.id) == problem
    assert await uow.problems.unresolved_of("late") == problem
    assert await uow.problems.unresolved_for_motive("late_delivery") == [problem]
    # the same after waiting for the motive's detections (it has one threshold: locked, read
    # again); a motive without thresholds reads in one go
    assert await uow.problems.unresolved_after_detections("late_delivery") == [problem]
    assert await uow.problems.unresolved_after_detections("wrong_invoice") == []
    for i, case in enumerate(cases):
        reason = ProblemLinkReason.DETECTED if i < 2 else ProblemLinkReason.MANUAL
        at = OPENED_AT + timedelta(minutes=i)
        assert await uow.problems.link(problem.id, case.id, reason, at, "ana" if i == 2 else None)
    assert (
        await uow.problems.link(problem.id, cases[0].id, ProblemLinkReason.MANUAL, OPENED_AT)
        is False
    )
    linked = await uow.problems.linked(problem.id)
    assert [(link.case.id, link.reason) for link in linked] == [
        (cases[0].id, ProblemLinkReason.DETECTED),
        (cases[1].id, ProblemLinkReason.DETECTED),
        (cases[2].id, ProblemLinkReason.MANUAL),
    ]
    assert await uow.problems.of_case(cases[2].id) == [problem]

    await add_ledger(uow, cases[0].id, "20.00", "EUR")
    await add_ledger(uow, cases[1].id, "15.50", "EUR")
    await add_ledger(uow, cases[1].id, "-5.50", "EUR")
    await add_ledger(uow, cases[2].id, "12.00", "USD")
    await add_ledger(uow, uuid.uuid4(), "99.00", "EUR")  # another case entirely
    clock = Clock(
        cases[0].id,
        SlaClock.RESOLUTION,
        1,
        "default",
        1,
        Priority.NORMAL,
        timedelta(hours=1),
        OPENED_AT,
        case_number="AT-1",
    )
    await uow.clocks.save(replace(clock, breached_at=OPENED_AT + timedelta(hours=1)))
    magnitude = await uow.problems.magnitude(problem.id)
    assert magnitude == Magnitude(
        cases=3,
        open_cases=1,
        customers=2,
        compensation={"EUR": Decimal("30.00"), "USD": Decimal("12.00")},
        sla_breaches=1,
    )

    assert await uow.problems.unlink(problem.id, cases[2].id) is True
    assert await uow.problems.unlink(problem.id, cases[2].id) is False
    done, _ = problem.resolve("fixed", OPENED_AT + timedelta(days=1), open_cases=[], linked=2)
    await uow.problems.save(done)
    assert await uow.problems.get(problem.id) == done
    assert await uow.problems.unresolved_of("late") is None
    assert await uow.problems.last_resolved_at("late") == OPENED_AT + timedelta(days=1)
    assert await uow.problems.search(ProblemStatus.RESOLVED, 10) == [done]
    assert await uow.problems.search(ProblemStatus.OPEN, 10) == []


async def test_procedure_versions_policies_and_reviews(uow):
    texts = {
        "es": ProcedureText("Devoluciones", ("Uno", "Dos")),
        "en": ProcedureText("Returns", ("One",)),
    }
    v1 = Procedure("returns", 1, "late_delivery", texts, None, True, OPENED_AT, "admin")
    v2 = replace(v1, version=2, channel="phone", changed_at=OPENED_AT + timedelta(hours=1))
    other = Procedure("invoices", 1, "wrong_invoice", texts, None, True, OPENED_AT, None)
    for procedure in (v1, v2, other):
        await uow.procedures.add_version(procedure)
    assert await uow.procedures.latest("returns") == v2
    assert await uow.procedures.version("returns", 1) == v1
    assert await uow.procedures.history("returns") == [v1, v2]
    assert await uow.procedures.current() == [other, v2]
    assert await uow.procedures.current("late_delivery") == [v2]
    moved = replace(v2, version=3, motive="wrong_invoice")
    await uow.procedures.add_version(moved)
    assert await uow.procedures.current("late_delivery") == []  # only the latest version counts

    fees = Policy("fees", "Cancellation fees", "a month's fee", True, OPENED_AT, "admin")
    assert await uow.procedures.add_policy(fees) is True
    assert await uow.procedures.add_policy(fees) is False
    await uow.procedures.save_policy(replace(fees, active=False))
    assert await uow.procedures.get_policy("fees") == replace(fees, active=False)
    assert await uow.procedures.policies() == [replace(fees, active=False)]

    assert await uow.procedures.review_threshold() == ReviewThreshold(3, timedelta(hours=168))
    await uow.procedures.set_review_threshold(
        ReviewThreshold(2, timedelta(hours=48)), OPENED_AT, None
    )
    assert await uow.procedures.review_threshold() == ReviewThreshold(2, timedelta(hours=48))

    for case in (late_case(1, 1), late_case(2, 2), late_case(3, 3, root_cause_procedure="other")):
        await uow.cases.add(case)
    blamed = await uow.procedures.blaming("procedure", "returns", OPENED_AT)
    assert [c.number for c in blamed] == ["AT-1", "AT-2"]
    later = await uow.procedures.blaming("procedure", "returns", OPENED_AT + timedelta(hours=1))
    assert [c.number for c in later] == ["AT-2"]
    assert await uow.procedures.blaming("policy", "returns", OPENED_AT) == []
    assert await uow.procedures.last_review("procedure", "returns") is None
    await uow.procedures.add_review("procedure", "returns", [c.id for c in blamed], OPENED_AT)
    await uow.procedures.add_review("procedure", "returns", [], OPENED_AT + timedelta(hours=1))
    assert await uow.procedures.last_review("procedure", "returns") == OPENED_AT + timedelta(
        hours=1
    )
    assert await uow.procedures.last_review("policy", "returns") is None


# --- compensations ------------------------------------------------------------------------------


def _voucher(**fields):
    from atiende_contracts import CompensationKind
    from atiende_routing.domain.compensations import CatalogueEntry, ValueRule

    values = {
        "code": "VOUCHER",
        "kind": CompensationKind.DISCOUNT,
        "descriptions": {"es": "Un bono", "en": "A voucher"},
        "value_rule": ValueRule.UP_TO,
        "currency": "EUR",
        "maximum": Decimal("50.00"),
        "case_types": frozenset({"complaint"}),
        "motives": frozenset({"LATE"}),
        "changed_at": OPENED_AT,
        **fields,
    }
    return CatalogueEntry(**values)


async def test_the_compensation_catalogue_keeps_every_version(uow):
    first = _voucher()
    assert await uow.compensations.add_entry(first) is True
    assert await uow.compensations.add_entry(first) is False
    second = _voucher(version=2, active=False, maximum=Decimal("40.00"))
    await uow.compensations.add_entry(second)
    await uow.compensations.add_entry(_voucher(code="GIFT"))
    assert await uow.compensations.entry("VOUCHER") == second
    assert await uow.compensations.entry("VOUCHER", 1) == first
    assert await uow.compensations.entry("NOPE") is None
    assert await uow.compensations.history("VOUCHER") == [first, second]
    assert [(e.code, e.version) for e in await uow.compensations.entries()] == [
        ("GIFT", 1),
        ("VOUCHER", 2),
    ]


async def test_limits_and_caps_are_put_listed_and_removed(uow):
    from atiende_routing.domain.compensations import ApprovalLimit, CustomerCap, PeriodUnit

    senior = ApprovalLimit(Rank.SENIOR, "EUR", Decimal("60.00"), OPENED_AT, "root")
    agent = ApprovalLimit(Rank.AGENT, "USD", Decimal("20.00"), OPENED_AT, "root")
    for limit in (senior, agent, replace(senior, max_amount=Decimal("70.00"))):
        await uow.compensations.put_limit(limit)
    assert await uow.compensations.limits() == [agent, replace(senior, max_amount=Decimal("70.00"))]
    assert await uow.compensations.delete_limit(Rank.AGENT, "USD") is True
    assert await uow.compensations.delete_limit(Rank.AGENT, "USD") is False

    cap = CustomerCap(
        "year",
        PeriodUnit.MONTHS,
        12,
        max_amount=Decimal("100.00"),
        currency="EUR",
        changed_at=OPENED_AT,
    )
    await uow.compensations.put_cap(cap)
    await uow.compensations.put_cap(replace(cap, max_count=3))
    assert await uow.compensations.caps() == [replace(cap, max_count=3)]
    assert await uow.compensations.delete_cap("year") is True
    assert await uow.compensations.caps() == []


async def test_approval_requests_are_stored_decided_and_listed(uow):
    from atiende_routing.domain.compensations import (
        ApprovalRequest,
        CaseFacts,
        RequestStatus,
        propose,
    )

    await uow.compensations.add_entry(_voucher())
    case = new_case(motive="LATE", customer_id=uuid.uuid4(), team="care", agent_id="ana")
    await uow.cases.add(case)
    facts = CaseFacts(case.id, case.number, case.type, "LATE", case.customer_id, "care", "ana")
    proposal = propose(
        _voucher(),
        facts,
        currency="EUR",
        amount=Decimal("45.00"),
        order_value=None,
        cost_centre="CC-1",
        reason="late",
        now=OPENED_AT,
    )
    asked = []
    for minutes, rank in ((0, Rank.SUPERVISOR), (1, Rank.MANAGER)):
        request, _ = ApprovalRequest.open(
            proposal,
            requested_by="ana",
            rank=Rank.AGENT,
            approver_rank=rank,
            now=OPENED_AT + timedelta(minutes=minutes),
        )
        await uow.compensations.add_request(request)
        asked.append(request)
    assert await uow.compensations.request(asked[0].id, for_update=True) == asked[0]
    decided, _ = asked[0].approve("marta", Rank.SUPERVISOR, "fine", OPENED_AT, uuid.uuid4())
    await uow.compensations.save_request(decided)
    assert await uow.compensations.request(asked[0].id) == decided
    pending = await uow.compensations.requests(
        status=RequestStatus.PENDING, ranks=None, case_id=None, limit=10
    )
    assert pending == [asked[1]]
    assert await uow.compensations.requests(
        status=None, ranks=[Rank.SUPERVISOR], case_id=case.id, limit=10
    ) == [decided]
    assert await uow.compensations.request(uuid.uuid4()) is None


async def test_the_ledger_is_read_net_of_reversals_paged_and_totalled(uow):
    from atiende_routing.domain.compensations import (
        CaseFacts,
        grant,
        propose,
        reverse,
    )
    from atiende_routing.repository.compensations import LedgerFilter

    customer = uuid.uuid4()
    case = new_case(customer_id=customer, motive="LATE")
    await uow.cases.add(case)
    facts = CaseFacts(case.id, case.number, case.type, "LATE", customer, "care", "ana")

    async def give(amount, at, currency="EUR"):
        proposal = propose(
            _voucher(currency=currency),
            facts,
            currency=currency,
            amount=Decimal(amount),
            order_value=None,
            cost_centre=None,
            reason=None,
            now=at,
        )
        entry, _ = grant(proposal, actor="ana", now=at, descriptions={}, language=None)
        await uow.compensations.record(entry)
        return entry

    old = await give("10.00", OPENED_AT - timedelta(days=400))
    first = await give("30.00", OPENED_AT)
    dollars = await give("5.00", OPENED_AT + timedelta(minutes=1), "USD")
    back, _ = reverse(
        first,
        [],
        amount=Decimal("12.50"),
        reason="returned",
        actor="marta",
        now=OPENED_AT + timedelta(minutes=2),
        case_number=case.number,
    )
    await uow.compensations.record(back)
    await uow.compensations.lock_customer(customer)

    usage = await uow.compensations.usage(customer, OPENED_AT - timedelta(days=30))
    assert [(u.grant_id, u.currency, u.net) for u in usage] == [
        (first.entry_id, "EUR", Decimal("17.50")),
        (dollars.entry_id, "USD", Decimal("5.00")),
    ]
    assert (await uow.compensations.grant_entry(first.entry_id, for_update=True)) == first
    assert await uow.compensations.grant_entry(back.entry_id) is None  # a reversal is no grant
    assert await uow.compensations.reversals_of(first.entry_id) == [back]

    everything = LedgerFilter(customer_id=customer)
    page = await uow.compensations.ledger(everything, None, 2)
    assert [e.entry_id for e in page] == [back.entry_id, dollars.entry_id]
    from atiende_routing.repository.compensations import LedgerPosition

    after = LedgerPosition(page[-1].recorded_at, page[-1].entry_id)
    rest = await uow.compensations.ledger(everything, after, 10)
    assert [e.entry_id for e in rest] == [first.entry_id, old.entry_id]
    totals = await uow.compensations.totals(everything)
    assert [(t.currency, t.granted, t.reversed, t.grants, t.reversals) for t in totals] == [
        ("EUR", Decimal("40.00"), Decimal("12.50"), 2, 1),
        ("USD", Decimal("5.00"), Decimal("0"), 1, 0),
    ]
    recent = LedgerFilter(case_id=case.id, since=OPENED_AT, until=OPENED_AT + timedelta(minutes=2))
    assert [e.entry_id for e in await uow.compensations.ledger(recent, None, 10)] == [
        dollars.entry_id,
        first.entry_id,
    ]
