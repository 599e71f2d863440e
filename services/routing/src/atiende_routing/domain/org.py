"""The organisation cases are routed to: teams (calendar, assignment strategy, reopen window,
escalation ladder) and agents (rank, skills, capacity, availability, out-of-office). Pure: values
and the rules that keep them valid, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from atiende_contracts import AgentChanged, Availability, Rank, TeamChanged
from atiende_runtime.errors import FieldError, Invalid

from .calendars import BusinessCalendar, Holiday, Interval, weekdays

RANKS: tuple[Rank, ...] = (Rank.AGENT, Rank.SENIOR, Rank.SUPERVISOR, Rank.MANAGER)
"""The escalation ladder, lowest first."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_REOPEN_WINDOW_DAYS = 14
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def rank_order(rank: Rank) -> int:
    return RANKS.index(rank)


class Strategy(StrEnum):
    """How a team picks the agent for a case."""

    ROUND_ROBIN = "round_robin"
    """The available agent who has waited longest since their last assignment."""
    LEAST_LOADED = "least_loaded"
    """The agent with the lowest open cases ÷ capacity."""
    SKILLS_MATCH = "skills_match"
    """Agents speaking the case's language and knowing its motive first, then the least loaded."""


def _check_slug(value: str, field_name: str) -> list[FieldError]:
    if SLUG.match(value):
        return []
    return [
        FieldError(
            field_name,
            "slug",
            f"{field_name} must be lower-case letters, digits, '-' or '_' (got {value!r})",
        )
    ]


# --- calendar (the SLA clocks' BusinessCalendar, stored as JSON on the team) -----------------

DEFAULT_CALENDAR = BusinessCalendar("Europe/Madrid", weekdays(range(5), time(9), time(18)))
"""Monday to Friday, 09:00-18:00 Madrid: a team created without a calendar gets this one."""


def calendar_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "time_zone": calendar.time_zone,
        "weekly": [
            {"weekday": i.weekday, "start": _hm(i.start), "end": _hm(i.end)}
            for i in calendar.intervals
        ],
        "holidays": [{"date": h.day.isoformat(), "name": h.name} for h in calendar.holidays],
    }


def calendar_from_json(data: Mapping[str, Any], prefix: str = "calendar") -> BusinessCalendar:
    """A calendar from its JSON; Invalid (fields under `prefix`) when it breaks a rule, e.g.
    overlapping intervals."""
    try:
        return BusinessCalendar(
            time_zone=data.get("time_zone", DEFAULT_CALENDAR.time_zone),
            intervals=tuple(
                Interval(
                    int(i["weekday"]), time.fromisoformat(i["start"]), time.fromisoformat(i["end"])
                )
                for i in data.get("weekly", ())
            ),
            holidays=tuple(
                Holiday(date.fromisoformat(h["date"]), h.get("name") or "Holiday")
                for h in data.get("holidays", ())
            ),
        )
    except Invalid as invalid:
        raise Invalid(
            [FieldError(f"{prefix}.{e.field}", e.rule, e.message) for e in invalid.errors]
        ) from None
    except (KeyError, ValueError, TypeError) as exc:
        raise Invalid.field(prefix, "format", f"calendar is malformed: {exc}") from None


def with_holidays(calendar: BusinessCalendar, holidays: Iterable[Holiday]) -> BusinessCalendar:
    """The calendar with these holidays added; a date already there keeps its name."""
    by_day = {h.day: h for h in calendar.holidays}
    for holiday in holidays:
        by_day.setdefault(holiday.day, holiday)
    return BusinessCalendar(
        calendar.time_zone, calendar.intervals, tuple(sorted(by_day.values(), key=lambda h: h.day))
    )


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


# --- teams -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    strategy: Strategy = Strategy.ROUND_ROBIN
    calendar: BusinessCalendar = DEFAULT_CALENDAR
    reopen_window_days: int = DEFAULT_REOPEN_WINDOW_DAYS
    ladder: Mapping[Rank, tuple[str, ...]] = field(default_factory=dict)
    """Who to call at each rank above agent when a case escalates (agent ids, first available wins)."""
    active: bool = True
    version: int = 1

    def problems(self) -> list[FieldError]:
        errors = _check_slug(self.id, "id")
        if not self.name.strip():
            errors.append(FieldError("name", "required", "a team needs a name"))
        if not 0 <= self.reopen_window_days <= 365:
            errors.append(
                FieldError("reopen_window_days", "range", "the reopen window is 0 to 365 days")
            )
        for rank, people in self.ladder.items():
            if len(set(people)) != len(people):
                errors.append(FieldError(f"ladder.{rank}", "duplicate", "an agent is listed twice"))
        return errors

    def validate(self) -> Team:
        errors = self.problems()
        if errors:
            raise Invalid(errors)
        return self

    def responsible_candidates(self, rank: Rank) -> tuple[str, ...]:
        return self.ladder.get(rank, ())

    def changed(self, now: datetime, actor: str | None) -> TeamChanged:
        return TeamChanged(
            team=self.id,
            name=self.name,
            active=self.active,
            time_zone=self.calendar.time_zone,
            strategy=self.strategy.value,
            changed_at=now,
            actor=actor,
        )


# --- agents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skills:
    """What an agent knows; as a rule's outcome, what the case needs (every listed one)."""

    languages: frozenset[str] = frozenset()
    motives: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()

    def covers(self, needed: Skills) -> bool:
        return (
            needed.languages <= self.languages
            and needed.motives <= self.motives
            and needed.channels <= self.channels
            and needed.products <= self.products
        )

    def missing(self, needed: Skills) -> list[str]:
        out: list[str] = []
        for kind in ("languages", "motives", "channels", "products"):
            lacking = getattr(needed, kind) - getattr(self, kind)
            out.extend(f"{kind}:{value}" for value in sorted(lacking))
        return out

    def as_json(self) -> dict[str, list[str]]:
        return {
            kind: sorted(getattr(self, kind))
            for kind in ("languages", "motives", "channels", "products")
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Iterable[str]] | None) -> Skills:
        data = data or {}
        return cls(
            **{
                kind: frozenset(data.get(kind, ()))
                for kind in ("languages", "motives", "channels", "products")
            }
        )


@dataclass(frozen=True)
class Capacity:
    """How many open cases an agent holds at once, in total and per channel (each ≥ 1)."""

    total: int = 5
    per_channel: Mapping[str, int] = field(default_factory=dict)

    def problems(self) -> list[FieldError]:
        errors: list[FieldError] = []
        if self.total < 1:
            errors.append(
                FieldError(
                    "capacity.total", "minimum", f"capacity must be at least 1 (got {self.total})"
                )
            )
        for channel, limit in sorted(self.per_channel.items()):
            if limit < 1:
                errors.append(
                    FieldError(
                        f"capacity.per_channel.{channel}",
                        "minimum",
                        f"capacity for {channel} must be at least 1 (got {limit}); leave the channel"
                        " out of the agent's skills instead",
                    )
                )
        return errors

    def limit_for(self, channel: str | None) -> int:
        if channel is not None and channel in self.per_channel:
            return min(self.total, self.per_channel[channel])
        return self.total


@dataclass(frozen=True)
class OutOfOffice:
    """The agent is away from `starts` until `ends`; their cases go to the substitute if any."""

    starts: datetime
    ends: datetime
    substitute_id: str | None = None

    def covers(self, now: datetime) -> bool:
        return self.starts <= now < self.ends


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    email: str | None = None
    teams: tuple[str, ...] = ()
    rank: Rank = Rank.AGENT
    skills: Skills = field(default_factory=Skills)
    capacity: Capacity = field(default_factory=Capacity)
    availability: Availability = Availability.OFFLINE
    out_of_office: OutOfOffice | None = None
    active: bool = True
    version: int = 1

    def problems(self) -> list[FieldError]:
        errors = _check_slug(self.id, "id")
        if not self.name.strip():
            errors.append(FieldError("name", "required", "an agent needs a name"))
        if self.email is not None and "@" not in self.email:
            errors.append(FieldError("email", "email", f"{self.email!r} is not an email address"))
        if not self.teams:
            errors.append(FieldError("teams", "required", "an agent belongs to at least one team"))
        errors.extend(self.capacity.problems())
        if self.out_of_office is not None:
            ooo = self.out_of_office
            if ooo.starts >= ooo.ends:
                errors.append(
                    FieldError(
                        "out_of_office.ends", "interval", "out-of-office must end after it starts"
                    )
                )
            if ooo.substitute_id == self.id:
                errors.append(
                    FieldError(
                        "out_of_office.substitute_id",
                        "substitute",
                        "an agent cannot substitute themself",
                    )
                )
        return errors

    def validate(self) -> Agent:
        errors = self.problems()
        if errors:
            raise Invalid(errors)
        return self

    def away_at(self, now: datetime) -> bool:
        return self.out_of_office is not None and self.out_of_office.covers(now)

    def can_work(self, now: datetime) -> bool:
        """Takes new cases now: active, available and not out of office."""
        return self.active and self.availability is Availability.AVAILABLE and not self.away_at(now)

    def substitute_at(self, now: datetime) -> str | None:
        return (
            self.out_of_office.substitute_id if self.away_at(now) and self.out_of_office else None
        )

    def changed(self, now: datetime, actor: str | None) -> AgentChanged:
        return AgentChanged(
            agent_id=self.id,
            name=self.name,
            email=self.email,
            rank=self.rank,
            teams=list(self.teams),
            availability=self.availability,
            active=self.active,
            substitute_id=self.out_of_office.substitute_id if self.out_of_office else None,
            changed_at=now,
            actor=actor,
        )
