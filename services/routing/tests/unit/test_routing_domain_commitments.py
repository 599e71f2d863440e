import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import CommitmentKept, CommitmentMade, CommitmentMissed
from atiende_routing.domain.commitments import Commitment, CommitmentState
from atiende_runtime.errors import Conflict, Invalid

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CASE = uuid.UUID(int=1)


def made(due=NOW + timedelta(hours=3), **fields):
    values = {
        "case_id": CASE,
        "case_number": "AT-1",
        "description": "call back before twelve",
        "owner_id": "ana",
        "due_at": due,
        "now": NOW,
        **fields,
    }
    return Commitment.make(**values)


def test_a_commitment_is_made_and_told():
    commitment, event = made()
    assert commitment.state is CommitmentState.OPEN
    assert isinstance(event, CommitmentMade)
    assert (event.description, event.owner_id, event.due_at) == (
        "call back before twelve",
        "ana",
        NOW + timedelta(hours=3),
    )


def test_bad_commitments_name_every_field():
    with pytest.raises(Invalid) as bad:
        made(due=NOW - timedelta(minutes=1), description=" ", owner_id=None)
    assert set(bad.value.by_field()) == {"due_at", "description", "owner_id"}
    assert bad.value.by_field()["due_at"].rule == "future"


def test_the_reminder_comes_at_the_lead_time_or_at_once():
    commitment, _ = made()
    assert commitment.remind_at(timedelta(minutes=15)) == NOW + timedelta(hours=2, minutes=45)
    soon, _ = made(due=NOW + timedelta(minutes=5))
    assert soon.remind_at(timedelta(minutes=15)) == NOW


def test_reminded_once_then_kept_or_missed_once():
    commitment, _ = made()
    reminded, due_soon = commitment.due_soon(NOW)
    assert due_soon.owner_id == "ana"
    assert reminded.due_soon(NOW) is None  # never twice
    kept, event = reminded.keep(NOW + timedelta(hours=1), "ana")
    assert isinstance(event, CommitmentKept)
    assert kept.state is CommitmentState.KEPT
    assert kept.miss(NOW + timedelta(hours=3)) is None  # a late timer does nothing
    with pytest.raises(Conflict, match="already kept"):
        kept.keep(NOW, "ana")
    missed, event = commitment.miss(NOW + timedelta(hours=3))
    assert isinstance(event, CommitmentMissed)
    assert missed.state is CommitmentState.MISSED
