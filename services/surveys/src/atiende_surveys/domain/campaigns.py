"""The periodic relationship survey of a segment: a campaign picks customers by what surveys
knows of them and schedules one invitation each inside a send window; every invitation still goes
through the one contact-pressure budget when it falls due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from atiende_runtime.errors import FieldError

from .errors import InvalidCampaign


@dataclass(frozen=True)
class Segment:
    """Customers whose known language is `language`, whose latest case was for a `tier`
    customer, and whose latest case was opened within `contacted_within_days`; None matches all."""

    language: str | None = None
    tier: str | None = None
    contacted_within_days: int | None = None

    def contacted_since(self, now: datetime) -> datetime | None:
        if self.contacted_within_days is None:
            return None
        return now - timedelta(days=self.contacted_within_days)

    def matches(
        self,
        *,
        language: str | None,
        tier: str | None,
        last_contact: datetime | None,
        now: datetime,
    ) -> bool:
        since = self.contacted_since(now)
        return (
            (self.language is None or language == self.language)
            and (self.tier is None or tier == self.tier)
            and (since is None or (last_contact is not None and last_contact >= since))
        )


@dataclass(frozen=True)
class Campaign:
    id: uuid.UUID
    questionnaire_id: str
    segment: Segment
    send_from: datetime
    send_until: datetime
    created_at: datetime
    scheduled: int = 0
    created_by: str | None = None
    """The staff member who started it; None when authentication is off."""

    @classmethod
    def plan(
        cls,
        *,
        questionnaire_id: str,
        segment: Segment,
        send_from: datetime,
        send_until: datetime,
        now: datetime,
    ) -> Campaign:
        """A new campaign, or InvalidCampaign for a window that is empty or already over."""
        errors = []
        if send_until <= send_from:
            errors.append(FieldError("send_until", "after_send_from", "must be after send_from"))
        elif send_until <= now:
            errors.append(FieldError("send_until", "in_the_future", "the window is already over"))
        if segment.contacted_within_days is not None and segment.contacted_within_days < 1:
            errors.append(
                FieldError("segment.contacted_within_days", "minimum", "must be at least 1")
            )
        if errors:
            raise InvalidCampaign(errors)
        return cls(
            id=uuid.uuid4(),
            questionnaire_id=questionnaire_id,
            segment=segment,
            send_from=send_from,
            send_until=send_until,
            created_at=now,
        )

    def subject_of(self, customer_id: uuid.UUID) -> tuple[uuid.UUID, str]:
        """The invitation's stand-in case (a campaign invitation has no case): one id per
        campaign and customer, so every later step and event has its subject."""
        return uuid.uuid5(self.id, str(customer_id)), f"campaign-{str(self.id)[:8]}"
