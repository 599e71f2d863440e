"""The survey invitation of a resolved case and its lifecycle: pending -> answered | expired."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from atiende_contracts import SurveyAnswered, SurveyInvited

from .answers import Answer
from .errors import InvalidTransition, SurveyAlreadyAnswered, SurveyClosed, SurveyExpired
from .tokens import hash_token, new_token


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"


TRANSITIONS: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    InvitationStatus.PENDING: frozenset({InvitationStatus.ANSWERED, InvitationStatus.EXPIRED}),
    InvitationStatus.ANSWERED: frozenset(),
    InvitationStatus.EXPIRED: frozenset(),
}


@dataclass(frozen=True)
class Invitation:
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    token_hash: str
    status: InvitationStatus
    invited_at: datetime
    expires_at: datetime
    answer: Answer | None = None
    answered_at: datetime | None = None

    @classmethod
    def issue(
        cls, *, case_id: uuid.UUID, case_number: str, now: datetime, ttl: timedelta
    ) -> tuple[Invitation, str]:
        """A new pending invitation and its token; the token is not kept, only its hash."""
        token = new_token()
        invitation = cls(
            id=uuid.uuid4(),
            case_id=case_id,
            case_number=case_number,
            token_hash=hash_token(token),
            status=InvitationStatus.PENDING,
            invited_at=now,
            expires_at=now + ttl,
        )
        return invitation, token

    @classmethod
    def invite(
        cls,
        *,
        case_id: uuid.UUID,
        case_number: str,
        now: datetime,
        ttl: timedelta,
        link: Callable[[str], str],
    ) -> tuple[Invitation, SurveyInvited]:
        """A new pending invitation and the event that carries its link (`link(token)`): the
        token leaves here only inside that link."""
        invitation, token = cls.issue(case_id=case_id, case_number=case_number, now=now, ttl=ttl)
        return invitation, invitation.invited_event(link(token))

    def status_at(self, now: datetime) -> InvitationStatus:
        """The status as the customer sees it: a pending invitation past its expiry is expired,
        whether or not that was written down yet."""
        if self.status is InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status

    def check_open(self, now: datetime) -> None:
        """Raise SurveyExpired or SurveyAlreadyAnswered unless the invitation takes an answer."""
        current = self.status_at(now)
        if InvitationStatus.ANSWERED in TRANSITIONS[current]:
            return
        closed: type[SurveyClosed] = (
            SurveyExpired if current is InvitationStatus.EXPIRED else SurveyAlreadyAnswered
        )
        raise closed(
            current,
            InvitationStatus.ANSWERED,
            case_id=self.case_id,
            case_number=self.case_number,
        )

    def respond(self, answer: Answer, now: datetime) -> tuple[Invitation, SurveyAnswered]:
        self.check_open(now)
        answered = replace(self, status=InvitationStatus.ANSWERED, answer=answer, answered_at=now)
        return answered, SurveyAnswered(
            invitation_id=self.id,
            case_id=self.case_id,
            satisfaction=answer.satisfaction,
            comment=answer.comment,
            answered_at=now,
        )

    def expire(self, now: datetime) -> Invitation:
        """Write down what status_at already says, once the expiry has passed (no event: the
        expiry is no news to anyone)."""
        if InvitationStatus.EXPIRED not in TRANSITIONS[self.status] or now < self.expires_at:
            raise InvalidTransition(self.status_at(now), InvitationStatus.EXPIRED)
        return replace(self, status=InvitationStatus.EXPIRED)

    def invited_event(self, url: str) -> SurveyInvited:
        return SurveyInvited(
            invitation_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            survey_url=url,
            expires_at=self.expires_at,
        )
