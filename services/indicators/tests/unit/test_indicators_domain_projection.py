import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from atiende_contracts import (
    CaseAssigned,
    CaseOpened,
    CaseResolved,
    CaseType,
    Channel,
    CompensationGranted,
    CompensationKind,
    CompensationReversed,
    EventData,
    NotificationChannel,
    NotificationFailed,
    NotificationSent,
    SurveyAnswered,
    SurveyInvited,
)
from atiende_indicators.domain.projection import (
    CaseFacts,
    Cost,
    CostKey,
    Metric,
    aggregate,
    project,
    reporting_day,
)

CASE = uuid.uuid4()
AT = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
ENVELOPE_TIME = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def opened(at=AT):
    return CaseOpened(
        case_id=CASE,
        case_number="AT-2026-000001",
        customer_id=uuid.uuid4(),
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        description="wrong invoice",
        opened_at=at,
    )


def answered(satisfaction):
    return SurveyAnswered(
        invitation_id=uuid.uuid4(), case_id=CASE, satisfaction=satisfaction, answered_at=AT
    )


def test_case_opened_counts_and_tells_the_case_origin():
    projection = project(opened(), ENVELOPE_TIME)
    assert projection.day == date(2026, 3, 10)
    assert projection.increments == ((Metric.CASES_OPENED, 1),)
    assert projection.facts == CaseFacts(
        CASE, case_number="AT-2026-000001", type="complaint", channel="phone", opened_at=AT
    )


def test_case_assigned_and_resolved_set_only_their_own_time():
    assigned = project(
        CaseAssigned(case_id=CASE, case_number="AT-1", team="general", assigned_at=AT),
        ENVELOPE_TIME,
    )
    resolved = project(
        CaseResolved(case_id=CASE, case_number="AT-1", resolution="refund", resolved_at=AT),
        ENVELOPE_TIME,
    )
    assert assigned.increments == ((Metric.CASES_ASSIGNED, 1),)
    assert assigned.facts == CaseFacts(CASE, case_number="AT-1", assigned_at=AT)
    assert resolved.increments == ((Metric.CASES_RESOLVED, 1),)
    assert resolved.facts == CaseFacts(CASE, case_number="AT-1", resolved_at=AT)


def test_survey_invited_counts_on_the_envelope_day_as_its_data_has_no_time():
    invited = SurveyInvited(
        invitation_id=uuid.uuid4(),
        case_id=CASE,
        case_number="AT-1",
        survey_url="http://surveys/s/x",
        expires_at=AT + timedelta(days=30),
    )
    projection = project(invited, ENVELOPE_TIME)
    assert projection.day == date(2026, 3, 11)
    assert projection.increments == ((Metric.SURVEYS_INVITED, 1),)


@pytest.mark.parametrize(("satisfaction", "satisfied"), [(5, 1), (4, 1), (3, 0), (1, 0)])
def test_survey_answered_adds_to_the_satisfaction_sums(satisfaction, satisfied):
    projection = project(answered(satisfaction), ENVELOPE_TIME)
    assert dict(projection.increments) == {
        Metric.SURVEYS_ANSWERED: 1,
        Metric.SATISFACTION_SUM: satisfaction,
        Metric.SURVEYS_SATISFIED: satisfied,
    }
    assert projection.facts == CaseFacts(CASE, satisfaction=satisfaction, answered_at=AT)


def test_increments_are_sorted_so_daily_rows_are_locked_in_one_order():
    metrics = [metric for metric, _ in project(answered(5), ENVELOPE_TIME).increments]
    assert metrics == sorted(metrics)


def test_notifications_count_without_touching_any_case():
    sent = NotificationSent(
        delivery_id=uuid.uuid4(),
        case_id=None,
        template="case_opened",
        channel=NotificationChannel.EMAIL,
        recipient="ana@example.com",
        sent_at=AT,
    )
    failed = NotificationFailed(
        delivery_id=uuid.uuid4(),
        case_id=CASE,
        template="case_opened",
        channel=NotificationChannel.SMS,
        attempts=5,
        error="unreachable",
        failed_at=AT,
    )
    assert project(sent, ENVELOPE_TIME).increments == ((Metric.NOTIFICATIONS_SENT, 1),)
    assert project(failed, ENVELOPE_TIME).increments == ((Metric.NOTIFICATIONS_FAILED, 1),)
    assert project(sent, ENVELOPE_TIME).facts is None
    assert project(failed, ENVELOPE_TIME).facts is None


def test_an_event_no_indicator_uses_projects_to_nothing():
    class CaseEscalated(EventData):
        event_type = "case.escalated"

        case_id: uuid.UUID

    assert project(CaseEscalated(case_id=CASE), ENVELOPE_TIME) is None


def test_the_reporting_day_is_the_utc_date():
    late_evening_in_lima = datetime(2026, 3, 10, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert reporting_day(late_evening_in_lima) == date(2026, 3, 11)
    assert reporting_day(datetime(2026, 3, 10, 23, 59)) == date(2026, 3, 10)  # naive: UTC


def test_aggregate_sums_counters_and_merges_facts_in_lock_order():
    from datetime import UTC as _UTC
    from datetime import datetime as _dt

    from atiende_indicators.domain.projection import (
        CaseFacts,
        Metric,
        Projection,
        aggregate,
    )

    at = _dt(2026, 3, 10, 12, tzinfo=_UTC)
    low, high = sorted([uuid.uuid4(), uuid.uuid4()])
    batch = aggregate(
        [
            Projection.of(at, {Metric.CASES_OPENED: 1}, CaseFacts(high, opened_at=at)),
            Projection.of(at, {Metric.CASES_OPENED: 1}, CaseFacts(low, case_number="AT-2")),
            Projection.of(at, {Metric.CASES_ASSIGNED: 1}, CaseFacts(high, assigned_at=at)),
        ]
    )
    assert batch.increments == (
        (at.date(), Metric.CASES_ASSIGNED, 1),
        (at.date(), Metric.CASES_OPENED, 2),
    )
    assert batch.facts == (
        CaseFacts(low, case_number="AT-2"),
        CaseFacts(high, opened_at=at, assigned_at=at),
    )


def test_compensations_granted_and_reversed_become_the_cost_of_loyalty():
    at = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    common = {
        "case_id": uuid.uuid4(),
        "case_number": "AT-1",
        "catalogue_code": "VOUCHER",
        "catalogue_version": 1,
        "kind": CompensationKind.REFUND,
        "currency": "EUR",
    }
    granted = CompensationGranted(
        **common, team="care", amount=Decimal("30.00"), grant_id=uuid.uuid4(),
        granted_by="ana", granted_at=at,
    )  # fmt: skip
    reversed_ = CompensationReversed(
        **common, amount=Decimal("10.00"), reversal_id=uuid.uuid4(), grant_id=granted.grant_id,
        remaining=Decimal("20.00"), reversed_by="marta", reason="returned", reversed_at=at,
    )  # fmt: skip
    key = CostKey(date(2026, 3, 10), "care", "refund", "EUR")
    assert project(granted, at).cost == (key, Cost(granted=Decimal("30.00"), grants=1))
    no_team = CostKey(date(2026, 3, 10), "", "refund", "EUR")
    assert project(reversed_, at).cost == (no_team, Cost(reversed=Decimal("10.00"), reversals=1))
    twice = aggregate([project(granted, at), project(granted, at)])
    assert twice.costs == ((key, Cost(Decimal("60.00"), Decimal(0), 2, 0)),)
