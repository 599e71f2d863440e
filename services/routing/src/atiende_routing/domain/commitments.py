"""Commitments: a promise to the customer with a due time ("I will call you back before twelve").
made -> kept, or missed at the due time (which escalates the case). Pure: no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from atiende_contracts import (
    Channel,
    CommitmentDueSoon,
    CommitmentKept,
    CommitmentMade,
    CommitmentMissed,
)
from atiende_runtime.errors import Conflict, FieldError, Invalid

MAX_DESCRIPTION = 1000


class CommitmentState(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    MISSED = "missed"


@dataclass(frozen=True)
class Commitment:
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    description: str
    owner_id: str
    due_at: datetime
    made_at: datetime
    to_whom: str | None = None
    owner_email: str | None = None
    channel: Channel | None = None
    state: CommitmentState = CommitmentState.OPEN
    reminded_at: datetime | None = None
    kept_at: datetime | None = None
    missed_at: datetime | None = None
    actor: str | None = None

    @classmethod
    def make(
        cls,
        *,
        case_id: uuid.UUID,
        case_number: str,
        description: str,
        owner_id: str | None,
        due_at: datetime,
        now: datetime,
        to_whom: str | None = None,
        owner_email: str | None = None,
        channel: Channel | None = None,
        actor: str | None = None,
        commitment_id: uuid.UUID | None = None,
    ) -> tuple[Commitment, CommitmentMade]:
        errors: list[FieldError] = []
        description = description.strip()
        if not description:
            errors.append(FieldError("description", "required", "say what was promised"))
        elif len(description) > MAX_DESCRIPTION:
            errors.append(
                FieldError("description", "length", f"at most {MAX_DESCRIPTION} characters")
            )
        if due_at.tzinfo is None:
            errors.append(FieldError("due_at", "timezone", "due_at needs a time zone offset"))
        elif due_at <= now:
            errors.append(
                FieldError("due_at", "future", "a commitment is due in the future, not the past")
            )
        if not owner_id:
            errors.append(
                FieldError("owner_id", "required", "who keeps the promise (the case has no agent)")
            )
        if errors:
            raise Invalid(errors)
        assert owner_id is not None
        commitment = cls(
            id=commitment_id or uuid.uuid4(),
            case_id=case_id,
            case_number=case_number,
            description=description,
            owner_id=owner_id,
            due_at=due_at,
            made_at=now,
            to_whom=to_whom,
            owner_email=owner_email,
            channel=channel,
            actor=actor,
        )
        return commitment, CommitmentMade(
            commitment_id=commitment.id,
            case_id=case_id,
            case_number=case_number,
            description=description,
            due_at=due_at,
            owner_id=owner_id,
            owner_email=owner_email,
            channel=channel,
            made_at=now,
        )

    def remind_at(self, lead: timedelta) -> datetime:
        """When the owner hears it is due soon: `lead` before it, or at once if that has passed."""
        return max(self.made_at, self.due_at - lead)

    def _open(self, doing: str) -> None:
        if self.state is not CommitmentState.OPEN:
            raise Conflict(
                f"the commitment is already {self.state}, so it cannot be {doing}",
                title=f"Commitment cannot be {doing}",
                extensions={"current_state": self.state.value, "allowed_states": ["open"]},
            )

    def due_soon(self, now: datetime) -> tuple[Commitment, CommitmentDueSoon] | None:
        """The reminder, once, while it is still open; None otherwise."""
        if self.state is not CommitmentState.OPEN or self.reminded_at is not None:
            return None
        return replace(self, reminded_at=now), CommitmentDueSoon(
            commitment_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            description=self.description,
            due_at=self.due_at,
            owner_id=self.owner_id,
            owner_email=self.owner_email,
        )

    def keep(self, now: datetime, actor: str | None) -> tuple[Commitment, CommitmentKept]:
        self._open("kept")
        return replace(self, state=CommitmentState.KEPT, kept_at=now), CommitmentKept(
            commitment_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            kept_at=now,
            actor=actor,
        )

    def miss(self, now: datetime) -> tuple[Commitment, CommitmentMissed] | None:
        """Missed at its due time, if still open; None when it was kept (a late timer)."""
        if self.state is not CommitmentState.OPEN:
            return None
        return replace(self, state=CommitmentState.MISSED, missed_at=now), CommitmentMissed(
            commitment_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            due_at=self.due_at,
            owner_id=self.owner_id,
            missed_at=now,
        )
