"""The contact-pressure budget, consent, opt-outs and the customer's daytime (pure rules)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from atiende_surveys.domain import (
    Audience,
    Contact,
    PressurePolicy,
    SuppressionReason,
    in_daytime,
    may_remind,
    why_not_invite,
    zone_of,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = PressurePolicy(max_invitations=2, window_days=90, min_days_between=14)


def audience(**kw):
    return Audience(**{"consent": True, "opt_outs": frozenset(), "contacts": [], **kw})


def reason(a, kind="csat"):
    verdict = why_not_invite(POLICY, a, kind, NOW, verification=False)
    return verdict and verdict[0]


def test_a_fresh_consenting_customer_is_invited():
    assert reason(audience()) is None
    assert reason(audience(consent=None)) is None  # never told: intake asks on every form


def test_consent_and_opt_outs_are_respected():
    assert reason(audience(consent=False)) is SuppressionReason.NO_CONSENT
    assert reason(audience(opt_outs=frozenset({"all"}))) is SuppressionReason.OPTED_OUT
    assert reason(audience(opt_outs=frozenset({"nps"})), "nps") is SuppressionReason.OPTED_OUT
    assert reason(audience(opt_outs=frozenset({"nps"})), "csat") is None


def test_at_least_d_days_between_two_invitations():
    recent = [Contact(at=NOW - timedelta(days=13))]
    assert reason(audience(contacts=recent)) is SuppressionReason.TOO_SOON
    assert reason(audience(contacts=[Contact(at=NOW - timedelta(days=14))])) is None


def test_at_most_n_in_m_days_and_a_reminder_counts():
    contacts = [
        Contact(at=NOW - timedelta(days=60)),
        Contact(at=NOW - timedelta(days=57), reminder=True),
    ]
    assert reason(audience(contacts=contacts)) is SuppressionReason.TOO_MANY_IN_WINDOW
    old = [Contact(at=NOW - timedelta(days=91)), Contact(at=NOW - timedelta(days=30))]
    assert reason(audience(contacts=old)) is None


def test_once_per_case_and_exclusions_come_first():
    assert reason(audience(case_already_surveyed=True)) is SuppressionReason.CASE_ALREADY_SURVEYED
    assert reason(audience(open_complaint=True)) is SuppressionReason.OPEN_COMPLAINT
    assert reason(audience(test_case=True)) is SuppressionReason.TEST_CASE


def test_one_reminder_after_the_wait_within_the_budget():
    kw = {"contacts": [Contact(at=NOW - timedelta(days=3))], "consent": True, "opted_out": False}
    invited = NOW - timedelta(days=3)
    assert may_remind(POLICY, invited_at=invited, reminders_sent=0, now=NOW, **kw)
    assert not may_remind(POLICY, invited_at=invited, reminders_sent=1, now=NOW, **kw)
    assert not may_remind(
        POLICY, invited_at=NOW - timedelta(days=2), reminders_sent=0, now=NOW, **kw
    )
    full = {**kw, "contacts": [Contact(at=NOW - timedelta(days=40)), Contact(at=invited)]}
    assert not may_remind(POLICY, invited_at=invited, reminders_sent=0, now=NOW, **full)


def test_invitations_wait_for_the_customer_s_daytime():
    madrid = zone_of("ES-MD", "UTC")
    assert madrid == ZoneInfo("Europe/Madrid")
    night = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 00:30 in Madrid
    assert in_daytime(night, madrid, 9, 21) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert in_daytime(noon, madrid, 9, 21) == noon
    assert in_daytime(night, madrid, 0, 24) == night
    assert zone_of("XX", "Europe/Madrid") == madrid
