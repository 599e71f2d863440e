"""SLA and timer use cases on the fakes: clocks start, pause with a reason, resume, meet, retarget;
due timers fire warnings and breaches once, stale ones nothing."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import (
    CaseSlaBreached,
    CaseSlaWarning,
    CaseStatus,
    SlaClock,
    SlaPolicyChanged,
)
from atiende_routing.domain.sla import DEFAULT_POLICY, ClockState, Priority
from atiende_routing.domain.timers import Timer, TimerOutcome
from atiende_routing.repository.sla import PauseReason
from atiende_routing.usecases import sla, timers
from atiende_runtime.errors import Conflict, Invalid

from ..fakes import FakeUnitOfWork

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
FAST = DEFAULT_POLICY.next_version(
    id="fast",
    name="Fast",
    business_hours=False,
    warn_at_percent=(50,),
    warn_minutes_before=(),
)


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    number: str = "AT-2026-000001"
    priority: str = "urgent"
    status: str = "new"


async def started(priority="urgent"):
    uow = FakeUnitOfWork()
    case = Case(uuid.uuid4(), priority=priority)
    await sla.start_clocks(uow, case, FAST, None, T0)
    return uow, case


async def test_opening_starts_first_response_and_resolution_with_their_timers():
    uow, case = await started()
    views = await sla.clocks_of(uow, case.id, T0 + timedelta(minutes=30))
    assert [(v.clock, v.state, v.target) for v in views] == [
        (SlaClock.FIRST_RESPONSE, ClockState.RUNNING, timedelta(hours=1)),
        (SlaClock.RESOLUTION, ClockState.RUNNING, timedelta(hours=8)),
    ]
    assert views[0].elapsed == timedelta(minutes=30)
    pending = await uow.timers.pending(case.id)
    assert sorted((t.kind, t.ref, t.due_at - T0) for t in pending) == [
        ("sla_breach", "first_response:1", timedelta(hours=1)),
        ("sla_breach", "resolution:1", timedelta(hours=8)),
        ("sla_warning", "first_response:1:50%", timedelta(minutes=30)),
        ("sla_warning", "resolution:1:50%", timedelta(hours=4)),
    ]
    # idempotent
    assert len(await sla.start_clocks(uow, case, FAST, None, T0 + timedelta(hours=1))) == 2
    assert len(await uow.timers.pending(case.id)) == 4


async def test_waiting_pauses_resolution_not_first_response_and_keeps_reason_and_note():
    uow, case = await started()
    waiting = Case(case.id, status=CaseStatus.WAITING_ON_CUSTOMER)
    await sla.on_status_changed(
        uow,
        waiting,
        "in_progress",
        "waiting_on_customer",
        "customer_information",
        T0 + timedelta(hours=1),
        note="asked for the invoice number",
    )
    views = {v.clock: v for v in await sla.clocks_of(uow, case.id, T0 + timedelta(hours=3))}
    assert views[SlaClock.RESOLUTION].state is ClockState.PAUSED
    assert views[SlaClock.RESOLUTION].elapsed == timedelta(hours=1)
    (pause,) = views[SlaClock.RESOLUTION].pauses
    assert (pause.reason, pause.note) == ("customer_information", "asked for the invoice number")
    assert views[SlaClock.FIRST_RESPONSE].state is ClockState.BREACHED  # never paused
    # no resolution timers while paused
    assert not [t for t in await uow.timers.pending(case.id) if t.ref.startswith("resolution")]

    back = Case(case.id, status=CaseStatus.IN_PROGRESS)
    await sla.on_status_changed(
        uow, back, "waiting_on_customer", "in_progress", None, T0 + timedelta(hours=3)
    )
    views = {v.clock: v for v in await sla.clocks_of(uow, case.id, T0 + timedelta(hours=3))}
    assert views[SlaClock.RESOLUTION].paused == timedelta(hours=2)
    assert views[SlaClock.RESOLUTION].due_at == T0 + timedelta(hours=10)
    breach = [t for t in await uow.timers.pending(case.id) if t.ref == "resolution:1"]
    assert breach[0].due_at == T0 + timedelta(hours=10)


async def test_a_priority_change_recomputes_keeping_elapsed_and_paused():
    uow, case = await started(priority="normal")  # resolution 40h calendar
    waiting = Case(case.id, priority="normal", status=CaseStatus.WAITING_ON_THIRD_PARTY)
    await sla.on_status_changed(
        uow,
        waiting,
        "in_progress",
        "waiting_on_third_party",
        "third_party_supplier",
        T0 + timedelta(hours=2),
    )
    await sla.on_status_changed(
        uow,
        Case(case.id, priority="normal", status="in_progress"),
        "waiting_on_third_party",
        "in_progress",
        None,
        T0 + timedelta(hours=5),
    )
    await sla.reprioritise(
        uow, Case(case.id, priority="urgent", status="in_progress"), FAST, T0 + timedelta(hours=6)
    )
    views = {v.clock: v for v in await sla.clocks_of(uow, case.id, T0 + timedelta(hours=6))}
    res = views[SlaClock.RESOLUTION]
    assert (res.priority, res.target, res.elapsed, res.paused) == (
        Priority.URGENT,
        timedelta(hours=8),
        timedelta(hours=3),
        timedelta(hours=3),
    )
    assert res.pauses[0].reason == "third_party_supplier"
    assert res.due_at == T0 + timedelta(hours=11)


async def test_meeting_a_clock_cancels_its_timers_and_resolving_meets_the_rest():
    uow, case = await started()
    await sla.meet(uow, case.id, SlaClock.FIRST_RESPONSE, T0 + timedelta(minutes=10))
    assert {t.ref.split(":")[0] for t in await uow.timers.pending(case.id)} == {"resolution"}
    await sla.on_status_changed(
        uow,
        Case(case.id, status="resolved"),
        "in_progress",
        "resolved",
        None,
        T0 + timedelta(hours=2),
    )
    assert await uow.timers.pending(case.id) == []
    states = [v.state for v in await sla.clocks_of(uow, case.id, T0 + timedelta(days=3))]
    assert states == [ClockState.MET, ClockState.MET]


async def test_reopening_starts_resolution_again_as_a_new_cycle():
    uow, case = await started()
    await sla.on_status_changed(
        uow,
        Case(case.id, status="resolved"),
        "in_progress",
        "resolved",
        None,
        T0 + timedelta(hours=2),
    )
    await sla.on_status_changed(
        uow, Case(case.id, status="reopened"), "resolved", "reopened", None, T0 + timedelta(hours=5)
    )
    res = next(
        v
        for v in await sla.clocks_of(uow, case.id, T0 + timedelta(hours=6))
        if v.clock == SlaClock.RESOLUTION
    )
    assert (res.cycle, res.state, res.elapsed) == (2, ClockState.RUNNING, timedelta(hours=1))
    assert len(await uow.clocks.history(case.id)) == 3


async def test_each_customer_contact_starts_next_update_unless_one_already_runs():
    uow, case = await started()
    first = await sla.restart_next_update(uow, case, T0 + timedelta(hours=1))
    again = await sla.restart_next_update(uow, case, T0 + timedelta(hours=2))
    assert (first.cycle, again.cycle, again.started_at) == (1, 1, T0 + timedelta(hours=1))
    await sla.meet(uow, case.id, SlaClock.NEXT_UPDATE, T0 + timedelta(hours=3))
    third = await sla.restart_next_update(uow, case, T0 + timedelta(hours=4))
    assert (third.cycle, third.target) == (2, timedelta(hours=2))


async def test_due_timers_fire_a_warning_then_a_breach_exactly_once():
    uow, case = await started()
    alerts = []

    async def hook(uow_, alert, now):
        alerts.append((alert.kind, alert.clock, alert.threshold))

    timers.KINDS.on_sla_alert(hook)
    try:
        assert await timers.fire_due(uow, T0 + timedelta(minutes=29), 10) == 0
        assert await timers.fire_due(uow, T0 + timedelta(minutes=30), 10, worker="a") == 1
        (warning,) = uow.emitted
        assert isinstance(warning, CaseSlaWarning)
        assert (warning.clock, warning.threshold, warning.due_at) == (
            SlaClock.FIRST_RESPONSE,
            "50%",
            T0 + timedelta(hours=1),
        )
        assert await timers.fire_due(uow, T0 + timedelta(minutes=45), 10) == 0
        assert await timers.fire_due(uow, T0 + timedelta(hours=1, seconds=1), 10, worker="b") == 1
        breach = uow.emitted[-1]
        assert isinstance(breach, CaseSlaBreached)
        assert breach.breached_at == T0 + timedelta(hours=1, seconds=1)
        assert alerts == [
            ("warning", SlaClock.FIRST_RESPONSE, "50%"),
            ("breach", SlaClock.FIRST_RESPONSE, None),
        ]
        fired = sorted((t for t in uow.timers.rows.values() if t.fired_at), key=lambda t: t.due_at)
        assert [(t.fired_by, t.outcome) for t in fired] == [
            ("a", TimerOutcome.FIRED),
            ("b", TimerOutcome.FIRED),
        ]
        views = {v.clock: v for v in await sla.clocks_of(uow, case.id, T0 + timedelta(hours=2))}
        assert views[SlaClock.FIRST_RESPONSE].breached_at == T0 + timedelta(hours=1, seconds=1)
        # a breached clock can still be met, late; it stays recorded as breached
        await sla.meet(uow, case.id, SlaClock.FIRST_RESPONSE, T0 + timedelta(hours=2))
        assert await timers.fire_due(uow, T0 + timedelta(hours=3), 10) == 0
    finally:
        timers.KINDS.sla_alert_hooks.remove(hook)


async def test_a_timer_whose_clock_moved_on_is_stale_and_emits_nothing():
    uow, case = await started()
    stale = Timer(
        kind="sla_warning",
        case_id=case.id,
        ref="first_response:9:50%",
        due_at=T0,
        payload={"clock": "first_response", "cycle": 9, "threshold": "50%"},
    )
    await uow.timers.schedule(stale)
    unknown = Timer(kind="mystery", case_id=case.id, ref="x", due_at=T0)
    await uow.timers.schedule(unknown)
    assert await timers.fire_due(uow, T0, 10) == 2
    assert uow.emitted == []
    assert uow.timers.rows[stale.id].outcome is TimerOutcome.STALE
    assert uow.timers.rows[unknown.id].outcome is TimerOutcome.UNKNOWN_KIND


async def test_registered_kinds_are_dispatched():
    uow, case = await started()
    seen = []

    async def handler(uow_, timer, now):
        seen.append(timer.ref)
        return TimerOutcome.FIRED

    kinds = timers.TimerKinds()
    kinds.register("commitment_due", handler)
    await uow.timers.schedule(Timer(kind="commitment_due", case_id=case.id, ref="c1", due_at=T0))
    await timers.fire_due(uow, T0, 100, kinds=kinds)
    assert seen == ["c1"]


async def test_policies_are_versioned_validated_and_announced():
    uow = FakeUnitOfWork()
    created = await sla.save_policy(uow, FAST, T0, "admin", create=True)
    assert created.version == 1
    with pytest.raises(Conflict):
        await sla.save_policy(uow, FAST, T0, "admin", create=True)
    changed = await sla.save_policy(
        uow, FAST.next_version(name="Faster"), T0, "admin", create=False
    )
    assert (changed.version, changed.name) == (2, "Faster")
    assert (await sla.get_policy(uow, "fast", 1)).name == "Fast"
    assert [e.version_number for e in uow.emitted if isinstance(e, SlaPolicyChanged)] == [1, 2]
    with pytest.raises(Invalid):
        await sla.save_policy(
            uow, DEFAULT_POLICY.next_version(active=False), T0, None, create=False
        )
    # an unknown or inactive policy falls back to the default
    assert (await sla.policy_for(uow, "nope")).id == "default"


async def test_pause_reasons_are_a_managed_list():
    uow = FakeUnitOfWork()
    await sla.check_pause_reason(uow, "customer_information")
    with pytest.raises(Invalid) as refused:
        await sla.check_pause_reason(uow, None)
    assert "reason" in refused.value.by_field()
    await sla.set_pause_reasons(uow, [PauseReason("legal", "Waiting for legal")])
    assert [r.code for r in await sla.pause_reasons(uow)] == ["legal"]
    with pytest.raises(Invalid):
        await sla.set_pause_reasons(uow, [PauseReason("a", "A"), PauseReason("a", "B")])


async def test_a_failing_handler_is_retried_later_and_does_not_block_the_others():
    uow, case = await started()
    seen = []

    async def broken(uow_, timer, now):
        raise RuntimeError("boom")

    async def fine(uow_, timer, now):
        seen.append(timer.ref)
        return TimerOutcome.FIRED

    kinds = timers.TimerKinds()
    kinds.register("broken", broken)
    kinds.register("fine", fine)
    bad = Timer(kind="broken", case_id=case.id, ref="b", due_at=T0)
    await uow.timers.schedule(bad)
    await uow.timers.schedule(Timer(kind="fine", case_id=case.id, ref="f", due_at=T0))
    assert await timers.fire_due(uow, T0, 10, kinds=kinds) == 2
    assert seen == ["f"]
    retried = uow.timers.rows[bad.id]
    assert retried.fired_at is None
    assert retried.due_at == T0 + timers.RETRY_AFTER
    assert "boom" in uow.timers.errors[bad.id]
