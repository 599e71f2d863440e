"""The closed loop with surveys on the fakes: a detractor's answer opens one escalated recovery
case for the agent who handled the original (or the next rank up); a satisfied answer records
step 7b only where the seven steps allow it."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from atiende_contracts import (
    Availability,
    CaseAssigned,
    CaseEscalated,
    CaseOpened,
    CaseStatusChanged,
    CaseType,
    Channel,
    EscalationReason,
    Rank,
    SurveyAnswered,
    SurveyDetractor,
    Tier,
)
from atiende_routing.domain.cases import CaseStatus
from atiende_routing.domain.org import Agent, Capacity
from atiende_routing.domain.recovery import recovery_id, recovery_number, shows_satisfaction
from atiende_routing.domain.root_causes import RootCause, RootCauseCategory
from atiende_routing.domain.steps import Step
from atiende_routing.usecases import feedback, lifecycle
from atiende_routing.usecases import steps as steps_usecases

from ..fakes import FakeUnitOfWork

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NOW = OPENED_AT + timedelta(days=3)
CASE_ID = uuid.UUID(int=42)
NUMBER = "AT-2026-000042"
CUSTOMER = uuid.UUID(int=7)
INVITATION = uuid.UUID(int=900)


def agent(agent_id="ana", rank=Rank.AGENT, availability=Availability.AVAILABLE):
    return Agent(
        agent_id,
        agent_id.title(),
        email=f"{agent_id}@example.com",
        teams=("general",),
        rank=rank,
        availability=availability,
        capacity=Capacity(5),
    )


def of(uow, kind):
    return [e for e in uow.emitted if isinstance(e, kind)]


def detractor(invitation=INVITATION, case_id=CASE_ID, **fields):
    values = {
        "invitation_id": invitation,
        "case_id": case_id,
        "case_number": NUMBER,
        "customer_id": CUSTOMER,
        "agent_id": "ana",
        "team": "general",
        "questionnaire_kind": "nps",
        "scores": {"nps": 3.0},
        "reasons": ["nps<=6"],
        "comment": "nobody called me back",
        "detected_at": NOW,
        **fields,
    }
    return SurveyDetractor(**values)


def answered(satisfaction=5, scores=None, **fields):
    return SurveyAnswered(
        invitation_id=INVITATION,
        case_id=CASE_ID,
        satisfaction=satisfaction,
        answered_at=NOW,
        questionnaire_kind="csat",
        customer_id=CUSTOMER,
        scores=scores,
        **fields,
    )


async def handled_by_ana(**fields):
    """A complaint opened, routed to ana (available) and resolved after steps 3 to 6."""
    uow = FakeUnitOfWork()
    uow.org.agents["ana"] = agent()
    event = CaseOpened(
        case_id=CASE_ID,
        case_number=NUMBER,
        customer_id=CUSTOMER,
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.CLAIM,
        channel=Channel.EMAIL,
        description="wrong invoice",
        opened_at=OPENED_AT,
        tier=Tier.VIP,
        language="es",
        product="fibre",
        **fields,
    )
    await lifecycle.open_case(uow, event, OPENED_AT)
    await walk(uow, Step.EXPECTATION, Step.CONFIRMED, Step.OPTIONS, Step.ACTION)
    await lifecycle.resolve_case(
        uow,
        CASE_ID,
        "refund made",
        OPENED_AT + timedelta(days=1),
        root_cause=RootCause(RootCauseCategory.ISOLATED_INCIDENT),
    )
    uow.emitted.clear()
    uow.subjects.clear()
    return uow


async def walk(uow, *which):
    for step in which:
        extra = {}
        if step is Step.CONFIRMED:
            extra["confirmed"] = True
        if step is Step.OPTIONS:
            extra = {"options": ["refund", "new invoice"], "chosen": "refund"}
        await steps_usecases.record_step(
            uow, CASE_ID, step, f"did {step}", OPENED_AT + timedelta(hours=1), actor="ana", **extra
        )


# --- recovery cases ----------------------------------------------------------------------------


def test_recovery_ids_and_numbers_are_deterministic():
    assert recovery_id(CASE_ID, INVITATION) == recovery_id(CASE_ID, INVITATION)
    assert recovery_id(CASE_ID, INVITATION) != recovery_id(CASE_ID, uuid.UUID(int=901))
    assert [recovery_number(NUMBER, n) for n in range(3)] == [
        f"{NUMBER}-R",
        f"{NUMBER}-R2",
        f"{NUMBER}-R3",
    ]


async def test_a_detractor_opens_an_escalated_recovery_case_for_the_agent_who_handled_it():
    uow = await handled_by_ana()
    uow.org.agents["sara"] = agent("sara", Rank.SENIOR)
    original = uow.cases.cases[CASE_ID]

    case = await feedback.open_recovery(uow, detractor(), NOW)

    assert case is not None
    stored = uow.cases.cases[case.id]
    assert stored == case
    assert (case.id, case.number, case.type, case.recovery_of) == (
        recovery_id(CASE_ID, INVITATION),
        f"{NUMBER}-R",
        "complaint",
        CASE_ID,
    )
    assert (case.status, case.team, case.agent_id) == (CaseStatus.ASSIGNED, "general", "ana")
    assert (case.escalation, case.responsible_id) == (Rank.SENIOR, "sara")
    # the customer's facts and the original's policy and priority
    assert (case.customer_id, case.tier, case.language, case.product, case.channel) == (
        CUSTOMER,
        "vip",
        "es",
        "fibre",
        "email",
    )
    assert (case.policy_id, case.priority) == (original.policy_id, original.priority)
    assert case.opened_at == NOW
    clocks = await uow.clocks.current(case.id)
    assert {c.name for c in clocks} == {"first_response", "resolution"}
    assert case.sla_due_at is not None
    # the usual events, in order: assigned (status and case.assigned), then escalated
    assert [type(e) for e in uow.emitted] == [CaseStatusChanged, CaseAssigned, CaseEscalated]
    changed, assigned, escalated = uow.emitted
    assert (changed.from_status, changed.to_status, changed.reason) == (
        CaseStatus.NEW,
        CaseStatus.ASSIGNED,
        "recovery",
    )
    assert (assigned.case_number, assigned.agent_id, assigned.reason) == (
        f"{NUMBER}-R",
        "ana",
        "recovery",
    )
    assert (escalated.reason, escalated.level, escalated.actor) == (
        EscalationReason.DETRACTOR,
        Rank.SENIOR,
        "surveys",
    )
    assert set(uow.subjects) == {case.id}
    # both timelines link the two cases; the original itself is untouched
    recovery_words = [e.summary for e in await uow.cases.timeline(case.id)]
    assert any(f"recovery of case {NUMBER}" in w and "nps 3" in w for w in recovery_words)
    assert any("nobody called me back" in w for w in recovery_words)
    original_words = [e.summary for e in await uow.cases.timeline(CASE_ID)]
    assert any(f"recovery case {NUMBER}-R opened" in w for w in original_words)
    assert uow.cases.cases[CASE_ID].status is CaseStatus.RESOLVED
    assert await uow.cases.recoveries_of(CASE_ID) == [case]


async def test_a_redelivered_detractor_is_a_no_op():
    uow = await handled_by_ana()
    first = await feedback.open_recovery(uow, detractor(), NOW)
    emitted = list(uow.emitted)
    notes = len(uow.cases.entries)

    again = await feedback.open_recovery(uow, detractor(), NOW + timedelta(minutes=1))

    assert again is None
    assert first is not None
    assert await uow.cases.recoveries_of(CASE_ID) == [uow.cases.cases[first.id]]
    assert uow.emitted == emitted
    assert len(uow.cases.entries) == notes
    assert uow.cases.assignments[first.id] == 1


async def test_another_detractor_answer_opens_the_next_recovery_number():
    uow = await handled_by_ana()
    await feedback.open_recovery(uow, detractor(), NOW)
    second = await feedback.open_recovery(
        uow, detractor(invitation=uuid.UUID(int=901)), NOW + timedelta(days=30)
    )
    assert second is not None
    assert second.number == f"{NUMBER}-R2"
    assert [c.number for c in await uow.cases.recoveries_of(CASE_ID)] == [
        f"{NUMBER}-R",
        f"{NUMBER}-R2",
    ]


async def test_when_the_agent_cannot_work_their_supervisor_takes_the_recovery_case():
    uow = await handled_by_ana()
    uow.org.agents["ana"] = agent(availability=Availability.OFFLINE)
    uow.org.agents["sofia"] = agent("sofia", Rank.SUPERVISOR)

    case = await feedback.open_recovery(uow, detractor(), NOW)

    assert case is not None
    assert case.agent_id == "sofia"
    [assigned] = of(uow, CaseAssigned)
    assert (assigned.agent_id, assigned.reason) == ("sofia", "recovery")
    [escalated] = of(uow, CaseEscalated)
    assert escalated.reason is EscalationReason.DETRACTOR


async def test_with_nobody_to_take_it_the_recovery_case_waits_in_the_team_queue_escalated():
    uow = await handled_by_ana()
    uow.org.agents["ana"] = agent(availability=Availability.OFFLINE)

    case = await feedback.open_recovery(uow, detractor(), NOW)

    assert case is not None
    assert (case.status, case.team, case.agent_id, case.escalation) == (
        CaseStatus.ASSIGNED,
        "general",
        None,
        Rank.SENIOR,
    )
    [escalated] = of(uow, CaseEscalated)
    assert escalated.responsible_id is None


async def test_a_detractor_about_a_case_routing_never_saw_does_nothing():
    uow = await handled_by_ana()
    unknown = uuid.UUID(int=404)
    before = dict(uow.cases.cases)

    assert await feedback.open_recovery(uow, detractor(case_id=unknown), NOW) is None
    assert await feedback.open_recovery(uow, detractor(case_id=unknown), NOW) is None

    assert uow.cases.cases == before
    assert uow.emitted == []


# --- satisfaction verified (step 7b) -----------------------------------------------------------


def test_satisfaction_reads_csat_first_then_the_1_to_5_answer():
    assert shows_satisfaction({"csat": 4.0}, 1)
    assert not shows_satisfaction({"csat": 3.0}, 5)
    assert shows_satisfaction({"nps": 9.0}, 4)
    assert shows_satisfaction(None, 5)
    assert not shows_satisfaction(None, 3)


async def test_a_satisfied_answer_records_step_7b_by_the_survey():
    uow = await handled_by_ana()
    await walk(uow, Step.ACTION_VERIFIED)
    version = uow.cases.cases[CASE_ID].version

    record = await feedback.survey_answered(uow, answered(scores={"csat": 5.0}), NOW)

    assert record is not None
    [seven_b] = [
        r for r in await uow.steps.of_case(CASE_ID) if r.step is Step.SATISFACTION_VERIFIED
    ]
    assert (seven_b.author, seven_b.recorded_at) == ("surveys", NOW)
    assert "CSAT 5" in seven_b.text
    assert uow.cases.cases[CASE_ID].version == version + 1
    # once: a later satisfied answer changes nothing
    assert await feedback.survey_answered(uow, answered(satisfaction=4), NOW) is None
    assert [r.recorded_at for r in await uow.steps.of_case(CASE_ID) if r.step == "7b"] == [NOW]
    # and the complaint can now be closed as verified
    closed = await lifecycle.close_case(uow, CASE_ID, NOW + timedelta(minutes=5))
    assert closed.close_reason == "verified"


async def test_the_satisfaction_field_counts_when_there_is_no_csat_score():
    uow = await handled_by_ana()
    await walk(uow, Step.ACTION_VERIFIED)
    assert await feedback.survey_answered(uow, answered(satisfaction=4), NOW) is not None


async def test_an_unsatisfied_answer_records_nothing():
    uow = await handled_by_ana()
    await walk(uow, Step.ACTION_VERIFIED)
    notes = len(uow.cases.entries)
    assert await feedback.survey_answered(uow, answered(1, scores={"csat": 2.0}), NOW) is None
    assert Step.SATISFACTION_VERIFIED not in {r.step for r in await uow.steps.of_case(CASE_ID)}
    assert len(uow.cases.entries) == notes


async def test_without_step_7a_the_answer_is_a_timeline_note_not_a_step():
    uow = await handled_by_ana()

    assert await feedback.survey_answered(uow, answered(), NOW) is None

    assert Step.SATISFACTION_VERIFIED not in {r.step for r in await uow.steps.of_case(CASE_ID)}
    [last] = (await uow.cases.timeline(CASE_ID))[-1:]
    assert (last.kind, last.actor) == ("note", "surveys")
    assert "step 7b" in last.summary
    assert "requires step 7a" in last.summary
    assert uow.emitted == []


async def test_a_closed_or_reopened_case_takes_no_step_only_a_note():
    uow = await handled_by_ana()
    stored = uow.cases.cases[CASE_ID]
    for status in (CaseStatus.CLOSED, CaseStatus.REOPENED):
        uow.cases.cases[CASE_ID] = replace(stored, status=status)
        assert await feedback.survey_answered(uow, answered(), NOW) is None
        last = (await uow.cases.timeline(CASE_ID))[-1]
        assert f"the case is {status}" in last.summary
    assert Step.SATISFACTION_VERIFIED not in {r.step for r in await uow.steps.of_case(CASE_ID)}


async def test_an_answer_about_an_unknown_case_does_nothing():
    uow = FakeUnitOfWork()
    assert await feedback.survey_answered(uow, answered(), NOW) is None
    assert uow.cases.entries == []
