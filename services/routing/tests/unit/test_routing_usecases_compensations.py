"""The compensation use cases on the fakes: the catalogue's versions, granting at once or asking
the next rank, approving and rejecting, caps, reversals and the ledger's totals and pages."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from atiende_contracts import (
    CaseStatus,
    CompensationApproved,
    CompensationGranted,
    CompensationKind,
    CompensationRejected,
    CompensationRequested,
    CompensationReversed,
    Rank,
)
from atiende_routing.domain.cases import RoutedCase
from atiende_routing.domain.compensations import (
    ApprovalLimit,
    ApproverRankTooLow,
    CatalogueEntry,
    CustomerCap,
    PeriodUnit,
    RequestStatus,
    ValueRule,
)
from atiende_routing.domain.errors import CaseNotFound, NotPermitted
from atiende_routing.domain.org import Agent
from atiende_routing.repository.compensations import LedgerFilter
from atiende_routing.usecases import compensations
from atiende_runtime.errors import Conflict, Invalid, NotFound

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CUSTOMER = uuid.UUID(int=7)
D = Decimal

ANA = compensations.Actor("ana", frozenset({"agent"}))
MARTA = compensations.Actor("marta@example.com", frozenset({"agent"}))
LUIS = compensations.Actor("luis", frozenset({"agent"}))
ADMIN = compensations.Actor("root", frozenset({"admin"}))


def case(number="AT-2026-000001", **fields):
    values = {
        "id": uuid.uuid4(),
        "number": number,
        "type": "complaint",
        "status": CaseStatus.IN_PROGRESS,
        "opened_at": NOW - timedelta(days=1),
        "team": "care",
        "agent_id": "ana",
        "customer_id": CUSTOMER,
        "motive": "LATE_DELIVERY",
        "language": "en",
        **fields,
    }
    return RoutedCase(**values)


VOUCHER = CatalogueEntry(
    code="VOUCHER",
    kind=CompensationKind.DISCOUNT,
    descriptions={"es": "Un bono de descuento", "en": "A discount voucher"},
    value_rule=ValueRule.UP_TO,
    currency="EUR",
    maximum=D("300.00"),
    cost_centre="CC-CARE",
)


async def world(*cases):
    uow = FakeUnitOfWork(*cases)
    await compensations.save_entry(uow, VOUCHER, NOW, "root", create=True)
    for rank, limit in ((Rank.AGENT, "25.00"), (Rank.SENIOR, "60.00"), (Rank.SUPERVISOR, "200")):
        await compensations.set_limit(uow, ApprovalLimit(rank, "EUR", D(limit)))
    for agent_id, email, rank in (
        ("ana", "ana@example.com", Rank.AGENT),
        ("luis", "luis@example.com", Rank.SENIOR),
        ("marta", "marta@example.com", Rank.SUPERVISOR),
    ):
        await uow.org.add_agent(Agent(agent_id, agent_id.title(), email, ("care",), rank=rank))
    uow.emitted.clear()
    return uow


async def give(uow, case_, amount, actor=ANA, **fields):
    return await compensations.grant_on_case(
        uow,
        case_.id,
        catalogue_code=fields.pop("catalogue_code", "VOUCHER"),
        currency=fields.pop("currency", "EUR"),
        amount=D(amount) if amount is not None else None,
        order_value=None,
        cost_centre=fields.pop("cost_centre", None),
        reason=fields.pop("reason", "late twice"),
        actor=actor,
        now=fields.pop("now", NOW),
    )


async def test_the_catalogue_keeps_every_version_and_deactivates_instead_of_deleting():
    uow = await world()
    changed = CatalogueEntry(**{**VOUCHER.__dict__, "maximum": D("80.00")})
    second = await compensations.save_entry(uow, changed, NOW, "root", create=False)
    off = CatalogueEntry(**{**changed.__dict__, "active": False})
    third = await compensations.save_entry(uow, off, NOW, "root", create=False)
    assert (second.version, third.version, third.active) == (2, 3, False)
    history = await compensations.catalogue_history(uow, "VOUCHER")
    assert [(e.version, e.maximum, e.active) for e in history] == [
        (1, D("300.00"), True),
        (2, D("80.00"), True),
        (3, D("80.00"), False),
    ]
    assert (await compensations.catalogue_entry(uow, "VOUCHER", 1)).maximum == D("300.00")
    with pytest.raises(Conflict):
        await compensations.save_entry(uow, VOUCHER, NOW, "root", create=True)
    with pytest.raises(NotFound):
        await compensations.catalogue_entry(uow, "NOPE")


async def test_within_the_agents_limit_it_is_granted_at_once_into_the_ledger():
    open_case = case()
    uow = await world(open_case)
    outcome = await give(uow, open_case, "25.00")
    assert outcome.request is None
    assert outcome.grant is not None
    [event] = uow.emitted
    assert isinstance(event, CompensationGranted)
    assert (event.amount, event.currency, event.cost_centre, event.granted_by) == (
        D("25.00"),
        "EUR",
        "CC-CARE",
        "ana",
    )
    assert (event.language, event.descriptions["en"]) == ("en", "A discount voucher")
    assert (event.case_number, event.team, event.agent_id, event.customer_id) == (
        open_case.number,
        "care",
        "ana",
        CUSTOMER,
    )
    assert [e.entry_id for e in uow.compensations.ledger_rows] == [outcome.grant.entry_id]
    assert "compensation granted" in uow.cases.entries[-1].summary


async def test_above_the_limit_it_is_asked_of_the_next_rank_that_may_grant_it():
    open_case = case()
    uow = await world(open_case)
    outcome = await give(uow, open_case, "150.00")
    assert outcome.grant is None
    assert outcome.request is not None
    assert outcome.request.approver_rank is Rank.SUPERVISOR
    [event] = uow.emitted
    assert isinstance(event, CompensationRequested)
    assert (event.approver_rank, event.requested_by, event.requested_by_rank) == (
        Rank.SUPERVISOR,
        "ana",
        Rank.AGENT,
    )
    assert uow.compensations.ledger_rows == []


async def test_a_supervisor_approves_and_the_grant_follows_in_the_same_unit_of_work():
    open_case = case()
    uow = await world(open_case)
    request = (await give(uow, open_case, "150.00")).request
    uow.emitted.clear()
    approved, granted = await compensations.approve(
        uow, request.id, reason="loyal customer", actor=MARTA, now=NOW
    )
    assert approved.status is RequestStatus.APPROVED
    assert [type(e) for e in uow.emitted] == [CompensationApproved, CompensationGranted]
    approval, grant_event = uow.emitted
    assert approval.grant_id == grant_event.grant_id == granted.entry_id
    assert (grant_event.granted_by, grant_event.approved_by, grant_event.request_id) == (
        "ana",
        "marta@example.com",
        request.id,
    )
    with pytest.raises(Conflict):
        await compensations.approve(uow, request.id, reason="again", actor=MARTA, now=NOW)
    with pytest.raises(Conflict):
        await compensations.reject(uow, request.id, reason="late", actor=MARTA, now=NOW)


async def test_someone_below_the_rank_asked_cannot_decide_and_nothing_changes():
    open_case = case()
    uow = await world(open_case)
    request = (await give(uow, open_case, "150.00")).request
    uow.emitted.clear()
    with pytest.raises(ApproverRankTooLow):
        await compensations.approve(uow, request.id, reason="ok", actor=LUIS, now=NOW)
    assert uow.emitted == []
    assert uow.compensations.ledger_rows == []
    assert (await compensations.get_request(uow, request.id)).status is RequestStatus.PENDING


async def test_a_rejection_says_why_and_grants_nothing():
    open_case = case()
    uow = await world(open_case)
    request = (await give(uow, open_case, "70.00")).request
    assert request.approver_rank is Rank.SUPERVISOR  # senior's limit is 60
    uow.emitted.clear()
    rejected = await compensations.reject(
        uow, request.id, reason="already refunded", actor=ADMIN, now=NOW
    )
    assert (rejected.status, rejected.decision_reason, rejected.decided_rank) == (
        RequestStatus.REJECTED,
        "already refunded",
        Rank.MANAGER,
    )
    [event] = uow.emitted
    assert isinstance(event, CompensationRejected)
    assert event.rejected_by == "root"
    assert uow.compensations.ledger_rows == []


async def test_pending_requests_are_listed_oldest_first_for_the_ranks_that_may_decide_them():
    open_case = case()
    uow = await world(open_case)
    # asking a senior, a supervisor, a manager
    for minutes, amount in enumerate(("50.00", "150.00", "250.00")):
        await give(uow, open_case, amount, now=NOW + timedelta(minutes=minutes))
    for actor, expected in (
        (LUIS, ["50.00"]),
        (MARTA, ["50.00", "150.00"]),
        (ADMIN, ["50.00", "150.00", "250.00"]),
    ):
        found = await compensations.requests_for(
            uow, actor, status=RequestStatus.PENDING, case_id=None, every_rank=False, limit=10
        )
        assert [str(r.proposal.amount) for r in found] == expected
    every = await compensations.requests_for(
        uow, LUIS, status=None, case_id=open_case.id, every_rank=True, limit=10
    )
    assert len(every) == 3


async def test_a_grant_on_a_closed_case_or_an_unknown_case_is_refused():
    closed = case(status=CaseStatus.CLOSED)
    uow = await world(closed)
    with pytest.raises(Conflict) as refused:
        await give(uow, closed, "10.00")
    assert [(e.field, e.rule) for e in refused.value.errors] == [("case_id", "case_closed")]
    with pytest.raises(CaseNotFound):
        await give(uow, case(), "10.00")
    assert uow.emitted == []


async def test_an_unknown_entry_or_a_caller_without_a_rank_is_refused():
    open_case = case()
    uow = await world(open_case)
    with pytest.raises(Invalid) as unknown:
        await give(uow, open_case, "10.00", catalogue_code="NOPE")
    assert [(e.field, e.rule) for e in unknown.value.errors] == [("catalogue_code", "unknown")]
    with pytest.raises(NotPermitted):
        await give(uow, open_case, "10.00", actor=compensations.Actor("x", frozenset({"intake"})))


async def test_a_cap_refuses_the_grant_that_would_break_it_and_a_reversal_frees_it():
    first_case, second_case = case(), case("AT-2026-000002")
    uow = await world(first_case, second_case)
    await compensations.set_cap(
        uow, CustomerCap("year", PeriodUnit.MONTHS, 12, max_amount=D("40.00"), currency="EUR")
    )
    granted = (await give(uow, first_case, "25.00")).grant
    with pytest.raises(Invalid) as refused:
        await give(uow, second_case, "20.00")
    assert [(e.field, e.rule) for e in refused.value.errors] == [("amount", "customer_cap")]
    assert uow.compensations.locked == [CUSTOMER, CUSTOMER]
    await compensations.reverse_grant(
        uow, granted.grant_id, amount=D("10.00"), reason="returned", actor=ANA, now=NOW
    )
    assert (await give(uow, second_case, "20.00")).grant is not None


async def test_an_approval_that_would_now_break_a_cap_is_a_conflict():
    first_case, second_case = case(), case("AT-2026-000002")
    uow = await world(first_case, second_case)
    await compensations.set_cap(uow, CustomerCap("one", PeriodUnit.DAYS, 30, max_count=1))
    request = (await give(uow, first_case, "150.00")).request
    await give(uow, second_case, "10.00")
    with pytest.raises(Conflict) as refused:
        await compensations.approve(uow, request.id, reason="ok", actor=MARTA, now=NOW)
    assert [(e.field, e.rule) for e in refused.value.errors] == [("customer_id", "customer_cap")]


async def test_reversals_and_the_ledger_totals_per_currency():
    open_case = case()
    uow = await world(open_case)
    granted = (await give(uow, open_case, "20.00")).grant
    later = NOW + timedelta(minutes=1)
    reversal = await compensations.reverse_grant(
        uow, granted.grant_id, amount=None, reason="customer declined", actor=ANA, now=later
    )
    assert reversal.amount == D("-20.00")
    assert isinstance(uow.emitted[-1], CompensationReversed)
    with pytest.raises(Invalid):
        await compensations.reverse_grant(
            uow, granted.grant_id, amount=D("0.01"), reason="again", actor=ANA, now=later
        )
    view = await compensations.grant_view(uow, granted.grant_id)
    assert (view.remaining, [r.entry_id for r in view.reversals]) == (
        D("0.00"),
        [reversal.entry_id],
    )
    page = await compensations.ledger(uow, LedgerFilter(case_id=open_case.id), None, 1)
    assert [e.entry_id for e in page.entries] == [reversal.entry_id]
    assert page.entries[0].case_number == open_case.number
    [total] = page.totals
    assert (total.currency, total.granted, total.reversed, total.net) == (
        "EUR",
        D("20.00"),
        D("20.00"),
        D("0.00"),
    )
    rest = await compensations.ledger(uow, LedgerFilter(case_id=open_case.id), page.next_cursor, 1)
    assert [e.entry_id for e in rest.entries] == [granted.entry_id]
    assert rest.next_cursor is None
    with pytest.raises(Invalid):
        await compensations.ledger(uow, LedgerFilter(), "not-a-cursor", 1)
