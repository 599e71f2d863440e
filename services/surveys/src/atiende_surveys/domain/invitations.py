"""A survey invitation and its lifecycle: pending -> answered | expired | declined. A pending
invitation keeps the customer's partial answers (its draft) until the one final answer."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from atiende_contracts import (
    Formality,
    SurveyAnswered,
    SurveyAnswerLink,
    SurveyDeclined,
    SurveyDetractor,
    SurveyInvited,
    SurveyReminded,
)
from atiende_contracts import (
    SurveyExpired as SurveyExpiredEvent,
)
from atiende_runtime.erasure import ERASED

from .errors import InvalidTransition, SurveyAlreadyAnswered, SurveyClosed, SurveyExpired
from .questionnaires import Answers, Questionnaire, QuestionType, localise
from .scoring import Scores, detractor_reasons, satisfaction_of, score
from .tokens import hash_token, new_token, survey_url


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"
    DECLINED = "declined"


TRANSITIONS: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    InvitationStatus.PENDING: frozenset(
        {InvitationStatus.ANSWERED, InvitationStatus.EXPIRED, InvitationStatus.DECLINED}
    ),
    InvitationStatus.ANSWERED: frozenset(),
    InvitationStatus.EXPIRED: frozenset(),
    InvitationStatus.DECLINED: frozenset(),
}


ANSWER_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
"""A choice's or yes/no's stored value: a code, not the customer's words."""


def erased_answers(answers: Answers) -> Answers:
    """Answers without the customer's words: text that is not an answer code is ERASED; numbers
    and codes stay, so scores can still be recomputed."""
    return {
        code: ERASED if isinstance(value, str) and not ANSWER_CODE.match(value) else value
        for code, value in answers.items()
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
    customer_id: uuid.UUID | None = None
    questionnaire_id: str = "csat"
    questionnaire_version: int = 1
    kind: str = "csat"
    language: str = "es"
    formality: Formality | None = None
    trigger: str = "resolution"
    agent_id: str | None = None
    team: str | None = None
    reminders: int = 0
    # the reminder's own link: a second token for the same invitation (the first keeps working)
    reminder_token_hash: str | None = None
    draft: Answers = field(default_factory=dict)
    answers: Answers | None = None
    scores: Scores | None = None
    answered_at: datetime | None = None

    @property
    def informal(self) -> bool:
        return self.formality is Formality.INFORMAL

    @classmethod
    def issue(
        cls,
        *,
        case_id: uuid.UUID,
        case_number: str,
        now: datetime,
        ttl: timedelta,
        questionnaire: Questionnaire | None = None,
        customer_id: uuid.UUID | None = None,
        language: str = "es",
        formality: Formality | None = None,
        trigger: str = "resolution",
        agent_id: str | None = None,
        team: str | None = None,
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
            customer_id=customer_id,
            questionnaire_id=questionnaire.id if questionnaire else "csat",
            questionnaire_version=questionnaire.version if questionnaire else 1,
            kind=questionnaire.kind.value if questionnaire else "csat",
            language=language,
            formality=formality,
            trigger=trigger,
            agent_id=agent_id,
            team=team,
        )
        return invitation, token

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
            current, InvitationStatus.ANSWERED, case_id=self.case_id, case_number=self.case_number
        )

    def save_draft(self, answers: Answers, now: datetime) -> Invitation:
        """Keep partial answers (merged over earlier ones) without answering."""
        self.check_open(now)
        return replace(self, draft={**self.draft, **answers})

    def respond(
        self, questionnaire: Questionnaire, answers: Answers, now: datetime
    ) -> tuple[Invitation, SurveyAnswered | None, SurveyDetractor | None]:
        """The one final answer, its scores, and the events: survey.answered (when the
        questionnaire asks the 1..5 satisfaction its consumers read) and survey.detractor."""
        self.check_open(now)
        scores = score(questionnaire, answers)
        answered = replace(
            self,
            status=InvitationStatus.ANSWERED,
            answers=answers,
            draft={},
            scores=scores,
            answered_at=now,
        )
        comment = next(
            (
                value
                for q in questionnaire.questions
                if q.type is QuestionType.TEXT
                and isinstance(value := answers.get(q.code), str)
                and value
            ),
            None,
        )
        satisfaction = satisfaction_of(scores)
        event = (
            SurveyAnswered(
                invitation_id=self.id,
                case_id=self.case_id,
                satisfaction=satisfaction,
                comment=comment,
                answered_at=now,
                questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version,
                questionnaire_kind=questionnaire.kind.value,
                customer_id=self.customer_id,
                scores=scores,
            )
            if satisfaction is not None
            else None
        )
        reasons = detractor_reasons(scores, questionnaire.gap_threshold)
        detractor = (
            SurveyDetractor(
                invitation_id=self.id,
                case_id=self.case_id,
                case_number=self.case_number,
                customer_id=self.customer_id,
                agent_id=self.agent_id,
                team=self.team,
                questionnaire_kind=questionnaire.kind.value,
                scores=scores,
                reasons=reasons,
                comment=comment,
                detected_at=now,
            )
            if reasons
            else None
        )
        return answered, event, detractor

    def expire(self, now: datetime) -> tuple[Invitation, SurveyExpiredEvent]:
        if InvitationStatus.EXPIRED not in TRANSITIONS[self.status] or now < self.expires_at:
            raise InvalidTransition(self.status_at(now), InvitationStatus.EXPIRED)
        return replace(self, status=InvitationStatus.EXPIRED, draft={}), SurveyExpiredEvent(
            invitation_id=self.id,
            case_id=self.case_id,
            customer_id=self.customer_id,
            expired_at=now,
        )

    def decline(self, now: datetime) -> tuple[Invitation, SurveyDeclined | None]:
        """The customer said no. Declining an answered or expired survey changes nothing (the
        opt-out it comes with still counts)."""
        if self.status_at(now) is not InvitationStatus.PENDING:
            return self, None
        return replace(self, status=InvitationStatus.DECLINED, draft={}), SurveyDeclined(
            invitation_id=self.id,
            case_id=self.case_id,
            customer_id=self.customer_id,
            questionnaire_kind=self.kind,
            declined_at=now,
        )

    def remind(self) -> Invitation:
        """Count the one reminder without sending one (it will never fit the budget)."""
        return replace(self, reminders=self.reminders + 1)

    def remind_with_link(self) -> tuple[Invitation, str]:
        """Count the one reminder and mint its link: a fresh random token whose hash is kept
        beside the first one. Still one invitation (one answer, one expiry); the invitation's
        own link keeps working, and the database again holds hashes only."""
        token = new_token()
        return replace(
            self, reminders=self.reminders + 1, reminder_token_hash=hash_token(token)
        ), token

    def erased(self) -> Invitation:
        """The invitation of an erased customer: free-text answers and drafts read ERASED,
        scores and statuses stay (they are the indicators'), and its links stop working (a new
        token nobody holds replaces the one in the customer's mailbox)."""
        return replace(
            self,
            token_hash=hash_token(new_token()),
            reminder_token_hash=None,
            draft=erased_answers(self.draft),
            answers=None if self.answers is None else erased_answers(self.answers),
        )

    def opened_by(self, token_hash: str) -> bool:
        return token_hash in (self.token_hash, self.reminder_token_hash)

    # --- the messages that carry the link ------------------------------------------------------

    def links(self, base_url: str, token: str) -> InvitationLinks:
        return InvitationLinks(base_url, token, self.language, self.informal)

    def invited_event(
        self,
        url: str,
        *,
        questionnaire: Questionnaire | None = None,
        links: InvitationLinks | None = None,
    ) -> SurveyInvited:
        first_question = answer_links = opt_out_url = None
        if questionnaire is not None and links is not None:
            first = questionnaire.first
            first_question = localise(first.text, self.language, self.informal).format(
                number=self.case_number
            )
            if first.one_click:
                answer_links = [
                    SurveyAnswerLink(
                        value=value,
                        label=_label(questionnaire, value, self.language, self.informal),
                        url=links.answer(first.code, value),
                    )
                    for value in first.values()
                ]
            opt_out_url = links.opt_out
        return SurveyInvited(
            invitation_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            survey_url=url,
            expires_at=self.expires_at,
            customer_id=self.customer_id,
            questionnaire_kind=self.kind,
            language=self.language,
            formality=self.formality,
            first_question=first_question,
            answer_links=answer_links,
            opt_out_url=opt_out_url,
        )

    def reminded_event(self, url: str, now: datetime) -> SurveyReminded:
        return SurveyReminded(
            invitation_id=self.id,
            case_id=self.case_id,
            case_number=self.case_number,
            customer_id=self.customer_id,
            survey_url=url,
            expires_at=self.expires_at,
            reminded_at=now,
        )


def _label(questionnaire: Questionnaire, value: str, language: str, informal: bool) -> str:
    first = questionnaire.first
    if first.type is QuestionType.CHOICE:
        option = next(o for o in first.options if o.code == value)
        return localise(option.label, language, informal)
    if first.type is QuestionType.YES_NO:
        return {"es": {"yes": "Sí", "no": "No"}}.get(language, {"yes": "Yes", "no": "No"})[value]
    index = int(value) - first.minimum
    if first.labels and 0 <= index < len(first.labels):
        return f"{value} · {localise(first.labels[index], language, informal)}"
    return value


@dataclass(frozen=True)
class InvitationLinks:
    """The links of one invitation: the survey page, one per first-question answer (each opens a
    confirmation page: following it records nothing), and the opt-out page."""

    base_url: str
    token: str
    language: str
    informal: bool

    def _query(self, **extra: str) -> str:
        params = dict(extra)
        if self.language != "es":
            params["lang"] = self.language
        if self.informal:
            params["reg"] = "tu"
        return ("?" + urlencode(params)) if params else ""

    @property
    def survey(self) -> str:
        return survey_url(self.base_url, self.token, self.language) + (
            ("&" if self.language != "es" else "?") + "reg=tu" if self.informal else ""
        )

    def answer(self, code: str, value: str) -> str:
        return f"{self.base_url.rstrip('/')}/s/{self.token}/a" + self._query(**{code: value})

    @property
    def opt_out(self) -> str:
        return f"{self.base_url.rstrip('/')}/s/{self.token}/optout" + self._query()
