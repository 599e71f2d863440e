"""Who may be asked, and when: consent, opt-outs, the one contact-pressure budget per customer
(across every survey and channel), at most one survey per case, and the customer's daytime. Pure:
the facts come in, a verdict goes out; every "no" has a reason that is recorded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SuppressionReason(StrEnum):
    CASE_ALREADY_SURVEYED = "case_already_surveyed"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    TOO_MANY_IN_WINDOW = "too_many_in_window"
    TOO_SOON = "too_soon_after_last"
    OPEN_COMPLAINT = "open_complaint"
    INTERNAL_REQUESTER = "internal_requester"
    TEST_CASE = "test_case"
    SPAM = "spam"
    UNKNOWN_CUSTOMER = "unknown_customer"
    WINDOW_CLOSED = "send_window_closed"


class Trigger(StrEnum):
    RESOLUTION = "resolution"
    CLOSURE = "closure"
    SALE = "sale"
    PERIODIC = "periodic"
    MANUAL = "manual"


ALL_KINDS = "all"


@dataclass(frozen=True)
class PressurePolicy:
    """At most `max_invitations` contacts (invitations and reminders) in `window_days`, at least
    `min_days_between` days between two invitations, at most one reminder, after
    `reminder_after_days`."""

    max_invitations: int = 2
    window_days: int = 90
    min_days_between: int = 14
    reminder_after_days: int = 3
    max_reminders: int = 1


@dataclass(frozen=True)
class Contact:
    """One survey message to a customer: an invitation or a reminder."""

    at: datetime
    reminder: bool = False


@dataclass(frozen=True)
class Audience:
    """What is known of the customer and the case when an invitation is due."""

    consent: bool | None  # None: never told; intake asks on every form, so only False refuses
    opt_outs: frozenset[str]  # questionnaire kinds, or "all"
    contacts: Sequence[Contact]  # this customer's, every survey, every channel
    case_already_surveyed: bool = False
    open_complaint: bool = False
    internal: bool = False
    test_case: bool = False
    spam: bool = False


def budget_left(policy: PressurePolicy, contacts: Iterable[Contact], now: datetime) -> int:
    since = now - timedelta(days=policy.window_days)
    return policy.max_invitations - sum(1 for c in contacts if since < c.at <= now)


def why_not_invite(
    policy: PressurePolicy, audience: Audience, kind: str, now: datetime, *, verification: bool
) -> tuple[SuppressionReason, str] | None:
    """None when the customer may be invited now; else the first reason not to, with detail.
    `verification`: the survey that verifies a complaint's resolution (a customer's open
    complaint does not hold that one back)."""
    if audience.case_already_surveyed:
        return SuppressionReason.CASE_ALREADY_SURVEYED, "one survey per case"
    if audience.test_case:
        return SuppressionReason.TEST_CASE, "agent-created test case"
    if audience.internal:
        return SuppressionReason.INTERNAL_REQUESTER, "internal requester"
    if audience.spam:
        return SuppressionReason.SPAM, "case marked as spam"
    if audience.open_complaint and not verification:
        return SuppressionReason.OPEN_COMPLAINT, "the customer has an open complaint"
    if audience.consent is False:
        return SuppressionReason.NO_CONSENT, "the customer did not consent to surveys"
    if ALL_KINDS in audience.opt_outs or kind in audience.opt_outs:
        scope = ALL_KINDS if ALL_KINDS in audience.opt_outs else kind
        return SuppressionReason.OPTED_OUT, f"opted out of {scope}"
    invitations = [c.at for c in audience.contacts if not c.reminder and c.at <= now]
    if invitations:
        last = max(invitations)
        if now - last < timedelta(days=policy.min_days_between):
            return (
                SuppressionReason.TOO_SOON,
                f"last invitation {last.isoformat()}, fewer than {policy.min_days_between} days",
            )
    if budget_left(policy, audience.contacts, now) <= 0:
        return (
            SuppressionReason.TOO_MANY_IN_WINDOW,
            f"{policy.max_invitations} survey messages in {policy.window_days} days already",
        )
    return None


def may_remind(
    policy: PressurePolicy,
    *,
    invited_at: datetime,
    reminders_sent: int,
    contacts: Sequence[Contact],
    consent: bool | None,
    opted_out: bool,
    now: datetime,
) -> bool:
    """One reminder at most, after `reminder_after_days`, and it must fit the budget too."""
    return (
        reminders_sent < policy.max_reminders
        and now - invited_at >= timedelta(days=policy.reminder_after_days)
        and consent is not False
        and not opted_out
        and budget_left(policy, contacts, now) > 0
    )


# --- the customer's daytime ---------------------------------------------------------------------

_ZONES = {
    "ES-CN": "Atlantic/Canary",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "GB": "Europe/London",
    "FR": "Europe/Paris",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "CO": "America/Bogota",
    "CL": "America/Santiago",
    "PE": "America/Lima",
    "US": "America/New_York",
}


def zone_of(region: str | None, default: str) -> ZoneInfo:
    """The time zone of an ISO 3166 region ("ES-MD" -> Europe/Madrid), else `default`."""
    code = (region or "").upper()
    name = _ZONES.get(code[:5]) or _ZONES.get(code[:2]) or default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_daytime(at: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> datetime:
    """`at` if it is within [start_hour, end_hour) local time, else the next start_hour."""
    if start_hour <= 0 and end_hour >= 24:
        return at
    local = at.astimezone(zone)
    if start_hour <= local.hour < end_hour:
        return at
    day = local.date() if local.hour < start_hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(start_hour), tzinfo=zone).astimezone(at.tzinfo)
