"""Whether, how and when a person is written to: a customer's preferred channel, consents and
opt-outs, undeliverable addresses and quiet hours (in their own time zone); a staff member's
channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from atiende_contracts import NotificationChannel

from .notices import Notice, Template

CONSENT_NEEDED: dict[Template, str] = {
    Template.SURVEY_INVITATION: "surveys",
    Template.SURVEY_REMINDER: "surveys",
}
"""Messages sent only with the customer's consent (surveys are optional, never service)."""

REGION_TIME_ZONES: dict[str, str] = {
    "ES-CN": "Atlantic/Canary",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "CO": "America/Bogota",
    "CL": "America/Santiago",
    "PE": "America/Lima",
    "US": "America/New_York",
    "GB": "Europe/London",
}


def time_zone_of(region: str | None, default: str) -> str:
    """A region code ("ES-MD", "ES-CN", "MX") to a time zone: the most specific match."""
    if region:
        region = region.upper()
        for code in (region, region.split("-")[0]):
            if code in REGION_TIME_ZONES:
                return REGION_TIME_ZONES[code]
    return default


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) of local wall-clock time; it may wrap midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime, zone: str) -> datetime | None:
        """None if `now` is outside the window; else the first instant (UTC) at which the
        window ends, reckoned in wall-clock time of `zone` so a DST change moves it with the
        clock. An end that falls in a spring-forward gap is the first instant after the gap."""
        tz = ZoneInfo(zone)
        local = now.astimezone(tz)
        if not self.contains(local.time()):
            return None
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        wall = datetime.combine(day, self.end, tzinfo=tz)
        instant = wall.astimezone(UTC)
        # a nonexistent wall time converts with the offset before the gap: later than the gap's
        # start, and it round-trips to a later wall time; an ambiguous one takes the first
        return max(instant, now.astimezone(UTC))


@dataclass(frozen=True)
class CustomerPreferences:
    customer_id: uuid.UUID
    preferred_channel: NotificationChannel | None = None
    consent_surveys: bool | None = None
    consent_marketing: bool | None = None
    opted_out: frozenset[NotificationChannel] = frozenset()
    undeliverable: frozenset[NotificationChannel] = frozenset()
    """Channels whose address bounced for good (email after a hard bounce)."""
    time_zone: str | None = None
    quiet_hours: QuietHours | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    """Who last set them through the API, as stored (save's `actor`); None: notifications did."""


@dataclass(frozen=True)
class StaffMember:
    agent_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    channels: tuple[NotificationChannel, ...] = (NotificationChannel.EMAIL,)
    active: bool = True
    rank: str | None = None
    """Routing's rank (agent, senior, supervisor, manager): who counts as an administrator."""
    updated_by: str | None = None
    """Who last set the channels through the API, as stored (save's `actor`)."""

    @property
    def emailable(self) -> bool:
        return self.active and bool(self.email) and NotificationChannel.EMAIL in self.channels


@dataclass(frozen=True)
class ChannelChoice:
    channel: NotificationChannel | None
    reason: str | None = None
    """Why no channel (when `channel` is None)."""
    fallbacks: tuple[NotificationChannel, ...] = field(default=())


CUSTOMER_CHANNELS = (NotificationChannel.EMAIL, NotificationChannel.SMS)


def choose_channel(
    notice: Notice,
    prefs: CustomerPreferences | None,
    addresses: dict[NotificationChannel, str | None],
    *,
    exclude: frozenset[NotificationChannel] = frozenset(),
) -> ChannelChoice:
    """The customer's channel for a notice: the preferred one first, then email, then SMS,
    skipping opted-out, undeliverable and address-less ones; a message needing a consent the
    customer has refused is suppressed."""
    consent = CONSENT_NEEDED.get(notice.template)
    if consent == "surveys" and prefs is not None and prefs.consent_surveys is False:
        return ChannelChoice(None, "no_consent")
    order = list(CUSTOMER_CHANNELS)
    if prefs and prefs.preferred_channel in order:
        order.remove(prefs.preferred_channel)
        order.insert(0, prefs.preferred_channel)
    reasons: list[str] = []
    usable: list[NotificationChannel] = []
    for channel in order:
        if channel in exclude:
            continue
        if prefs and channel in prefs.opted_out:
            reasons.append("opted_out")
        elif prefs and channel in prefs.undeliverable:
            reasons.append("undeliverable")
        elif not addresses.get(channel):
            reasons.append("no_address")
        else:
            usable.append(channel)
    if not usable:
        reason = next((r for r in ("undeliverable", "opted_out") if r in reasons), "no_address")
        return ChannelChoice(None, reason)
    return ChannelChoice(usable[0], fallbacks=tuple(usable[1:]))


def quiet_until(
    notice: Notice, prefs: CustomerPreferences | None, now: datetime, default_zone: str
) -> datetime | None:
    """When a non-urgent customer message may go, if quiet hours hold it now; None: now."""
    if notice.urgent or notice.staff is not None or prefs is None or prefs.quiet_hours is None:
        return None
    until = prefs.quiet_hours.ends_after(now, prefs.time_zone or default_zone)
    if until is None:
        return None
    if notice.urgent_before is not None and notice.urgent_before <= until:
        return None  # waiting would break the promise: it goes now
    return until
