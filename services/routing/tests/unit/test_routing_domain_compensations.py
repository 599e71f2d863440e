"""The compensation rules: value rules, approval limits and routing, customer caps, request
decisions and reversal bounds."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from atiende_contracts import CompensationKind, Rank
from atiende_routing.domain.compensations import (
    ApprovalLimit,
    ApprovalLimits,
    ApprovalRequest,
    ApproverRankTooLow,
    CaseFacts,
    CatalogueEntry,
    CustomerCap,
    GrantUsage,
    PeriodUnit,
    RequestStatus,
    ValueRule,
    cap_breaches,
    grant,
    months_before,
    propose,
    rank_of_roles,
    reverse,
)
from atiende_runtime.errors import Conflict, Invalid

NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
D = Decimal


def entry(**fields):
    values = {
        "code": "VOUCHER",
        "kind": CompensationKind.DISCOUNT,
        "descriptions": {"es": "Un bono", "en": "A voucher"},
        "value_rule": ValueRule.UP_TO,
        "currency": "EUR",
        "maximum": D("50.00"),
        **fields,
    }
    return CatalogueEntry(**values)


CASE = CaseFacts(
    id=uuid.uuid4(),
    number="AT-2026-000001",
    type="complaint",
    motive="LATE_DELIVERY",
    customer_id=uuid.uuid4(),
    team="care",
    agent_id="ana",
)


def proposal(amount="20.00", **entry_fields):
    return propose(
        entry(**entry_fields),
        CASE,
        currency="EUR",
        amount=D(amount),
        order_value=None,
        cost_centre=None,
        reason="late twice",
        now=NOW,
    )


def rules_of(error: Invalid) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in error.errors}


# --- value rules ------------------------------------------------------------------------------


def test_a_fixed_entry_always_grants_its_amount():
    fixed = entry(value_rule=ValueRule.FIXED, amount=D("15.00"), maximum=None)
    assert fixed.amount_for("EUR", None, None) == D("15.00")
    assert fixed.amount_for("EUR", D("15.00"), None) == D("15.00")
    with pytest.raises(Invalid) as refused:
        fixed.amount_for("EUR", D("10.00"), None)
    assert rules_of(refused.value) == {("amount", "fixed_amount")}


def test_a_percentage_entry_takes_its_share_of_the_order_capped_at_its_maximum():
    share = entry(value_rule=ValueRule.PERCENTAGE, percent=D("10"), maximum=D("30.00"))
    assert share.amount_for("EUR", None, D("199.95")) == D("20.00")  # 19.995 rounds half up
    assert share.amount_for("EUR", None, D("1000.00")) == D("30.00")
    assert share.amount_for("EUR", D("5.00"), D("100.00")) == D("5.00")
    with pytest.raises(Invalid) as above:
        share.amount_for("EUR", D("10.01"), D("100.00"))
    assert rules_of(above.value) == {("amount", "catalogue_maximum")}
    with pytest.raises(Invalid) as missing:
        share.amount_for("EUR", None, None)
    assert rules_of(missing.value) == {("order_value", "required")}


def test_an_up_to_entry_needs_an_amount_within_its_maximum_in_its_currency():
    up_to = entry()
    assert up_to.amount_for("EUR", D("50.00"), None) == D("50.00")
    for currency, amount, expected in (
        ("EUR", D("50.01"), ("amount", "catalogue_maximum")),
        ("EUR", None, ("amount", "required")),
        ("USD", D("10.00"), ("currency", "catalogue_currency")),
        ("eur", D("10.00"), ("currency", "currency")),
        ("EUR", D("10.001"), ("amount", "decimal_places")),
        ("EUR", D("0"), ("amount", "positive")),
    ):
        with pytest.raises(Invalid) as refused:
            up_to.amount_for(currency, amount, None)
        assert expected in rules_of(refused.value), (currency, amount)


def test_a_catalogue_entry_must_be_coherent_with_its_value_rule():
    assert entry().problems() == []
    broken = entry(
        value_rule=ValueRule.FIXED,
        amount=None,
        maximum=D("10.00"),
        currency="euro",
        descriptions={"fr": "Un bon"},
        case_types=frozenset({"gripe"}),
        valid_from=NOW,
        valid_until=NOW - timedelta(days=1),
    )
    assert {(e.field, e.rule) for e in broken.problems()} == {
        ("amount", "required"),
        ("maximum", "value_rule"),
        ("currency", "currency"),
        ("descriptions.fr", "language"),
        ("case_types", "case_type"),
        ("valid_until", "after_valid_from"),
    }


def test_an_entry_applies_only_when_active_valid_and_meant_for_the_case():
    assert proposal().amount == D("20.00")
    for fields, rule in (
        ({"active": False}, "inactive"),
        ({"valid_until": NOW}, "validity"),
        ({"valid_from": NOW + timedelta(seconds=1)}, "validity"),
        ({"case_types": frozenset({"claim"})}, "case_type"),
        ({"motives": frozenset({"BILLING"})}, "motive"),
    ):
        with pytest.raises(Invalid) as refused:
            proposal(**fields)
        assert rules_of(refused.value) == {("catalogue_code", rule)}, fields


def test_a_proposal_books_the_cost_centre_of_the_entry_unless_one_is_named():
    assert proposal(cost_centre="CC-CARE").cost_centre == "CC-CARE"
    named = propose(
        entry(cost_centre="CC-CARE"),
        CASE,
        currency="EUR",
        amount=D("1.00"),
        order_value=None,
        cost_centre="CC-SALES",
        reason=None,
        now=NOW,
    )
    assert named.cost_centre == "CC-SALES"


# --- limits and approval routing ---------------------------------------------------------------

LIMITS = ApprovalLimits.of(
    [
        ApprovalLimit(Rank.AGENT, "EUR", D("25.00")),
        ApprovalLimit(Rank.SENIOR, "EUR", D("60.00")),
        ApprovalLimit(Rank.SUPERVISOR, "EUR", D("200.00")),
    ]
)


def test_within_the_actors_limit_nobody_else_is_asked():
    assert LIMITS.approver_for(Rank.AGENT, D("25.00"), "EUR") is None
    assert LIMITS.approver_for(Rank.SUPERVISOR, D("200.00"), "EUR") is None


def test_above_the_limit_the_lowest_higher_rank_that_covers_it_is_asked():
    assert LIMITS.approver_for(Rank.AGENT, D("25.01"), "EUR") is Rank.SENIOR
    assert LIMITS.approver_for(Rank.AGENT, D("150.00"), "EUR") is Rank.SUPERVISOR
    assert LIMITS.approver_for(Rank.SENIOR, D("500.00"), "EUR") is Rank.MANAGER


def test_a_rank_without_a_limit_in_a_currency_grants_nothing_at_once_but_a_manager_does():
    assert LIMITS.approver_for(Rank.SUPERVISOR, D("1.00"), "USD") is Rank.MANAGER
    assert LIMITS.approver_for(Rank.MANAGER, D("1000000.00"), "USD") is None


def test_a_configured_manager_limit_bounds_what_anyone_may_grant():
    capped = ApprovalLimits.of([ApprovalLimit(Rank.MANAGER, "EUR", D("1000.00"))])
    with pytest.raises(Invalid) as refused:
        capped.approver_for(Rank.AGENT, D("1000.01"), "EUR")
    assert rules_of(refused.value) == {("amount", "approval_limit")}


def test_the_callers_roles_give_a_rank_when_they_are_no_routing_agent():
    assert rank_of_roles(["agent"]) is Rank.AGENT
    assert rank_of_roles(["agent", "supervisor"]) is Rank.SUPERVISOR
    assert rank_of_roles(["admin"]) is Rank.MANAGER
    assert rank_of_roles(["intake"]) is None


# --- caps --------------------------------------------------------------------------------------


def usage(amount, days_ago, currency="EUR", net=None):
    return GrantUsage(
        uuid.uuid4(), currency, NOW - timedelta(days=days_ago), D(net if net else amount)
    )


def test_a_count_cap_counts_grants_in_its_window_not_those_reversed_in_full():
    cap = CustomerCap("two-a-year", PeriodUnit.MONTHS, 12, max_count=2)
    earlier = [usage("10.00", 30), usage("10.00", 400), usage("10.00", 5, net="0")]
    assert cap_breaches([cap], earlier, D("5.00"), "EUR", NOW) == []
    breaches = cap_breaches([cap], [*earlier, usage("1.00", 1)], D("5.00"), "EUR", NOW)
    assert [(e.field, e.rule) for e in breaches] == [("customer_id", "customer_cap")]


def test_an_amount_cap_counts_what_is_left_of_grants_in_its_currency():
    cap = CustomerCap("100-eur", PeriodUnit.DAYS, 90, max_amount=D("100.00"), currency="EUR")
    earlier = [usage("80.00", 10, net="60.00"), usage("500.00", 10, currency="USD")]
    assert cap_breaches([cap], earlier, D("40.00"), "EUR", NOW) == []
    breaches = cap_breaches([cap], earlier, D("40.01"), "EUR", NOW)
    assert [(e.field, e.rule) for e in breaches] == [("amount", "customer_cap")]
    assert "at most 40.00 more" in breaches[0].message
    assert cap_breaches([cap], earlier, D("999.00"), "USD", NOW) == []
    assert cap_breaches([replace(cap, active=False)], earlier, D("999.00"), "EUR", NOW) == []


def test_months_are_calendar_months():
    assert months_before(NOW, 1) == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert months_before(NOW, 12) == datetime(2025, 3, 31, 10, 0, tzinfo=UTC)
    assert months_before(NOW, 15) == datetime(2024, 12, 31, 10, 0, tzinfo=UTC)


def test_a_cap_must_limit_something_and_an_amount_names_its_currency():
    cap = CustomerCap("empty", PeriodUnit.DAYS, 30, max_amount=D("10.00"))
    assert {(e.field, e.rule) for e in cap.problems()} == {("currency", "required")}
    nothing = CustomerCap("nothing", PeriodUnit.DAYS, 0)
    assert {(e.field, e.rule) for e in nothing.problems()} == {
        ("max_count", "required"),
        ("period_length", "minimum"),
    }


# --- requests ------------------------------------------------------------------------------------


def opened_request():
    return ApprovalRequest.open(
        proposal("150.00", maximum=D("500.00")),
        requested_by="ana",
        rank=Rank.AGENT,
        approver_rank=Rank.SUPERVISOR,
        now=NOW,
    )


def test_a_request_says_whom_it_asks_and_what_for():
    request, event = opened_request()
    assert request.status is RequestStatus.PENDING
    assert (event.approver_rank, event.requested_by_rank, event.amount, event.currency) == (
        Rank.SUPERVISOR,
        Rank.AGENT,
        D("150.00"),
        "EUR",
    )
    assert (event.case_id, event.customer_id, event.team) == (CASE.id, CASE.customer_id, "care")


def test_the_rank_asked_or_above_approves_once_with_a_reason():
    request, _ = opened_request()
    grant_id = uuid.uuid4()
    approved, event = request.approve("marta", Rank.MANAGER, " fair ", NOW, grant_id)
    assert (approved.status, approved.decided_by, approved.grant_id) == (
        RequestStatus.APPROVED,
        "marta",
        grant_id,
    )
    assert (event.reason, event.approver_rank, event.grant_id) == ("fair", Rank.MANAGER, grant_id)
    with pytest.raises(Conflict) as again:
        approved.reject("marta", Rank.MANAGER, "changed my mind", NOW)
    assert [(e.field, e.rule) for e in again.value.errors] == [("status", "decided_once")]


def test_a_lower_rank_may_neither_approve_nor_reject():
    request, _ = opened_request()
    for decide in (
        lambda: request.approve("luis", Rank.SENIOR, "ok", NOW, uuid.uuid4()),
        lambda: request.reject("luis", Rank.SENIOR, "no", NOW),
    ):
        with pytest.raises(ApproverRankTooLow) as refused:
            decide()
        assert [(e.field, e.rule) for e in refused.value.errors] == [("actor", "approver_rank")]


def test_a_decision_needs_a_reason():
    request, _ = opened_request()
    with pytest.raises(Invalid) as refused:
        request.reject("marta", Rank.SUPERVISOR, "  ", NOW)
    assert rules_of(refused.value) == {("reason", "required")}


# --- grants and reversals ------------------------------------------------------------------------


def granted():
    return grant(
        proposal("40.00"),
        actor="ana",
        now=NOW,
        descriptions={"es": "Un bono"},
        language="es",
    )


def test_a_grant_is_a_positive_entry_that_is_its_own_grant():
    entry_, event = granted()
    assert (entry_.amount, entry_.grant_id, entry_.entry_id) == (
        D("40.00"),
        entry_.entry_id,
        event.grant_id,
    )
    assert (event.catalogue_code, event.catalogue_version, event.kind) == (
        "VOUCHER",
        1,
        CompensationKind.DISCOUNT,
    )
    assert event.descriptions == {"es": "Un bono"}


def test_reversals_take_back_at_most_what_remains():
    grant_entry, _ = granted()
    first, event = reverse(
        grant_entry,
        [],
        amount=D("15.00"),
        reason="partly returned",
        actor="marta",
        now=NOW,
        case_number=CASE.number,
    )
    assert (first.amount, first.grant_id, event.amount, event.remaining) == (
        D("-15.00"),
        grant_entry.entry_id,
        D("15.00"),
        D("25.00"),
    )
    with pytest.raises(Invalid) as too_much:
        reverse(
            grant_entry,
            [first],
            amount=D("25.01"),
            reason="all",
            actor="marta",
            now=NOW,
            case_number=CASE.number,
        )
    assert rules_of(too_much.value) == {("amount", "remaining")}
    rest, event = reverse(
        grant_entry, [first], amount=None, reason="all", actor=None, now=NOW, case_number="X"
    )
    assert (rest.amount, event.remaining) == (D("-25.00"), D("0.00"))
    with pytest.raises(Invalid) as nothing_left:
        reverse(
            grant_entry,
            [first, rest],
            amount=None,
            reason="again",
            actor=None,
            now=NOW,
            case_number="X",
        )
    assert rules_of(nothing_left.value) == {("amount", "remaining")}
