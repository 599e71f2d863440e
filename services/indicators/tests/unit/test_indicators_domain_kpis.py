from atiende_indicators.domain.kpis import indicators, ratio
from atiende_indicators.domain.projection import Metric


def test_indicators_from_the_sums():
    result = indicators(
        {
            Metric.CASES_OPENED: 10,
            Metric.CASES_ASSIGNED: 9,
            Metric.CASES_RESOLVED: 7,
            Metric.SURVEYS_INVITED: 6,
            Metric.SURVEYS_ANSWERED: 4,
            Metric.SATISFACTION_SUM: 14,
            Metric.SURVEYS_SATISFIED: 3,
            Metric.NOTIFICATIONS_SENT: 20,
            Metric.NOTIFICATIONS_FAILED: 1,
        },
        median_minutes_to_resolution=42.5,
    )
    assert (result.cases_opened, result.cases_assigned, result.cases_resolved) == (10, 9, 7)
    assert (result.surveys_invited, result.surveys_answered) == (6, 4)
    assert result.average_satisfaction == 3.5
    assert result.satisfied_share == 0.75
    assert (result.notifications_sent, result.notifications_failed) == (20, 1)
    assert result.median_minutes_to_resolution == 42.5


def test_no_answers_means_no_average_rather_than_zero():
    result = indicators({Metric.CASES_OPENED: 3}, median_minutes_to_resolution=None)
    assert result.cases_opened == 3
    assert result.surveys_answered == 0
    assert result.average_satisfaction is None
    assert result.satisfied_share is None
    assert result.median_minutes_to_resolution is None


def test_ratio():
    assert ratio(1, 4) == 0.25
    assert ratio(0, 4) == 0.0
    assert ratio(0, 0) is None
