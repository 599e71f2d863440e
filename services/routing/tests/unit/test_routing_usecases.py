"""The lifecycle use cases on the fakes: opening, the seven steps' gates, pauses, resolve,
close, reopen, intake's later events, commitments and their timers, escalation, queues."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import (
    Availability,
    CaseAssigned,
    CaseClosed,
    CaseContactLinked,
    CaseEscalated,
    CaseMerged,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseStatusChanged,
    CaseType,
    Channel,
    CommitmentDueSoon,
    CommitmentKept,
    CommitmentMade,
    CommitmentMissed,
    CustomerErased,
    CustomerProfileChanged,
    EscalationReason,
    Formality,
    LinkReason,
    Rank,
    SlaClock,
    Tier,
)
from atiende_routing.domain.cases import CaseStatus, RoutedCase
from atiende_routing.domain.errors import (
    CaseNotFound,
    IllegalTransition,
    NotPermitted,
    StaleCase,
    StepRequired,
)
from atiende_routing.domain.org import Agent, Capacity
from atiende_routing.domain.phrasebook import Phrase
from atiende_routing.domain.root_causes import RootCause, RootCauseCategory
from atiende_routing.domain.steps import Step
from atiende_routing.repository.cases import QueueFilter
from atiende_routing.usecases import commitments, escalation, lifecycle, phrasebook, timers
from atiende_routing.usecases import lifecycle as usecases
from atiende_routing.usecases import steps as steps_usecases
from atiende_runtime.errors import Conflict, Invalid
from atiende_runtime.languages import Register

from ..fakes import FakeUnitOfWork

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NOW = OPENED_AT + timedelta(minutes=2)
CASE_ID = uuid.UUID(int=42)
CUSTOMER = uuid.UUID(int=7)


def opened(case_id=CASE_ID, number="AT-2026-000042", **fields):
    values = {
        "case_id": case_id,
        "case_number": number,
        "customer_id": CUSTOMER,
        "customer_name": "Ana",
        "customer_email": "ana@example.com",
        "type": CaseType.COMPLAINT,
        "channel": Channel.EMAIL,
        "description": "wrong invoice",
        "opened_at": OPENED_AT,
        **fields,
    }
    return CaseOpened(**values)


def of(uow, kind):
    return [e for e in uow.emitted if isinstance(e, kind)]


async def opened_case(uow=None, **fields):
    uow = uow or FakeUnitOfWork()
    await usecases.open_case(uow, opened(**fields), NOW)
    return uow


async def walk(uow, *which, case_id=CASE_ID, at=NOW):
    for step in which:
        extra = {}
        if step is Step.CONFIRMED:
            extra["confirmed"] = True
        if step is Step.OPTIONS:
            extra = {"options": ["refund", "new invoice"], "chosen": "refund"}
        await steps_usecases.record_step(
            uow, case_id, step, f"did {step}", at, actor="ana", **extra
        )


def agent(agent_id="ana", rank=Rank.AGENT, **fields):
    return Agent(
        agent_id,
        agent_id.title(),
        email=f"{agent_id}@example.com",
        teams=("general",),
        rank=rank,
        availability=Availability.AVAILABLE,
        capacity=Capacity(5),
        **fields,
    )


# --- opening ---------------------------------------------------------------------------------------


async def test_an_opened_case_is_routed_queued_clocked_and_told_once():
    uow = await opened_case()
    case = uow.cases.cases[CASE_ID]
    assert (case.status, case.team, case.agent_id, case.assigned_at) == (
        CaseStatus.ASSIGNED,
        "general",
        None,
        NOW,
    )
    assert (case.priority, case.rule_id, case.policy_id) == ("normal", "default", "default")
    assert uow.cases.assignments[CASE_ID] == 1
    [assigned] = of(uow, CaseAssigned)
    assert (assigned.team, assigned.agent_id, assigned.rule_id, assigned.reason) == (
        "general",
        None,
        "default",
        "queued",
    )
    [changed] = of(uow, CaseStatusChanged)
    assert (changed.from_status, changed.to_status) == (CaseStatus.NEW, CaseStatus.ASSIGNED)
    assert set(uow.subjects) == {CASE_ID}
    clocks = {c.name for c in await uow.clocks.current(CASE_ID)}
    assert clocks == {SlaClock.FIRST_RESPONSE, SlaClock.RESOLUTION}
    assert case.sla_due_at is not None  # queues sort by the earliest deadline
    assert [e.kind for e in await uow.cases.timeline(CASE_ID)] == ["opened", "assigned"]


async def test_a_case_already_known_is_not_assigned_again():
    uow = await opened_case()
    again = await usecases.open_case(uow, opened(), NOW + timedelta(hours=1))
    assert again is None
    assert uow.cases.assignments[CASE_ID] == 1
    assert len(of(uow, CaseAssigned)) == 1


async def test_an_available_agent_takes_the_case_at_once():
    uow = FakeUnitOfWork()
    uow.org.agents["ana"] = agent()
    await opened_case(uow)
    assert uow.cases.cases[CASE_ID].agent_id == "ana"
    [assigned] = of(uow, CaseAssigned)
    assert (assigned.agent_id, assigned.agent_email) == ("ana", "ana@example.com")


async def test_the_customers_stated_expectation_prefills_step_3():
    uow = await opened_case(expectation="a corrected invoice")
    [three] = await uow.steps.of_case(CASE_ID)
    assert (three.step, three.text, three.source, three.author) == (
        Step.EXPECTATION,
        "a corrected invoice",
        "intake",
        None,
    )


async def test_an_upset_customers_case_starts_escalated_above_the_agent():
    uow = FakeUnitOfWork()
    uow.org.agents["sara"] = agent("sara", Rank.SENIOR)
    await opened_case(uow, upset=True)
    case = uow.cases.cases[CASE_ID]
    assert (case.escalation, case.responsible_id) == (Rank.SENIOR, "sara")
    [escalated] = of(uow, CaseEscalated)
    assert (escalated.level, escalated.reason, escalated.responsible_id) == (
        Rank.SENIOR,
        EscalationReason.CUSTOMER_UPSET,
        "sara",
    )
    [record] = await uow.escalations.of_case(CASE_ID)
    assert record.reason == "customer_upset"


ISOLATED = RootCause(RootCauseCategory.ISOLATED_INCIDENT)

# --- steps and resolution --------------------------------------------------------------------------


async def test_a_complaint_is_resolved_only_after_steps_3_to_6():
    uow = await opened_case()
    with pytest.raises(StepRequired) as missing:
        await usecases.resolve_case(uow, CASE_ID, "refund", NOW, root_cause=ISOLATED)
    assert missing.value.message == "resolution requires step 3: expectation discovered"
    await walk(uow, Step.EXPECTATION, Step.CONFIRMED, Step.OPTIONS)
    with pytest.raises(StepRequired, match="resolution requires step 6: action taken"):
        await usecases.resolve_case(uow, CASE_ID, "refund", NOW, root_cause=ISOLATED)
    assert not of(uow, CaseResolved)
    await walk(uow, Step.ACTION)
    later = NOW + timedelta(hours=3)
    resolved = await usecases.resolve_case(
        uow, CASE_ID, "refund", later, root_cause=ISOLATED, actor="ana"
    )
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        CaseStatus.RESOLVED,
        "refund",
        later,
    )
    [told] = of(uow, CaseResolved)
    assert told.steps == [
        "3: expectation discovered",
        "4: expectation confirmed",
        "5: solutions offered and one chosen",
        "6: action taken and followed",
    ]
    assert (told.team, told.actor) == ("general", "ana")
    assert await usecases.get_case(uow, CASE_ID) == resolved


async def test_the_gate_can_be_switched_off_and_never_applies_to_other_types():
    uow = await opened_case()
    rules = lifecycle.Rules(require_steps=False)
    assert (
        await usecases.resolve_case(uow, CASE_ID, "ok", NOW, root_cause=ISOLATED, rules=rules)
    ).status == "resolved"
    other = uuid.UUID(int=43)
    await usecases.open_case(
        uow, opened(other, "AT-2026-000043", type=CaseType.INFORMATION_REQUEST), NOW
    )
    assert (await usecases.resolve_case(uow, other, "answered", NOW)).status == "resolved"


async def test_resolving_twice_is_refused_and_changes_nothing():
    uow = await opened_case()
    first = await usecases.resolve_case(
        uow, CASE_ID, "refund", NOW, root_cause=ISOLATED, rules=lifecycle.Rules(require_steps=False)
    )
    with pytest.raises(IllegalTransition) as refused:
        await usecases.resolve_case(
            uow, CASE_ID, "again", NOW + timedelta(days=1), root_cause=ISOLATED
        )
    assert refused.value.title == "Case cannot be resolved"
    assert refused.value.current == CaseStatus.RESOLVED
    assert uow.cases.cases[CASE_ID] == first
    assert len(of(uow, CaseResolved)) == 1


async def test_a_new_case_can_be_resolved_before_it_is_assigned():
    new = RoutedCase(
        id=CASE_ID,
        number="AT-2026-000042",
        type="suggestion",
        status=CaseStatus.NEW,
        opened_at=OPENED_AT,
    )
    uow = FakeUnitOfWork(new)
    resolved = await usecases.resolve_case(uow, CASE_ID, "answered", NOW)
    assert resolved.status is CaseStatus.RESOLVED
    assert resolved.team is None


async def test_step_1_meets_the_first_response_clock():
    uow = await opened_case()
    await walk(uow, Step.RESPECT)
    first = await uow.clocks.get(CASE_ID, SlaClock.FIRST_RESPONSE)
    assert first.met_at == NOW


async def test_closing_needs_both_verifications_or_a_supervisors_waiver():
    uow = await opened_case()
    await walk(uow, Step.EXPECTATION, Step.CONFIRMED, Step.OPTIONS, Step.ACTION)
    await usecases.resolve_case(uow, CASE_ID, "refund", NOW, root_cause=ISOLATED)
    with pytest.raises(StepRequired, match="closing requires step 7a"):
        await usecases.close_case(uow, CASE_ID, NOW)
    with pytest.raises(NotPermitted):
        await usecases.close_case(uow, CASE_ID, NOW, waiver="unreachable", supervisor=False)
    await walk(uow, Step.ACTION_VERIFIED, Step.SATISFACTION_VERIFIED)
    closed = await usecases.close_case(uow, CASE_ID, NOW, actor="ana")
    assert (closed.status, closed.close_reason) == (CaseStatus.CLOSED, "verified")
    [told] = of(uow, CaseClosed)
    assert told.reason == "verified"


async def test_a_supervisor_waives_the_verifications_with_a_reason():
    uow = await opened_case()
    await usecases.resolve_case(
        uow, CASE_ID, "x", NOW, root_cause=ISOLATED, rules=lifecycle.Rules(require_steps=False)
    )
    closed = await usecases.close_case(
        uow, CASE_ID, NOW, waiver="customer unreachable", supervisor=True, actor="boss"
    )
    assert closed.close_reason == "waived"
    assert of(uow, CaseStatusChanged)[-1].note == "customer unreachable"


# --- pauses and status -------------------------------------------------------------------------------


async def test_a_pause_needs_a_reason_from_the_list_and_keeps_it():
    uow = await opened_case()
    with pytest.raises(Invalid) as bad:
        await usecases.change_status(uow, CASE_ID, CaseStatus.WAITING_ON_CUSTOMER, NOW)
    assert "reason" in bad.value.by_field()
    paused = await usecases.change_status(
        uow,
        CASE_ID,
        CaseStatus.WAITING_ON_CUSTOMER,
        NOW,
        reason="customer_information",
        note="asked for the invoice number",
        actor="ana",
    )
    assert (paused.waiting_reason, paused.waiting_note) == (
        "customer_information",
        "asked for the invoice number",
    )
    resolution = await uow.clocks.get(CASE_ID, SlaClock.RESOLUTION)
    assert resolution.pauses[-1].reason == "customer_information"
    assert resolution.pauses[-1].note == "asked for the invoice number"
    assert paused.sla_due_at is not None  # first response never pauses


async def test_the_status_command_only_starts_pauses_and_resumes():
    uow = await opened_case()
    with pytest.raises(Invalid):
        await usecases.change_status(uow, CASE_ID, CaseStatus.RESOLVED, NOW)


async def test_a_stale_version_is_refused():
    uow = await opened_case()
    version = uow.cases.cases[CASE_ID].version
    await usecases.change_status(
        uow, CASE_ID, CaseStatus.IN_PROGRESS, NOW, expected_version=version
    )
    with pytest.raises(StaleCase):
        await usecases.change_status(
            uow,
            CASE_ID,
            CaseStatus.WAITING_ON_THIRD_PARTY,
            NOW,
            reason="third_party_supplier",
            expected_version=version,
        )


# --- reopening and what intake tells later --------------------------------------------------------


def linked(**fields):
    values = {
        "case_id": CASE_ID,
        "case_number": "AT-2026-000042",
        "contact_id": uuid.uuid4(),
        "customer_id": CUSTOMER,
        "channel": Channel.PHONE,
        "reason": LinkReason.CASE_NUMBER,
        "linked_at": NOW,
        **fields,
    }
    return CaseContactLinked(**values)


async def test_a_resolved_case_reopens_when_the_customer_comes_back_within_the_window():
    uow = await opened_case()
    await usecases.resolve_case(
        uow, CASE_ID, "x", NOW, root_cause=ISOLATED, rules=lifecycle.Rules(require_steps=False)
    )
    back = await usecases.contact_linked(uow, linked(), NOW + timedelta(days=3))
    assert back.status is CaseStatus.REOPENED
    [reopened] = of(uow, CaseReopened)
    assert reopened.reason == "customer came back"
    assert (await uow.clocks.get(CASE_ID, SlaClock.RESOLUTION)).cycle == 2


async def test_after_the_window_the_case_stays_closed_with_a_note():
    uow = await opened_case()
    await usecases.resolve_case(
        uow, CASE_ID, "x", NOW, root_cause=ISOLATED, rules=lifecycle.Rules(require_steps=False)
    )
    back = await usecases.contact_linked(uow, linked(), NOW + timedelta(days=15))
    assert back.status is CaseStatus.RESOLVED
    assert not of(uow, CaseReopened)
    assert "new case linked" in (await uow.cases.timeline(CASE_ID))[-1].summary
    with pytest.raises(Conflict, match="open a new case"):
        await usecases.reopen_case(uow, CASE_ID, "asked", NOW + timedelta(days=15))


async def test_a_reply_resumes_a_case_waiting_on_the_customer_and_restarts_next_update():
    uow = await opened_case()
    await usecases.change_status(
        uow, CASE_ID, CaseStatus.WAITING_ON_CUSTOMER, NOW, reason="customer_information"
    )
    back = await usecases.contact_linked(uow, linked(), NOW + timedelta(hours=1))
    assert back.status is CaseStatus.IN_PROGRESS
    assert back.escalation is None
    assert await uow.clocks.get(CASE_ID, SlaClock.NEXT_UPDATE) is not None


async def test_a_repeat_contact_on_an_open_case_escalates_it():
    uow = await opened_case()
    back = await usecases.contact_linked(uow, linked(), NOW + timedelta(hours=1))
    assert back.escalation is Rank.SENIOR
    assert of(uow, CaseEscalated)[-1].reason is EscalationReason.REPEAT_CONTACT


async def test_a_merge_closes_the_absorbed_case_and_moves_its_open_promises():
    uow = await opened_case()
    into = uuid.UUID(int=99)
    await usecases.open_case(uow, opened(into, "AT-2026-000099"), NOW)
    promise, _ = await commitments.make(
        uow,
        CASE_ID,
        description="call back",
        due_at=NOW + timedelta(hours=2),
        now=NOW,
        lead=timedelta(minutes=15),
        owner_id="ana",
    )
    merged = await usecases.merged(
        uow,
        CaseMerged(
            case_id=CASE_ID,
            case_number="AT-2026-000042",
            into_case_id=into,
            into_case_number="AT-2026-000099",
            customer_id=CUSTOMER,
            reason="same invoice",
            merged_at=NOW,
        ),
        NOW,
    )
    assert (merged.status, merged.close_reason, merged.merged_into) == (
        CaseStatus.CLOSED,
        "merged",
        into,
    )
    assert of(uow, CaseClosed)[-1].reason == "merged"
    assert [c.id for c in await uow.commitments.of_case(into)] == [promise.id]
    assert {t.case_id for t in uow.timers.rows.values() if t.kind.startswith("commitment")} == {
        into
    }
    assert await uow.clocks.current(CASE_ID)  # its clocks' history stays


async def test_profile_changes_reach_open_cases():
    uow = await opened_case()
    tier = list(Tier)[-1]
    changed = await usecases.profile_changed(
        uow,
        CustomerProfileChanged(
            customer_id=CUSTOMER,
            tier=tier,
            language="en",
            formality=Formality.INFORMAL,
            consent_surveys=True,
            consent_marketing=False,
            changed_at=NOW,
        ),
    )
    assert changed == 1
    case = uow.cases.cases[CASE_ID]
    assert (case.tier, case.language, case.formality) == (tier.value, "en", "informal")


async def test_an_erased_customers_free_text_is_pseudonymised():
    uow = await opened_case(expectation="refund to ES12 3456")
    await walk(uow, Step.CONFIRMED)
    await commitments.make(
        uow,
        CASE_ID,
        description="call Ana on 600 123 456",
        due_at=NOW + timedelta(hours=2),
        now=NOW,
        lead=timedelta(minutes=15),
        owner_id="ana",
        to_whom="Ana",
    )
    await usecases.erased(
        uow, CustomerErased(customer_id=CUSTOMER, case_ids=[CASE_ID], erased_at=NOW)
    )
    assert {s.text for s in await uow.steps.of_case(CASE_ID)} == {"[erased]"}
    [c] = await uow.commitments.of_case(CASE_ID)
    assert (c.description, c.to_whom) == ("[erased]", "[erased]")
    assert uow.cases.cases[CASE_ID].expectation == "[erased]"
    texts = [
        e.summary for e in await uow.cases.timeline(CASE_ID) if e.kind in ("step", "commitment")
    ]
    assert texts
    assert set(texts) == {"[erased]"}
    [(subjects, keys)] = uow.scrubbed  # and its outbox and stored responses
    assert subjects == {str(CUSTOMER), str(CASE_ID)}
    assert {"description", "to_whom", "note", "resolution"} <= keys


# --- commitments and escalation ---------------------------------------------------------------------


async def test_a_commitment_reminds_then_misses_and_escalates():
    uow = await opened_case()
    due = NOW + timedelta(hours=1)
    promise, version = await commitments.make(
        uow,
        CASE_ID,
        description="call back before twelve",
        due_at=due,
        now=NOW,
        lead=timedelta(minutes=15),
        actor="ana",
    )
    assert promise.owner_id == "ana"  # nobody holds the case: who promised keeps it
    assert version == uow.cases.cases[CASE_ID].version
    [made] = of(uow, CommitmentMade)
    assert made.due_at == due
    kinds = timers.TimerKinds()
    commitments.register(kinds)
    await timers.fire_due(uow, due - timedelta(minutes=15), 10, kinds=kinds)
    [soon] = of(uow, CommitmentDueSoon)
    assert soon.commitment_id == promise.id
    await timers.fire_due(uow, due, 10, kinds=kinds)
    [missed] = of(uow, CommitmentMissed)
    assert missed.commitment_id == promise.id
    assert of(uow, CaseEscalated)[-1].reason is EscalationReason.COMMITMENT_MISSED
    assert uow.cases.cases[CASE_ID].escalation is Rank.SENIOR
    await timers.fire_due(uow, due + timedelta(hours=1), 10, kinds=kinds)
    assert len(of(uow, CommitmentMissed)) == 1  # exactly once


async def test_a_kept_commitment_cancels_its_timers():
    uow = await opened_case()
    promise, _ = await commitments.make(
        uow,
        CASE_ID,
        description="send the invoice",
        due_at=NOW + timedelta(hours=1),
        now=NOW,
        lead=timedelta(minutes=15),
        owner_id="ana",
    )
    kept, _ = await commitments.keep(uow, CASE_ID, promise.id, NOW, actor="ana")
    assert kept.kept_at == NOW
    assert of(uow, CommitmentKept)
    assert not [t for t in uow.timers.rows.values() if t.kind.startswith("commitment")]
    with pytest.raises(Conflict):
        await commitments.keep(uow, CASE_ID, promise.id, NOW)


async def test_a_commitment_in_the_past_is_refused():
    uow = await opened_case()
    with pytest.raises(Invalid) as bad:
        await commitments.make(
            uow,
            CASE_ID,
            description="x",
            due_at=NOW - timedelta(minutes=1),
            now=NOW,
            lead=timedelta(minutes=15),
            owner_id="ana",
        )
    assert bad.value.by_field()["due_at"].rule == "future"
    assert not of(uow, CommitmentMade)


async def test_only_a_supervisor_brings_a_case_down():
    uow = await opened_case()
    await escalation.escalate(uow, CASE_ID, EscalationReason.MANUAL, NOW, level=Rank.SUPERVISOR)
    with pytest.raises(NotPermitted):
        await escalation.deescalate(uow, CASE_ID, "calm", NOW, supervisor=False)
    down = await escalation.deescalate(uow, CASE_ID, "calm now", NOW, supervisor=True, actor="boss")
    assert down.escalation is Rank.SENIOR
    assert [r.direction for r in await uow.escalations.of_case(CASE_ID)] == ["up", "down"]


# --- reading ---------------------------------------------------------------------------------------


async def test_queues_put_escalated_cases_first_and_page_with_a_cursor():
    uow = FakeUnitOfWork()
    for n in range(1, 6):
        await usecases.open_case(
            uow, opened(uuid.UUID(int=n), f"AT-{n}"), NOW + timedelta(minutes=n)
        )
    await escalation.escalate(uow, uuid.UUID(int=5), EscalationReason.MANUAL, NOW)
    first, cursor = await usecases.queue(uow, QueueFilter(team="general"), None, 2)
    assert first[0].id == uuid.UUID(int=5)
    assert cursor is not None
    rest, end = await usecases.queue(uow, QueueFilter(team="general"), cursor, 10)
    assert end is None
    seen = [c.id for c in first + rest]
    assert sorted(seen) == [uuid.UUID(int=n) for n in range(1, 6)]
    assert len(set(seen)) == 5
    with pytest.raises(Invalid):
        await usecases.queue(uow, QueueFilter(), "not-a-cursor", 10)


async def test_the_case_gets_phrases_in_its_customers_language_and_register():
    uow = await opened_case(language="en", formality=Formality.INFORMAL)
    uow.phrasebook.items = [
        Phrase("en", Register.INFORMAL, 0, "I'm on it."),
        Phrase("en", Register.FORMAL, 0, "I will see to it."),
        Phrase("es", Register.INFORMAL, 0, "Me encargo."),
    ]
    assert [p.text for p in await phrasebook.phrases_for_case(uow, CASE_ID)] == ["I'm on it."]


async def test_an_unknown_case_is_not_found():
    uow = FakeUnitOfWork()
    unknown = uuid.UUID(int=404)
    with pytest.raises(CaseNotFound) as missing:
        await usecases.get_case(uow, unknown)
    assert missing.value.title == "Case not found"
    assert str(unknown) in missing.value.message
    with pytest.raises(CaseNotFound):
        await usecases.resolve_case(uow, unknown, "refund", NOW)
    assert uow.emitted == []


async def test_a_reclassification_reroutes_when_the_outcome_changes():
    from atiende_contracts import CaseReclassified, Classification
    from atiende_routing.domain.org import Team
    from atiende_routing.domain.rules import Condition, Operator, Outcome, RoutingRule

    uow = await opened_case()
    uow.org.teams["billing"] = Team("billing", "Billing")
    uow.rules.heads["billing"] = RoutingRule(
        "billing",
        "Billing motives",
        (Condition("motive", Operator.EQUALS, ("billing",)),),
        Outcome(team="billing", priority="high"),
        position=1,
    )
    before = Classification(type=CaseType.COMPLAINT)
    after = Classification(type=CaseType.COMPLAINT, motive="billing")
    moved = await usecases.reclassified(
        uow,
        CaseReclassified(
            case_id=CASE_ID,
            case_number="AT-2026-000042",
            before=before,
            after=after,
            reason="it is about an invoice",
            reclassified_at=NOW,
        ),
        NOW,
    )
    assert (moved.team, moved.priority, moved.motive, moved.rule_id) == (
        "billing",
        "high",
        "billing",
        "billing",
    )
    assert of(uow, CaseAssigned)[-1].reason == "reclassified"
    assert {c.priority for c in await uow.clocks.current(CASE_ID)} == {"high"}
    same = await usecases.reclassified(
        uow,
        CaseReclassified(
            case_id=CASE_ID,
            case_number="AT-2026-000042",
            before=after,
            after=after,
            reason="again",
            reclassified_at=NOW,
        ),
        NOW,
    )
    assert same.team == "billing"
    assert len(of(uow, CaseAssigned)) == 2  # nothing moved the second time
