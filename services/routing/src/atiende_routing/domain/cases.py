"""The case lifecycle as routing sees it: a RoutedCase aggregate whose methods check the
TRANSITIONS table and return the new case with the events that tell the others. Every change
bumps `version` (the ETag of the agent API). Pure: decisions only, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from atiende_contracts import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseStatus,
    CaseStatusChanged,
    Classification,
    EventData,
    Formality,
    Rank,
    Tier,
)

from .errors import IllegalTransition
from .root_causes import RootCause

__all__ = ["TRANSITIONS", "CaseStatus", "RoutedCase"]

WAITING = frozenset({CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.WAITING_ON_THIRD_PARTY})
"""The statuses that pause clocks; entering one needs a reason from the managed list."""

OPEN = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.ASSIGNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.REOPENED,
        *WAITING,
    }
)
"""Statuses in which someone still owes the customer something."""

_WORKING = frozenset({CaseStatus.IN_PROGRESS, *WAITING, CaseStatus.RESOLVED})

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    # new and assigned may resolve straight away: an answer at first contact (the gate of the
    # seven steps still applies to complaints and claims)
    CaseStatus.NEW: frozenset({CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED}),
    CaseStatus.ASSIGNED: _WORKING,
    CaseStatus.IN_PROGRESS: frozenset({*WAITING, CaseStatus.RESOLVED}),
    CaseStatus.WAITING_ON_CUSTOMER: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_THIRD_PARTY, CaseStatus.RESOLVED}
    ),
    CaseStatus.WAITING_ON_THIRD_PARTY: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.REOPENED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.REOPENED}),
    CaseStatus.REOPENED: frozenset({CaseStatus.ASSIGNED, *_WORKING}),
}
"""The statuses each status may move to; anything else is an IllegalTransition (409). The one
exception is a merge, which closes the absorbed case from any status but closed."""

STATUS_COMMAND_TARGETS = frozenset({CaseStatus.IN_PROGRESS, *WAITING})
"""What POST /cases/{id}/status may ask for; resolve, close and reopen have their own commands."""


@dataclass(frozen=True)
class RoutedCase:
    id: uuid.UUID
    number: str
    type: str
    status: CaseStatus
    opened_at: datetime
    team: str | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    # who works it and by which rule
    agent_id: str | None = None
    priority: str = "normal"
    policy_id: str | None = None
    rule_id: str | None = None
    rule_version: int | None = None
    # the facts routing rules look at (read by name)
    customer_id: uuid.UUID | None = None
    channel: str | None = None
    motive: str | None = None
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    severity: str | None = None
    region: str | None = None
    tier: str | None = None
    language: str | None = None
    formality: str | None = None
    upset: bool = False
    expectation: str | None = None
    # lifecycle state
    escalation: Rank | None = None
    """The rank now responsible above the agent; None = not escalated."""
    responsible_id: str | None = None
    waiting_reason: str | None = None
    waiting_note: str | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    reopened_at: datetime | None = None
    merged_into: uuid.UUID | None = None
    recovery_of: uuid.UUID | None = None
    """The case this one recovers (a detractor's answer about it opened this one)."""
    # the root cause decided at resolution (domain/root_causes.py)
    root_cause: str | None = None
    root_cause_procedure: str | None = None
    root_cause_policy: str | None = None
    root_cause_note: str | None = None
    sla_due_at: datetime | None = None
    """The earliest deadline of a running clock (queues sort by it)."""
    version: int = 1

    # --- creation ------------------------------------------------------------------------

    @classmethod
    def opened(cls, event: CaseOpened) -> RoutedCase:
        """A new case, as intake opened it."""
        return cls(
            id=event.case_id,
            number=event.case_number,
            type=event.type.value,
            status=CaseStatus.NEW,
            opened_at=event.opened_at,
            customer_id=event.customer_id,
            channel=event.channel.value,
            motive=event.motive,
            cause=event.cause,
            touchpoint=event.touchpoint,
            product=event.product,
            severity=event.severity.value if event.severity else None,
            region=event.region,
            tier=event.tier.value if event.tier else None,
            language=event.language,
            formality=event.formality.value if event.formality else None,
            upset=bool(event.upset),
            expectation=event.expectation,
        )

    # --- questions -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def is_complaint_or_claim(self) -> bool:
        return self.type in ("complaint", "claim")

    def can_become(self, target: CaseStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def within_reopen_window(self, now: datetime, window: timedelta) -> bool:
        ended = self.closed_at or self.resolved_at
        return ended is None or now - ended <= window

    def ensure_can_become(self, target: CaseStatus) -> None:
        """IllegalTransition (409, naming the current status and the allowed ones) unless allowed."""
        if not self.can_become(target):
            raise IllegalTransition(self.number, self.status, target, TRANSITIONS[self.status])

    def _moved(
        self,
        target: CaseStatus,
        at: datetime,
        *,
        reason: str | None = None,
        note: str | None = None,
        actor: str | None = None,
        by_the_table: bool = True,
        **changes: object,
    ) -> tuple[RoutedCase, CaseStatusChanged]:
        if by_the_table:
            self.ensure_can_become(target)
        leaving_wait = target not in WAITING
        case = replace(
            self,
            status=target,
            version=self.version + 1,
            waiting_reason=reason if not leaving_wait else None,
            waiting_note=note if not leaving_wait else None,
            **changes,  # type: ignore[arg-type]
        )
        return case, CaseStatusChanged(
            case_id=self.id,
            case_number=self.number,
            from_status=self.status,
            to_status=target,
            reason=reason,
            note=note,
            actor=actor,
            changed_at=at,
        )

    def touched(self) -> RoutedCase:
        """The same case, one version on (a step or commitment changed what the case shows)."""
        return replace(self, version=self.version + 1)

    # --- routing and assignment -------------------------------------------------------------

    def route(
        self,
        *,
        team: str,
        agent_id: str | None,
        priority: str | None,
        policy_id: str | None,
        rule_id: str | None,
        rule_version: int | None,
        reason: str | None,
        at: datetime,
        agent_email: str | None = None,
        agent_name: str | None = None,
        actor: str | None = None,
    ) -> tuple[RoutedCase, list[EventData]]:
        """Given to a team (and an agent, when one is free): a new or reopened case becomes
        assigned; a case being worked keeps its status (a transfer keeps the clocks running)."""
        if not self.is_open:
            raise IllegalTransition(self.number, self.status, CaseStatus.ASSIGNED, ())
        events: list[EventData] = []
        case = self
        if self.status in (CaseStatus.NEW, CaseStatus.REOPENED):
            case, changed = self._moved(
                CaseStatus.ASSIGNED, at, reason=reason or "routed", actor=actor
            )
            events.append(changed)
        else:
            case = case.touched()
        case = replace(
            case,
            team=team,
            agent_id=agent_id,
            assigned_at=at,
            priority=priority if priority is not None else self.priority,
            policy_id=policy_id if policy_id is not None else self.policy_id,
            rule_id=rule_id if rule_id is not None else self.rule_id,
            rule_version=rule_version if rule_version is not None else self.rule_version,
        )
        events.append(
            CaseAssigned(
                case_id=self.id,
                case_number=self.number,
                team=team,
                agent_id=agent_id,
                assigned_at=at,
                agent_email=agent_email,
                agent_name=agent_name,
                priority=case.priority,
                rule_id=case.rule_id,
                rule_version=case.rule_version,
                reason=reason,
                previous_agent_id=self.agent_id,
                actor=actor,
            )
        )
        return case, events

    def assign(self, team: str, at: datetime) -> tuple[RoutedCase, CaseAssigned]:
        """To a team's queue with nobody yet (the thin flow's assignment)."""
        case, events = self.route(
            team=team,
            agent_id=None,
            priority=None,
            policy_id=None,
            rule_id=None,
            rule_version=None,
            reason="routed",
            at=at,
        )
        assigned = events[-1]
        assert isinstance(assigned, CaseAssigned)
        return case, assigned

    # --- status ------------------------------------------------------------------------------

    def change_status(
        self,
        target: CaseStatus,
        at: datetime,
        *,
        reason: str | None = None,
        note: str | None = None,
        actor: str | None = None,
    ) -> tuple[RoutedCase, CaseStatusChanged]:
        return self._moved(target, at, reason=reason, note=note, actor=actor)

    def resolve(
        self,
        resolution: str,
        at: datetime,
        *,
        steps: list[str] | None = None,
        actor: str | None = None,
        root_cause: RootCause | None = None,
    ) -> tuple[RoutedCase, CaseResolved]:
        case, events = self.resolved(
            resolution, at, steps=steps, actor=actor, root_cause=root_cause
        )
        resolved = events[-1]
        assert isinstance(resolved, CaseResolved)
        return case, resolved

    def resolved(
        self,
        resolution: str,
        at: datetime,
        *,
        steps: list[str] | None = None,
        actor: str | None = None,
        root_cause: RootCause | None = None,
    ) -> tuple[RoutedCase, list[EventData]]:
        """Resolved, with both events: the status change and case.resolved (its steps summary
        and root cause). Whether a root cause is required is root_causes.check's rule."""
        case, changed = self._moved(
            CaseStatus.RESOLVED, at, reason="resolved", actor=actor, resolved_at=at
        )
        cause = root_cause
        case = replace(
            case,
            resolution=resolution,
            root_cause=cause.category.value if cause else None,
            root_cause_procedure=cause.procedure if cause else None,
            root_cause_policy=cause.policy if cause else None,
            root_cause_note=cause.note if cause else None,
        )
        return case, [
            changed,
            CaseResolved(
                case_id=self.id,
                case_number=self.number,
                resolution=resolution,
                resolved_at=at,
                steps=steps,
                team=self.team,
                agent_id=self.agent_id,
                actor=actor,
                root_cause=cause.category if cause else None,
                root_cause_procedure=cause.procedure if cause else None,
                root_cause_policy=cause.policy if cause else None,
                root_cause_note=cause.note if cause else None,
            ),
        ]

    def close(
        self, reason: str, at: datetime, *, note: str | None = None, actor: str | None = None
    ) -> tuple[RoutedCase, list[EventData]]:
        return self._closed(reason, at, note=note, actor=actor)

    def _closed(
        self,
        reason: str,
        at: datetime,
        *,
        note: str | None,
        actor: str | None,
        by_the_table: bool = True,
        **changes: object,
    ) -> tuple[RoutedCase, list[EventData]]:
        case, changed = self._moved(
            CaseStatus.CLOSED,
            at,
            reason=reason,
            note=note,
            actor=actor,
            by_the_table=by_the_table,
            closed_at=at,
            close_reason=reason,
            **changes,
        )
        return case, [
            changed,
            CaseClosed(
                case_id=self.id, case_number=self.number, reason=reason, actor=actor, closed_at=at
            ),
        ]

    def absorbed_into(
        self, into: uuid.UUID, at: datetime, *, note: str | None = None, actor: str | None = None
    ) -> tuple[RoutedCase, list[EventData]]:
        """Closed as merged into another case, from any status but closed (the one exception to
        TRANSITIONS: a duplicate is closed however far it got)."""
        if self.status is CaseStatus.CLOSED:
            raise IllegalTransition(self.number, self.status, CaseStatus.CLOSED, ())
        return self._closed(
            "merged", at, note=note, actor=actor, by_the_table=False, merged_into=into
        )

    def reopen(
        self,
        reason: str,
        at: datetime,
        *,
        contact_id: uuid.UUID | None = None,
        actor: str | None = None,
    ) -> tuple[RoutedCase, list[EventData]]:
        case, changed = self._moved(
            CaseStatus.REOPENED,
            at,
            reason=reason,
            actor=actor,
            reopened_at=at,
            resolved_at=None,
            closed_at=None,
            close_reason=None,
        )
        return case, [
            changed,
            CaseReopened(
                case_id=self.id,
                case_number=self.number,
                reason=reason,
                contact_id=contact_id,
                actor=actor,
                reopened_at=at,
            ),
        ]

    # --- facts ------------------------------------------------------------------------------

    def reclassified(self, after: Classification) -> RoutedCase:
        return replace(
            self,
            type=after.type.value,
            motive=after.motive,
            cause=after.cause,
            touchpoint=after.touchpoint,
            product=after.product,
            severity=after.severity.value if after.severity else None,
            upset=self.upset if after.upset is None else after.upset,
            version=self.version + 1,
        )

    def with_profile(self, tier: Tier, language: str, formality: Formality) -> RoutedCase:
        if (self.tier, self.language, self.formality) == (tier.value, language, formality.value):
            return self
        return replace(
            self,
            tier=tier.value,
            language=language,
            formality=formality.value,
            version=self.version + 1,
        )

    def escalated_to(self, level: Rank | None, responsible_id: str | None) -> RoutedCase:
        return replace(
            self, escalation=level, responsible_id=responsible_id, version=self.version + 1
        )
