"""Routing's domain errors. The app factory answers them as problem+json (404, 409)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from atiende_runtime.errors import Conflict, DomainError, FieldError, NotFound


class CaseNotFound(NotFound):
    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"Routing knows no case {case_id}", title="Case not found")
        self.case_id = case_id


class IllegalTransition(Conflict):
    """A transition the case's current status does not allow; names the statuses it does."""

    def __init__(self, case_number: str, current: str, target: str, allowed: Iterable[str]) -> None:
        self.case_number = case_number
        self.current = current
        self.target = target
        self.allowed = tuple(sorted(allowed))
        can_become = ", ".join(self.allowed) or "nothing else"
        super().__init__(
            f"case {case_number} is {current}, so it cannot become {target}"
            f" (from {current} it can become: {can_become})",
            title=f"Case cannot be {target}",
            extensions={"current_status": str(current), "allowed_statuses": list(self.allowed)},
        )


class StepRequired(Conflict):
    """A complaint or claim lacks a step of the seven the command needs (field `steps.<n>`)."""

    def __init__(self, action: str, step: str, label: str) -> None:
        self.step = step
        super().__init__(
            f"{action} requires step {step}: {label}",
            title=f"Case cannot be {action}",
            errors=[
                FieldError(
                    f"steps.{step}", "step_required", f"{action} requires step {step}: {label}"
                )
            ],
        )


class StaleCase(DomainError):
    """The If-Match version is not the case's current one (the route answers 412)."""

    def __init__(self, case_number: str, expected: int, current: int) -> None:
        self.expected = expected
        self.current = current
        super().__init__(
            f"case {case_number} is at version {current}, not {expected}: reload it and retry",
            title="Case changed since you read it",
        )


class CommitmentNotFound(NotFound):
    def __init__(self, commitment_id: uuid.UUID) -> None:
        super().__init__(
            f"no commitment {commitment_id} on this case", title="Commitment not found"
        )


class NotPermitted(DomainError):
    """The actor's role may not do this (the route answers 403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Forbidden")


# --- organisation (teams, agents, routing rules) -----------------------------------------------


class TeamNotFound(NotFound):
    def __init__(self, team_id: str) -> None:
        super().__init__(f"Routing knows no team {team_id!r}", title="Team not found")
        self.team_id = team_id


class AgentNotFound(NotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"Routing knows no agent {agent_id!r}", title="Agent not found")
        self.agent_id = agent_id


class RuleNotFound(NotFound):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Routing knows no rule {rule_id!r}", title="Routing rule not found")
        self.rule_id = rule_id


class AlreadyExists(Conflict):
    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"a {what} {key!r} already exists", title=f"{what.capitalize()} exists")
