import pytest

from atiende_contracts import EscalationReason, Rank
from atiende_routing.domain.escalation import lower_level, manual_level, next_level
from atiende_runtime.errors import Conflict, Invalid

R = EscalationReason


def test_each_trigger_climbs_one_rung_up_to_the_manager():
    level = None
    seen = []
    for _ in range(4):
        level = next_level(level, R.SLA_BREACHED) or level
        seen.append(level)
    assert seen == [Rank.SENIOR, Rank.SUPERVISOR, Rank.MANAGER, Rank.MANAGER]
    assert next_level(Rank.MANAGER, R.COMMITMENT_MISSED) is None


def test_an_upset_customer_calls_in_someone_above_the_agent_once():
    assert next_level(None, R.CUSTOMER_UPSET) is Rank.SENIOR
    assert next_level(Rank.SENIOR, R.CUSTOMER_UPSET) is None
    assert next_level(Rank.SUPERVISOR, R.CUSTOMER_UPSET) is None


def test_manual_escalation_climbs_only():
    assert manual_level(None, None) is Rank.SENIOR
    assert manual_level(Rank.SENIOR, Rank.MANAGER) is Rank.MANAGER
    with pytest.raises(Invalid):
        manual_level(Rank.SUPERVISOR, Rank.SENIOR)
    with pytest.raises(Conflict):
        manual_level(Rank.MANAGER, None)


def test_deescalation_needs_a_reason_and_goes_down():
    assert lower_level(Rank.SUPERVISOR, None, "handled") is Rank.SENIOR
    assert lower_level(Rank.SENIOR, None, "handled") is None
    assert lower_level(Rank.MANAGER, Rank.AGENT, "calm now") is None
    with pytest.raises(Invalid) as bad:
        lower_level(Rank.SENIOR, Rank.MANAGER, " ")
    assert set(bad.value.by_field()) == {"reason", "level"}
    with pytest.raises(Conflict):
        lower_level(None, None, "why")
