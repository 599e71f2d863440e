import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from atiende_contracts import CaseOpened, CaseResolved, CaseType, Channel, EventData
from atiende_indicators import usecases
from atiende_indicators.domain.days import MAX_SERIES_DAYS, DayRange
from atiende_indicators.domain.errors import InvalidRange
from atiende_indicators.domain.projection import Metric

from ..fakes import FakeUnitOfWork

OPENED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ENVELOPE_TIME = OPENED_AT + timedelta(days=1)


def opened(case_id):
    return CaseOpened(
        case_id=case_id,
        case_number="AT-2026-000001",
        customer_id=uuid.uuid4(),
        customer_name="Ana",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        description="wrong invoice",
        opened_at=OPENED_AT,
    )


async def test_projected_events_make_the_indicators():
    uow = FakeUnitOfWork()
    case_id = uuid.uuid4()
    await usecases.project_event(uow, opened(case_id), ENVELOPE_TIME)
    await usecases.project_event(
        uow,
        CaseResolved(
            case_id=case_id,
            case_number="AT-2026-000001",
            resolution="refund",
            resolved_at=OPENED_AT + timedelta(minutes=90),
        ),
        ENVELOPE_TIME,
    )

    result = await usecases.read_indicators(uow, DayRange())
    assert (result.cases_opened, result.cases_resolved) == (1, 1)
    assert result.median_minutes_to_resolution == 90.0
    assert result.average_satisfaction is None


async def test_an_event_no_indicator_uses_changes_nothing():
    class CaseEscalated(EventData):
        event_type = "case.escalated"

        case_id: uuid.UUID

    uow = FakeUnitOfWork()
    assert await usecases.project_event(uow, CaseEscalated(case_id=uuid.uuid4()), OPENED_AT) is None
    assert uow.indicators.counts == {}


async def test_the_daily_series_fills_the_range():
    uow = FakeUnitOfWork()
    await usecases.project_event(uow, opened(uuid.uuid4()), ENVELOPE_TIME)
    series = await usecases.read_daily(
        uow, Metric.CASES_OPENED, DayRange(date(2026, 3, 9), date(2026, 3, 11))
    )
    assert series == [(date(2026, 3, 9), 0), (date(2026, 3, 10), 1), (date(2026, 3, 11), 0)]


async def test_a_series_too_long_to_list_is_refused():
    start = date(2020, 1, 1)
    with pytest.raises(InvalidRange):
        await usecases.read_daily(
            FakeUnitOfWork(),
            Metric.CASES_OPENED,
            DayRange(start, start + timedelta(days=MAX_SERIES_DAYS)),
        )
