import uuid
from datetime import UTC, datetime

import pytest

from atiende_routing.domain.errors import StepRequired
from atiende_routing.domain.steps import (
    Step,
    check_closable,
    check_resolvable,
    parse_step,
    record,
    summary,
)
from atiende_runtime.errors import Conflict, Invalid

AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CASE = uuid.UUID(int=1)


def test_a_complaint_is_resolved_only_after_steps_3_to_6_named_in_order():
    done: list[Step] = []
    for step, label in [
        (Step.EXPECTATION, "3: expectation discovered"),
        (Step.CONFIRMED, "4: expectation confirmed"),
        (Step.OPTIONS, "5: solutions offered and one chosen"),
        (Step.ACTION, "6: action taken and followed"),
    ]:
        with pytest.raises(StepRequired) as missing:
            check_resolvable(True, done)
        assert isinstance(missing.value, Conflict)
        assert missing.value.message == f"resolution requires step {label}"
        assert missing.value.errors[0].field == f"steps.{step.value}"
        done.append(step)
    check_resolvable(True, done)


def test_other_cases_have_no_gate():
    check_resolvable(False, [])
    check_closable(False, [], None)


def test_closing_needs_both_verifications_or_a_reasoned_waiver():
    with pytest.raises(StepRequired, match="closing requires step 7a: action verified"):
        check_closable(True, [], None)
    with pytest.raises(StepRequired, match="7b: customer satisfaction verified"):
        check_closable(True, [Step.ACTION_VERIFIED], None)
    check_closable(True, [Step.ACTION_VERIFIED, Step.SATISFACTION_VERIFIED], None)
    check_closable(True, [], "customer cannot be reached after three attempts")
    with pytest.raises(StepRequired):
        check_closable(True, [], "   ")


def test_a_step_builds_on_the_one_before_it():
    with pytest.raises(StepRequired, match="step 4 requires step 3"):
        record(
            CASE,
            Step.CONFIRMED,
            "you want a refund",
            author="ana",
            at=AT,
            recorded=[],
            confirmed=True,
        )
    with pytest.raises(StepRequired, match="step 7b requires step 7a"):
        record(
            CASE, Step.SATISFACTION_VERIFIED, "happy", author="ana", at=AT, recorded=[Step.ACTION]
        )
    ok = record(
        CASE,
        Step.CONFIRMED,
        "you want a refund",
        author="ana",
        at=AT,
        recorded=[Step.EXPECTATION],
        confirmed=True,
    )
    assert (ok.step, ok.author, ok.recorded_at, ok.text) == (
        Step.CONFIRMED,
        "ana",
        AT,
        "you want a refund",
    )


def test_step_content_rules_name_their_fields():
    with pytest.raises(Invalid) as bad:
        record(CASE, Step.OPTIONS, " ", author=None, at=AT, recorded=[])
    assert set(bad.value.by_field()) == {"text", "options"}
    with pytest.raises(Invalid) as bad:
        record(
            CASE,
            Step.OPTIONS,
            "two ways",
            author=None,
            at=AT,
            recorded=[],
            options=["refund", "swap"],
            chosen="other",
        )
    assert set(bad.value.by_field()) == {"chosen"}
    with pytest.raises(Invalid) as bad:
        record(
            CASE,
            Step.CONFIRMED,
            "x",
            author=None,
            at=AT,
            recorded=[Step.EXPECTATION],
            confirmed=False,
        )
    assert set(bad.value.by_field()) == {"confirmed"}
    five = record(
        CASE,
        Step.OPTIONS,
        "two ways",
        author=None,
        at=AT,
        recorded=[],
        options=["refund", " swap "],
        chosen="swap",
    )
    assert (five.options, five.chosen) == (("refund", "swap"), "swap")


def test_steps_parse_from_the_path_and_summarise_in_order():
    assert parse_step("7a") is Step.ACTION_VERIFIED
    with pytest.raises(Invalid):
        parse_step("8")
    records = [
        record(CASE, Step.ACTION, "sent", author=None, at=AT, recorded=[]),
        record(CASE, Step.EXPECTATION, "refund", author=None, at=AT, recorded=[]),
    ]
    assert summary(records) == ["3: expectation discovered", "6: action taken and followed"]
