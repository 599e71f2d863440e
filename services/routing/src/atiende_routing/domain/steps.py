"""The seven steps of solving a customer's problem, as the case's working record, and the gates
they put on resolving and closing a complaint or a claim. Pure: no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from atiende_runtime.errors import FieldError, Invalid

from .errors import StepRequired


class Step(StrEnum):
    RESPECT = "1"
    LISTENED = "2"
    EXPECTATION = "3"
    CONFIRMED = "4"
    OPTIONS = "5"
    ACTION = "6"
    ACTION_VERIFIED = "7a"
    SATISFACTION_VERIFIED = "7b"


LABELS: dict[Step, str] = {
    Step.RESPECT: "respect shown (first response)",
    Step.LISTENED: "account listened to and recorded",
    Step.EXPECTATION: "expectation discovered",
    Step.CONFIRMED: "expectation confirmed",
    Step.OPTIONS: "solutions offered and one chosen",
    Step.ACTION: "action taken and followed",
    Step.ACTION_VERIFIED: "action verified",
    Step.SATISFACTION_VERIFIED: "customer satisfaction verified",
}

REQUIRED_TO_RESOLVE = (Step.EXPECTATION, Step.CONFIRMED, Step.OPTIONS, Step.ACTION)
REQUIRED_TO_CLOSE = (Step.ACTION_VERIFIED, Step.SATISFACTION_VERIFIED)

PREREQUISITES: dict[Step, Step] = {
    # one cannot confirm an expectation nobody discovered, nor verify an action never taken,
    # nor ask about satisfaction before checking the action happened
    Step.CONFIRMED: Step.EXPECTATION,
    Step.ACTION_VERIFIED: Step.ACTION,
    Step.SATISFACTION_VERIFIED: Step.ACTION_VERIFIED,
}

SAID_TO_CUSTOMER = frozenset(
    {Step.RESPECT, Step.CONFIRMED, Step.OPTIONS, Step.SATISFACTION_VERIFIED}
)
"""Steps that are an answer to the customer: they meet the next-update clock (step 1 also meets
the first-response clock)."""

MAX_TEXT = 4000


@dataclass(frozen=True)
class StepRecord:
    case_id: uuid.UUID
    step: Step
    text: str
    author: str | None
    recorded_at: datetime
    options: tuple[str, ...] = ()
    chosen: str | None = None
    commitment_id: uuid.UUID | None = None
    source: str = "agent"
    """"agent", or "intake" for the expectation the customer stated when opening the case."""


def parse_step(value: str) -> Step:
    try:
        return Step(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Step)
        raise Invalid.field("step", "step", f"{value!r} is not a step (one of {allowed})") from None


def record(
    case_id: uuid.UUID,
    step: Step,
    text: str,
    *,
    author: str | None,
    at: datetime,
    recorded: Iterable[Step],
    options: Iterable[str] = (),
    chosen: str | None = None,
    confirmed: bool | None = None,
    commitment_id: uuid.UUID | None = None,
) -> StepRecord:
    """One step as done now; Invalid when its content breaks a rule, StepRequired when a step it
    builds on is missing."""
    errors: list[FieldError] = []
    text = text.strip()
    if not text:
        errors.append(FieldError("text", "required", f"step {step}: say what was done or said"))
    if len(text) > MAX_TEXT:
        errors.append(FieldError("text", "length", f"at most {MAX_TEXT} characters"))
    option_list = tuple(o.strip() for o in options if o.strip())
    if step is Step.OPTIONS:
        if not option_list:
            errors.append(FieldError("options", "required", "step 5 offers one or more solutions"))
        elif chosen is None or chosen.strip() not in option_list:
            errors.append(
                FieldError("chosen", "one_of", "step 5 names which of the options was chosen")
            )
    if step is Step.CONFIRMED and confirmed is not True:
        errors.append(
            FieldError(
                "confirmed",
                "must_be_true",
                "step 4 is done when the customer confirms the expectation repeated back",
            )
        )
    if errors:
        raise Invalid(errors)
    done = set(recorded)
    before = PREREQUISITES.get(step)
    if before is not None and before not in done:
        raise StepRequired(f"step {step}", before.value, LABELS[before])
    return StepRecord(
        case_id=case_id,
        step=step,
        text=text,
        author=author,
        recorded_at=at,
        options=option_list,
        chosen=chosen.strip() if chosen and step is Step.OPTIONS else None,
        commitment_id=commitment_id,
    )


def check_resolvable(is_complaint_or_claim: bool, recorded: Iterable[Step]) -> None:
    """A complaint or claim is resolved only once steps 3 to 6 are recorded."""
    if not is_complaint_or_claim:
        return
    done = set(recorded)
    for step in REQUIRED_TO_RESOLVE:
        if step not in done:
            raise StepRequired("resolution", step.value, LABELS[step])


def check_closable(
    is_complaint_or_claim: bool, recorded: Iterable[Step], waiver: str | None
) -> None:
    """A complaint or claim is closed once both verifications are recorded, or a supervisor
    waives them with a reason (the use case checks the role)."""
    if not is_complaint_or_claim or (waiver and waiver.strip()):
        return
    done = set(recorded)
    for step in REQUIRED_TO_CLOSE:
        if step not in done:
            raise StepRequired("closing", step.value, LABELS[step])


def summary(records: Iterable[StepRecord]) -> list[str]:
    """The steps done, in order, as case.resolved carries them (e.g. "4: expectation confirmed")."""
    done = {r.step for r in records}
    return [f"{s.value}: {LABELS[s]}" for s in Step if s in done]
