"""One set of assertions for indicators' repository, run against the fake and PostgreSQL, so the
fake the unit tests rely on cannot drift from the SQL."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from atiende_indicators.domain.days import DayRange
from atiende_indicators.domain.projection import CaseFacts, Metric, Projection
from atiende_indicators.repository import PostgresUnitOfWork
from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..fakes import FakeUnitOfWork

SCHEMA = "indicators"
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "postgres"])
def backend(request):
    """The backend's name and, for PostgreSQL, a fresh database."""
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    return request.param, url


@pytest.fixture
async def uow(backend):
    kind, url = backend
    if kind == "fake":
        yield FakeUnitOfWork()
        return
    await db.migrate(url, SCHEMA, "atiende_indicators")
    conn = await db.connect(url, SCHEMA)
    try:
        yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, "/atiende/indicators", frozenset()))
    finally:
        await conn.close()


def counted(at, **increments):
    return Projection.of(at, {Metric(name): value for name, value in increments.items()})


async def test_increments_add_up_per_day_and_metric(uow):
    repo = uow.indicators
    await repo.apply(counted(T0, cases_opened=1))
    await repo.apply(counted(T0 + timedelta(hours=1), cases_opened=1, surveys_satisfied=0))
    await repo.apply(counted(T0 + timedelta(days=2), cases_opened=1, cases_resolved=1))

    assert await repo.totals(DayRange()) == {
        Metric.CASES_OPENED: 3,
        Metric.CASES_RESOLVED: 1,
        Metric.SURVEYS_SATISFIED: 0,  # a counter incremented by 0 exists, with 0
    }
    assert await repo.daily(Metric.CASES_OPENED, DayRange()) == {
        date(2026, 3, 10): 2,
        date(2026, 3, 12): 1,
    }


async def test_day_ranges_include_both_ends_and_open_ends_are_unbounded(uow):
    repo = uow.indicators
    for day in range(1, 6):
        await repo.apply(counted(datetime(2026, 3, day, 8, tzinfo=UTC), cases_opened=day))

    march = date(2026, 3, 1)
    assert await repo.totals(DayRange(march + timedelta(1), march + timedelta(3))) == {
        Metric.CASES_OPENED: 2 + 3 + 4
    }
    assert await repo.totals(DayRange(start=march + timedelta(3))) == {Metric.CASES_OPENED: 4 + 5}
    assert await repo.totals(DayRange(end=march)) == {Metric.CASES_OPENED: 1}
    assert await repo.daily(Metric.CASES_OPENED, DayRange(march, march + timedelta(1))) == {
        march: 1,
        march + timedelta(1): 2,
    }
    assert await repo.daily(Metric.CASES_RESOLVED, DayRange()) == {}
    assert await repo.totals(DayRange(date(2027, 1, 1))) == {}


async def test_the_median_takes_the_cases_resolved_in_the_range(uow):
    repo = uow.indicators
    for minutes, resolved_day in ((30, 10), (60, 10), (90, 11), (600, 12)):
        case_id = uuid.uuid4()
        resolved_at = datetime(2026, 3, resolved_day, 23, 30, tzinfo=UTC)
        opened_at = resolved_at - timedelta(minutes=minutes)
        await repo.apply(Projection.of(opened_at, {}, CaseFacts(case_id, opened_at=opened_at)))
        await repo.apply(
            Projection.of(resolved_at, {}, CaseFacts(case_id, resolved_at=resolved_at))
        )
    # a case opened but not resolved, and one resolved but never seen opened, do not count
    await repo.apply(Projection.of(T0, {}, CaseFacts(uuid.uuid4(), opened_at=T0)))
    await repo.apply(Projection.of(T0, {}, CaseFacts(uuid.uuid4(), resolved_at=T0)))

    assert await repo.median_minutes_to_resolution(DayRange()) == 75.0
    assert await repo.median_minutes_to_resolution(
        DayRange(date(2026, 3, 10), date(2026, 3, 10))
    ) == pytest.approx(45.0)
    assert await repo.median_minutes_to_resolution(DayRange(start=date(2026, 3, 11))) == 345.0
    assert await repo.median_minutes_to_resolution(DayRange(end=date(2026, 3, 9))) is None


async def test_case_facts_merge_in_any_order(uow):
    """Earliest opening, latest resolution, whatever the order the events arrive in."""
    repo = uow.indicators
    case_id = uuid.uuid4()
    opened_at = T0
    resolved_first = T0 + timedelta(minutes=30)
    resolved_again = T0 + timedelta(minutes=120)

    # the resolutions arrive before the opening; a second, later resolution (a reopened case)
    await repo.apply(
        Projection.of(resolved_again, {}, CaseFacts(case_id, resolved_at=resolved_again))
    )
    await repo.apply(
        Projection.of(resolved_first, {}, CaseFacts(case_id, resolved_at=resolved_first))
    )
    assert await repo.median_minutes_to_resolution(DayRange()) is None  # opening not known yet

    # a later duplicate opening time never moves the opening forward
    later_opening = T0 + timedelta(minutes=60)
    await repo.apply(Projection.of(later_opening, {}, CaseFacts(case_id, opened_at=later_opening)))
    await repo.apply(
        Projection.of(
            opened_at,
            {},
            CaseFacts(case_id, case_number="AT-1", type="complaint", opened_at=opened_at),
        )
    )
    # an event that knows nothing about the opening does not erase it
    await repo.apply(Projection.of(T0, {}, CaseFacts(case_id, assigned_at=T0)))
    assert await repo.median_minutes_to_resolution(DayRange()) == 120.0
    assert await repo.case_facts(case_id) == CaseFacts(
        case_id,
        case_number="AT-1",
        type="complaint",
        opened_at=opened_at,
        assigned_at=T0,
        resolved_at=resolved_again,
    )


async def test_the_latest_answer_gives_the_satisfaction(uow):
    repo = uow.indicators
    case_id = uuid.uuid4()

    def answer(satisfaction, minutes):
        at = T0 + timedelta(minutes=minutes)
        return Projection.of(at, {}, CaseFacts(case_id, satisfaction=satisfaction, answered_at=at))

    await repo.apply(answer(4, 10))
    await repo.apply(answer(2, 5))  # an older answer arriving late does not win
    assert (await repo.case_facts(case_id)).satisfaction == 4
    await repo.apply(answer(5, 20))
    facts = await repo.case_facts(case_id)
    assert (facts.satisfaction, facts.answered_at) == (5, T0 + timedelta(minutes=20))
    # an event that tells nothing about the answer keeps it
    await repo.apply(Projection.of(T0, {}, CaseFacts(case_id, channel="email")))
    facts = await repo.case_facts(case_id)
    assert (facts.satisfaction, facts.channel) == (5, "email")


async def test_an_unknown_case_has_no_facts(uow):
    assert await uow.indicators.case_facts(uuid.uuid4()) is None


async def test_a_batch_applied_at_once_equals_applied_one_by_one(uow):
    """apply_many (one aggregated upsert per read model in PostgreSQL) ends where the events one
    by one would: counters summed per day and metric, each case's facts merged by the rules,
    the same case several times in one batch and over a row already stored."""
    repo = uow.indicators
    case_a, case_b = uuid.uuid4(), uuid.uuid4()
    await repo.apply(Projection.of(T0, {Metric.CASES_OPENED: 1}, CaseFacts(case_a, opened_at=T0)))
    answered_early, answered_late = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    batch = [
        Projection.of(
            T0 - timedelta(minutes=5),
            {Metric.CASES_OPENED: 1},
            CaseFacts(case_a, case_number="AT-1", opened_at=T0 - timedelta(minutes=5)),
        ),
        Projection.of(
            answered_late,
            {Metric.SURVEYS_ANSWERED: 1, Metric.SATISFACTION_SUM: 2},
            CaseFacts(case_a, satisfaction=2, answered_at=answered_late),
        ),
        Projection.of(
            answered_early,
            {Metric.SURVEYS_ANSWERED: 1, Metric.SATISFACTION_SUM: 5},
            CaseFacts(case_a, satisfaction=5, answered_at=answered_early),
        ),
        Projection.of(T0 + timedelta(days=1), {Metric.CASES_OPENED: 1}, CaseFacts(case_b)),
        Projection.of(T0, {Metric.NOTIFICATIONS_SENT: 1}),
    ]

    await repo.apply_many(batch)

    assert await repo.daily(Metric.CASES_OPENED, DayRange()) == {
        date(2026, 3, 10): 2,
        date(2026, 3, 11): 1,
    }
    assert await repo.totals(DayRange()) == {
        Metric.CASES_OPENED: 3,
        Metric.SURVEYS_ANSWERED: 2,
        Metric.SATISFACTION_SUM: 7,
        Metric.NOTIFICATIONS_SENT: 1,
    }
    facts = await repo.case_facts(case_a)
    assert (facts.case_number, facts.opened_at) == ("AT-1", T0 - timedelta(minutes=5))
    assert (facts.satisfaction, facts.answered_at) == (2, answered_late)  # the latest answer
    assert await repo.case_facts(case_b) == CaseFacts(case_b)


async def test_compensation_costs_add_up_per_period_team_kind_and_currency(uow):
    from decimal import Decimal

    from atiende_indicators.domain.projection import Cost, CostKey, CostPeriod

    def cost(day, team, kind, currency, **amounts):
        key = CostKey(day, team, kind, currency)
        return Projection.of(T0, {}, cost=(key, Cost(**amounts)))

    march, april = date(2026, 3, 10), date(2026, 4, 2)
    await uow.indicators.apply(
        cost(march, "care", "refund", "EUR", granted=Decimal("20.00"), grants=1)
    )
    await uow.indicators.apply_many(
        [
            cost(march, "care", "refund", "EUR", granted=Decimal("5.50"), grants=1),
            cost(
                march + timedelta(days=3),
                "care",
                "refund",
                "EUR",
                reversed=Decimal("5.50"),
                reversals=1,
            ),
            cost(march, "", "discount", "USD", granted=Decimal("9.99"), grants=1),
            cost(april, "care", "refund", "EUR", granted=Decimal("1.00"), grants=1),
        ]
    )
    monthly = await uow.indicators.compensation_costs(DayRange(), CostPeriod.MONTH)
    assert [(r.period, r.team, r.kind, r.currency, r.cost) for r in monthly] == [
        (date(2026, 3, 1), "", "discount", "USD", Cost(Decimal("9.99"), Decimal(0), 1, 0)),
        (date(2026, 3, 1), "care", "refund", "EUR", Cost(Decimal("25.50"), Decimal("5.50"), 2, 1)),
        (date(2026, 4, 1), "care", "refund", "EUR", Cost(Decimal("1.00"), Decimal(0), 1, 0)),
    ]
    weekly = await uow.indicators.compensation_costs(
        DayRange(march, march + timedelta(days=6)), CostPeriod.WEEK, team="care", currency="EUR"
    )
    # the week from Monday 9 March: both grants and the reversal; April is outside the range
    assert [(r.period, r.cost.net, r.cost.grants) for r in weekly] == [
        (date(2026, 3, 9), Decimal("20.00"), 2)
    ]
    assert await uow.indicators.compensation_costs(DayRange(), CostPeriod.DAY, kind="gift") == []
