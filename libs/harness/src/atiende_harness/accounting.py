"""Jepsen-style accounting of a run: what the client was told, against what actually happened.

Pure: it takes the record of every intake request and every effect observed (events on the
exchange, emails at the SMTP sink, the indicators' final figures) and classifies them.

- A request is `ok` (201 with a case), `failed` (certainly not done: refused before it reached
  intake, or a 4xx answer) or `indeterminate` (timed out, connection lost mid-request, 5xx: the
  case may or may not have been opened).
- A case *exists* when its request was ok, or when a `case.opened` for its customer was seen.
- `lost`: a case that exists but lacks a terminal effect — no `case.opened` published, never
  assigned, no acknowledgement email, or missing from the indicators.
- `duplicated`: one fact with two effects — two `case.opened` or two `case.assigned` with
  different event ids for one case, two acknowledgement emails with different Message-IDs, an
  indicator counting more than there are cases.
- `unexpected`: an effect that no request explains — an event or email for a customer or case the
  run never asked for, or the effect of a request that was told it failed.
- `recovered`: an indeterminate request whose case exists after all.
- `resent`: the same event id or the same email Message-ID seen again. That is at-least-once
  delivery by design (the receiver deduplicates by id), so it is counted but is not an anomaly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from atiende_contracts import CaseAssigned, CaseOpened

OPENED = CaseOpened.routing_key()
ASSIGNED = CaseAssigned.routing_key()


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


class Anomaly(StrEnum):
    LOST = "lost"
    DUPLICATED = "duplicated"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class RequestRecord:
    """One POST /cases as the client saw it."""

    index: int
    email: str
    outcome: Outcome
    case_id: str | None = None
    case_number: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ObservedEvent:
    """An event seen on the events exchange (possibly more than once: at-least-once)."""

    event_id: str
    routing_key: str
    subject: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ObservedEmail:
    to: str
    message_id: str
    subject: str


@dataclass(frozen=True)
class IndicatorCounts:
    """The indicators' figures that one case moves, less what they read before the run."""

    cases_opened: int
    cases_assigned: int
    notifications_sent: int


@dataclass(frozen=True)
class Finding:
    anomaly: Anomaly
    effect: str
    detail: str
    count: int = 1


@dataclass
class Accounting:
    requests: dict[str, int]
    recovered: int
    resent: int
    findings: list[Finding] = field(default_factory=list)

    def total(self, anomaly: Anomaly) -> int:
        return sum(f.count for f in self.findings if f.anomaly is anomaly)

    @property
    def lost(self) -> int:
        return self.total(Anomaly.LOST)

    @property
    def duplicated(self) -> int:
        return self.total(Anomaly.DUPLICATED)

    @property
    def unexpected(self) -> int:
        return self.total(Anomaly.UNEXPECTED)

    @property
    def valid(self) -> bool:
        return not self.findings

    def summary(self, examples: int = 20) -> dict[str, Any]:
        by_effect: dict[str, int] = defaultdict(int)
        for f in self.findings:
            by_effect[f"{f.anomaly.value}: {f.effect}"] += f.count
        return {
            "requests": self.requests,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "recovered": self.recovered,
            "resent": self.resent,
            "by_effect": dict(sorted(by_effect.items())),
            "examples": [
                {"anomaly": f.anomaly.value, "effect": f.effect, "detail": f.detail}
                for f in self.findings[:examples]
            ],
        }


def _distinct(events: Iterable[ObservedEvent]) -> tuple[dict[str, ObservedEvent], int]:
    """Events by id, and how many sightings repeated an id already seen."""
    seen: dict[str, ObservedEvent] = {}
    repeats = 0
    for event in events:
        if event.event_id in seen:
            repeats += 1
        else:
            seen[event.event_id] = event
    return seen, repeats


def account(
    requests: Iterable[RequestRecord],
    events: Iterable[ObservedEvent],
    emails: Iterable[ObservedEmail],
    indicators: IndicatorCounts | None,
) -> Accounting:
    """Classify a run; `indicators` None skips the indicator checks."""
    by_email = {r.email.lower(): r for r in requests}
    tally = {o.value: 0 for o in Outcome}
    for r in by_email.values():
        tally[r.outcome.value] += 1
    distinct, resent = _distinct(events)
    findings: list[Finding] = []

    # which case each request opened, learnt from the responses and from case.opened
    opened_by_request: dict[int, set[str]] = defaultdict(set)
    for event in distinct.values():
        if event.routing_key != OPENED:
            continue
        customer = str(event.data.get("customer_email") or "").lower()
        request = by_email.get(customer)
        case_id = str(event.data.get("case_id") or event.subject)
        if request is None:
            findings.append(
                Finding(Anomaly.UNEXPECTED, "case.opened", f"case {case_id} for {customer}")
            )
            continue
        if request.outcome is Outcome.FAILED:
            findings.append(
                Finding(
                    Anomaly.UNEXPECTED,
                    "case.opened",
                    f"request {request.index} failed ({request.detail}) yet opened {case_id}",
                )
            )
        opened_by_request[request.index].add(case_id)

    recovered = 0
    case_owner: dict[str, RequestRecord] = {}
    for request in by_email.values():
        seen = opened_by_request.get(request.index, set())
        if request.outcome is Outcome.OK:
            if not seen:
                findings.append(
                    Finding(
                        Anomaly.LOST,
                        "case.opened",
                        f"request {request.index} got case {request.case_id}; never published",
                    )
                )
            cases = seen | {request.case_id} if request.case_id else seen
        elif request.outcome is Outcome.INDETERMINATE and seen:
            recovered += 1
            cases = seen
        else:
            cases = seen
        if len(cases) > 1:
            findings.append(
                Finding(
                    Anomaly.DUPLICATED,
                    "case.opened",
                    f"request {request.index} opened {len(cases)} cases: {sorted(cases)}",
                    len(cases) - 1,
                )
            )
        for case_id in cases:
            case_owner[case_id] = request

    # every existing case assigned exactly once
    assigned: dict[str, set[str]] = defaultdict(set)
    for event in distinct.values():
        if event.routing_key != ASSIGNED:
            continue
        case_id = str(event.data.get("case_id") or event.subject)
        if case_id not in case_owner:
            findings.append(Finding(Anomaly.UNEXPECTED, "case.assigned", f"unknown case {case_id}"))
            continue
        assigned[case_id].add(event.event_id)
    for case_id, request in case_owner.items():
        count = len(assigned.get(case_id, ()))
        if count == 0:
            findings.append(
                Finding(Anomaly.LOST, "case.assigned", f"case {case_id} (request {request.index})")
            )
        elif count > 1:
            findings.append(
                Finding(
                    Anomaly.DUPLICATED,
                    "case.assigned",
                    f"case {case_id} assigned {count} times",
                    count - 1,
                )
            )

    # one acknowledgement email per existing case (a resend keeps its Message-ID)
    owners = {r.email.lower(): r for r in case_owner.values()}
    mail: dict[str, set[str]] = defaultdict(set)
    for email in emails:
        address = email.to.lower()
        if address not in owners:
            findings.append(
                Finding(Anomaly.UNEXPECTED, "email", f"to {address}: {email.subject!r}")
            )
        elif email.message_id in mail[address]:
            resent += 1
        else:
            mail[address].add(email.message_id)
    for address, request in owners.items():
        count = len(mail.get(address, ()))
        if count == 0:
            findings.append(Finding(Anomaly.LOST, "acknowledgement email", f"to {request.email}"))
        elif count > 1:
            findings.append(
                Finding(
                    Anomaly.DUPLICATED,
                    "acknowledgement email",
                    f"{count} different emails to {request.email}",
                    count - 1,
                )
            )

    if indicators is not None:
        existing = len(case_owner)
        deliveries = sum(len(ids) for ids in mail.values())
        for name, counted, expected in (
            ("indicator cases_opened", indicators.cases_opened, existing),
            ("indicator cases_assigned", indicators.cases_assigned, existing),
            ("indicator notifications_sent", indicators.notifications_sent, deliveries),
        ):
            if counted < expected:
                findings.append(
                    Finding(
                        Anomaly.LOST,
                        name,
                        f"counted {counted} of {expected}",
                        expected - counted,
                    )
                )
            elif counted > expected:
                findings.append(
                    Finding(
                        Anomaly.DUPLICATED,
                        name,
                        f"counted {counted} for {expected}",
                        counted - expected,
                    )
                )
    return Accounting(tally, recovered, resent, findings)
