"""The "one case per problem" decision and the contact commands, without I/O."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from atiende_contracts import ContactKind, LinkReason
from atiende_intake.domain.contacts import (
    CaseRef,
    CaseStatus,
    Outcome,
    decide_case,
)
from atiende_intake.entrypoints.http.cases import OpenCase
from atiende_intake.entrypoints.http.contacts import RecordContact
from atiende_intake.repository.locks import serialisation_key

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
CUSTOMER = uuid.uuid4()


def case(days_ago=1.0, status=CaseStatus.OPEN, number="AT-2026-000001"):
    return CaseRef(
        id=uuid.uuid4(),
        number=number,
        customer_id=CUSTOMER,
        motive="DELIVERY",
        status=status,
        opened_at=NOW - timedelta(days=days_ago),
    )


@pytest.mark.parametrize(
    "kind", [ContactKind.COMPLAINT, ContactKind.CLAIM, ContactKind.INFORMATION_REQUEST]
)
def test_a_problem_without_an_open_case_opens_one(kind):
    assert decide_case(kind, None, [], NOW, WINDOW).outcome is Outcome.OPENED


@pytest.mark.parametrize("kind", [ContactKind.SUGGESTION, ContactKind.COMPLIMENT])
def test_suggestions_and_compliments_only_record_even_beside_an_open_case(kind):
    decision = decide_case(kind, None, [case()], NOW, WINDOW)

    assert (decision.outcome, decision.case) == (Outcome.RECORDED, None)


def test_a_repeat_complaint_joins_the_newest_open_case_in_the_window():
    older, newer = case(days_ago=10), case(days_ago=2, number="AT-2026-000002")

    decision = decide_case(ContactKind.COMPLAINT, None, [older, newer], NOW, WINDOW)

    assert (decision.outcome, decision.case, decision.reason) == (
        Outcome.JOINED,
        newer,
        LinkReason.SAME_PROBLEM,
    )


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_a_case_no_longer_open_is_not_joined(status):
    decision = decide_case(ContactKind.COMPLAINT, None, [case(status=status)], NOW, WINDOW)

    assert decision.outcome is Outcome.OPENED


def test_the_window_is_inclusive_and_measured_from_when_the_contact_was_received():
    at_the_edge = case(days_ago=30)
    just_outside = case(days_ago=30.001)

    assert decide_case(ContactKind.CLAIM, None, [at_the_edge], NOW, WINDOW).outcome is (
        Outcome.JOINED
    )
    assert decide_case(ContactKind.CLAIM, None, [just_outside], NOW, WINDOW).outcome is (
        Outcome.OPENED
    )
    # a letter received before the case was opened (recorded late) is about the same problem
    received_earlier = NOW - timedelta(days=40)
    assert decide_case(ContactKind.CLAIM, None, [case()], received_earlier, WINDOW).outcome is (
        Outcome.JOINED
    )


def test_a_zero_window_never_joins_an_earlier_case():
    decision = decide_case(ContactKind.COMPLAINT, None, [case(days_ago=0.0001)], NOW, timedelta())

    assert decision.outcome is Outcome.OPENED


@pytest.mark.parametrize("kind", list(ContactKind))
def test_a_named_case_is_always_joined_whatever_the_kind_or_status(kind):
    named = case(days_ago=400, status=CaseStatus.RESOLVED)

    decision = decide_case(kind, named, [case()], NOW, WINDOW)

    assert (decision.outcome, decision.case, decision.reason) == (
        Outcome.JOINED,
        named,
        LinkReason.CASE_NUMBER,
    )


def test_serialisation_keys_are_stable_signed_64_bit_and_distinct_per_natural_key():
    key = serialisation_key("identity", "email", "", "ana@example.com")

    assert key == serialisation_key("identity", "email", "", "ana@example.com")
    assert -(2**63) <= key < 2**63
    assert key != serialisation_key("identity", "email", "", "luis@example.com")
    # parts are separated, so ("ab", "c") and ("a", "bc") differ
    assert serialisation_key("ab", "c") != serialisation_key("a", "bc")


def contact_body(**changes):
    return {
        "customer": {"email": "ana@example.com"},
        "kind": "complaint",
        "channel": "phone",
        "text": "Late again",
        **changes,
    }


def error_fields(model, body):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [".".join(map(str, e["loc"])) for e in caught.value.errors()]


def test_a_cause_needs_its_motive_and_the_error_names_the_cause():
    assert error_fields(RecordContact, contact_body(cause="DELIVERY_LATE")) == ["cause"]
    # a motive that is itself invalid is the only error reported
    assert error_fields(RecordContact, contact_body(motive="late", cause="DELIVERY_LATE")) == [
        "motive"
    ]


def test_a_contact_cannot_be_received_in_the_future_nor_without_a_time_zone():
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    assert error_fields(RecordContact, contact_body(received_at=tomorrow)) == ["received_at"]
    assert error_fields(RecordContact, contact_body(received_at="2026-01-01T10:00:00")) == [
        "received_at"
    ]


def test_an_opened_case_becomes_the_contact_it_was_opened_for():
    command = OpenCase.model_validate(
        {
            "customer": {"name": "Ana", "email": "ana@example.com"},
            "type": "claim",
            "channel": "letter",
            "description": "  Refund please  ",
            "motive": "BILLING",
            "cause": "BILLING_DUPLICATE_CHARGE",
            "severity": "high",
            "upset": True,
            "agent_id": "agent-7",
        }
    )

    contact = command.as_contact()

    assert contact.kind is ContactKind.CLAIM
    assert contact.text == "Refund please"
    assert (contact.motive, contact.cause, contact.severity, contact.upset, contact.agent_id) == (
        "BILLING",
        "BILLING_DUPLICATE_CHARGE",
        "high",
        True,
        "agent-7",
    )
    assert contact.case_number is None


def test_an_opened_case_refuses_a_cause_without_a_motive_like_a_contact_does():
    body = {
        "customer": {"email": "ana@example.com"},
        "type": "complaint",
        "channel": "phone",
        "description": "x",
        "cause": "DELIVERY_LATE",
    }

    assert error_fields(OpenCase, body) == ["cause"]
