"""Procedures and policies, managed data. A procedure says, per motive (and optionally channel),
the steps an agent follows, written for the customer ("with the customer's face") in each
language; every change is a new version and nothing is ever deleted (a deactivation is a version
too). Policies are the company rules a root cause may blame. When root causes blame one procedure
or policy too often within a window, a review is requested. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from atiende_runtime.errors import Invalid, NotFound
from atiende_runtime.languages import DEFAULT_LANGUAGE, language_of

__all__ = [
    "Policy",
    "Procedure",
    "ProcedureText",
    "ReviewThreshold",
    "in_force",
]


class ProcedureNotFound(NotFound):
    def __init__(self, code: str, version: int | None = None) -> None:
        which = f"{code!r} version {version}" if version else repr(code)
        super().__init__(f"Routing knows no procedure {which}", title="Procedure not found")


class PolicyNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"Routing knows no policy {code!r}", title="Policy not found")


class NoProcedureInForce(NotFound):
    def __init__(self, case_number: str, motive: str | None) -> None:
        super().__init__(
            f"no active procedure covers case {case_number} (motive {motive or 'unknown'})",
            title="No procedure in force",
        )


@dataclass(frozen=True)
class ProcedureText:
    """A procedure in one language: its title and its steps, in the words a customer reads."""

    title: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Procedure:
    code: str
    version: int
    motive: str
    texts: Mapping[str, ProcedureText]
    """Per language code (es, en)."""
    channel: str | None = None
    """Only for contacts on this channel; None: any channel."""
    active: bool = True
    changed_at: datetime | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        if not self.texts:
            raise Invalid.field("texts", "required", "a procedure is written in some language")
        for language, text in self.texts.items():
            if language_of(language) is None or language_of(language) != language:
                raise Invalid.field(
                    f"texts.{language}", "language", "a language Atiende writes in (es, en)"
                )
            if not text.steps:
                raise Invalid.field(
                    f"texts.{language}.steps", "required", "a procedure has at least one step"
                )

    def text_for(self, language: str | None) -> tuple[str, ProcedureText]:
        """The text in `language`, else in the default language, else in the first one written."""
        for wanted in (language, DEFAULT_LANGUAGE.value):
            if wanted and wanted in self.texts:
                return wanted, self.texts[wanted]
        first = sorted(self.texts)[0]
        return first, self.texts[first]

    @property
    def key(self) -> tuple[str, str | None]:
        return self.motive, self.channel


def in_force(
    procedures: Iterable[Procedure], motive: str | None, channel: str | None
) -> Procedure | None:
    """The active procedure for a case: the one for its motive and channel, else the one for its
    motive on any channel."""
    active = [p for p in procedures if p.active and motive is not None and p.motive == motive]
    specific = [p for p in active if channel is not None and p.channel == channel]
    general = [p for p in active if p.channel is None]
    for found in (specific, general):
        if found:
            return max(found, key=lambda p: (p.version, p.code))
    return None


@dataclass(frozen=True)
class Policy:
    code: str
    title: str
    description: str | None = None
    active: bool = True
    changed_at: datetime | None = None
    actor: str | None = None


@dataclass(frozen=True)
class ReviewThreshold:
    """How many root causes blaming one procedure or policy within a window request a review."""

    cases: int = 3
    window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.cases < 1:
            raise Invalid.field("cases", "minimum", "a review needs at least one case")
        if self.window <= timedelta(0):
            raise Invalid.field("window_hours", "minimum", "a window lasts more than nothing")

    def due(self, blaming: int, last_requested: datetime | None, now: datetime) -> bool:
        """`blaming` cases within the window request a review, unless one was already requested
        within the window (once per window)."""
        if blaming < self.cases:
            return False
        return last_requested is None or now - last_requested >= self.window
