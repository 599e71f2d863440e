"""The webhook/SMS retry schedule (with jitter and Retry-After) and quiet hours across DST."""

import random
import uuid
from datetime import UTC, datetime, time, timedelta

from atiende_notifications.domain import Recipient, acknowledgement
from atiende_notifications.domain.deliveries import WEBHOOK_SCHEDULE, Delivery, RetrySchedule
from atiende_notifications.domain.notices import Template, customer_notice
from atiende_notifications.domain.preferences import (
    CustomerPreferences,
    QuietHours,
    quiet_until,
    time_zone_of,
)
from atiende_runtime.languages import Language

NIGHT = QuietHours(time(22, 0), time(8, 0))
MADRID = "Europe/Madrid"


def test_the_schedule_is_standard_webhooks_about_three_days():
    assert [d.total_seconds() for d in WEBHOOK_SCHEDULE] == [
        0,
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    ]
    assert timedelta(days=3) < sum(WEBHOOK_SCHEDULE, timedelta()) < timedelta(days=3, hours=4)


def test_each_retry_waits_its_step_give_or_take_the_jitter():
    schedule = RetrySchedule(jitter=0.1, rng=random.Random(7))
    assert schedule.max_attempts == 10
    for attempts in range(1, 10):
        base = WEBHOOK_SCHEDULE[attempts]
        delay = schedule.delay_after(attempts)
        assert base * 0.9 <= delay <= base * 1.1
    exact = RetrySchedule(jitter=0)
    assert [exact.delay_after(n) for n in (1, 2, 3)] == list(WEBHOOK_SCHEDULE[1:4])


def _delivery(now):
    to = Recipient(uuid.uuid4(), "AT-1", "Ana", "ana@example.com", Language.ES)
    return Delivery.pending(acknowledgement(to), "t", None, now)


def test_retry_after_is_honoured_when_longer_and_the_last_attempt_fails():
    now = datetime(2026, 3, 12, tzinfo=UTC)
    schedule = RetrySchedule(jitter=0)
    d, failed = _delivery(now).record_failure(
        "429", now, schedule, retry_after=timedelta(minutes=10)
    )
    assert failed is None
    assert d.next_attempt_at == now + timedelta(minutes=10)
    d, _ = _delivery(now).record_failure("503", now, schedule, retry_after=timedelta(seconds=1))
    assert d.next_attempt_at == now + timedelta(seconds=5)  # ours is longer
    d = _delivery(now)
    for _ in range(9):
        d, failed = d.record_failure("500", now, schedule)
        assert failed is None
    d, failed = d.record_failure("500", now, schedule)
    assert failed is not None
    assert failed.attempts == 10


def _window_end(local_now: str, zone=MADRID, quiet=NIGHT):
    from zoneinfo import ZoneInfo

    now = datetime.fromisoformat(local_now).replace(tzinfo=ZoneInfo(zone))
    return quiet.ends_after(now.astimezone(UTC), zone)


def test_outside_quiet_hours_nothing_waits():
    assert _window_end("2026-03-12T12:00") is None
    assert _window_end("2026-03-12T21:59") is None
    assert _window_end("2026-03-12T08:00") is None


def test_the_window_ends_at_local_eight_on_both_sides_of_spring_forward():
    # 29 March 2026: 02:00 CET -> 03:00 CEST in Madrid
    assert _window_end("2026-03-28T23:00") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # CEST
    assert _window_end("2026-03-28T07:00") == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)  # CET


def test_the_window_ends_at_local_eight_on_both_sides_of_fall_back():
    # 25 October 2026: 03:00 CEST -> 02:00 CET
    assert _window_end("2026-10-24T23:30") == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # CET
    assert _window_end("2026-10-24T05:00") == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)  # CEST


def test_an_end_inside_the_spring_gap_is_the_first_instant_after_it():
    quiet = QuietHours(time(22, 0), time(2, 30))
    end = _window_end("2026-03-28T23:00", quiet=quiet)
    assert end == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, gap 02:00-03:00


def test_the_customers_zone_decides_not_ours():
    # 23:30 in Madrid is 22:30 in the Canaries: quiet for both, ending at their own 08:00
    now = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)
    assert NIGHT.ends_after(now, "Atlantic/Canary") == datetime(2026, 1, 16, 8, 0, tzinfo=UTC)
    assert NIGHT.ends_after(now, MADRID) == datetime(2026, 1, 16, 7, 0, tzinfo=UTC)
    assert time_zone_of("ES-CN", MADRID) == "Atlantic/Canary"
    assert time_zone_of("ES-MD", "UTC") == MADRID
    assert time_zone_of(None, "UTC") == "UTC"


def test_urgent_messages_go_through_quiet_hours():
    customer = uuid.uuid4()
    to = Recipient(uuid.uuid4(), "AT-1", "Ana", "a@x.es", Language.ES, customer_id=customer)
    prefs = CustomerPreferences(customer, time_zone=MADRID, quiet_hours=NIGHT)
    night = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)  # 00:00 in Madrid
    resolved = customer_notice(Template.CASE_RESOLVED, to, "x", resolution="r")
    assert quiet_until(resolved, prefs, night, MADRID) == datetime(2026, 1, 16, 7, tzinfo=UTC)
    assert quiet_until(acknowledgement(to), prefs, night, MADRID) is None
    from dataclasses import replace

    due_at_seven = replace(resolved, urgent_before=datetime(2026, 1, 16, 6, tzinfo=UTC))
    assert quiet_until(due_at_seven, prefs, night, MADRID) is None
    due_at_noon = replace(resolved, urgent_before=datetime(2026, 1, 16, 11, tzinfo=UTC))
    assert quiet_until(due_at_noon, prefs, night, MADRID) is not None
