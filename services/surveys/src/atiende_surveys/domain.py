"""Surveys' domain: invitations and their tokens, the answer a customer may give, and the words
of the survey page. Pure: decisions only, no I/O.

An invitation's link carries a random token; only the token's SHA-256 is stored, so a copy of the
database does not open anyone's survey. The link exists only in the survey.invited event (and
the outbox row that carries it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from atiende_contracts import SurveyAnswered, SurveyInvited

COMMENT_MAX_LENGTH = 1000


# --- tokens -------------------------------------------------------------------------------------


def new_token() -> str:
    """An unguessable survey token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored and looked up instead of the token (hex SHA-256). A token has 256 bits of
    entropy, so a plain hash cannot be reversed by guessing; no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def survey_url(base_url: str, token: str, language: str | None = None) -> str:
    """The link sent to the customer; it opens in the customer's language when we know it."""
    url = f"{base_url.rstrip('/')}/s/{token}"
    if language and language != DEFAULT_LANGUAGE and language in PAGE_TEXTS:
        url += f"?lang={language}"
    return url


# --- invitations --------------------------------------------------------------------------------


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"


TRANSITIONS: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    InvitationStatus.PENDING: frozenset({InvitationStatus.ANSWERED, InvitationStatus.EXPIRED}),
    InvitationStatus.ANSWERED: frozenset(),
    InvitationStatus.EXPIRED: frozenset(),
}


class InvalidTransition(Exception):
    """A status change that the invitation's status, or the time, does not allow."""

    def __init__(self, status: InvitationStatus, wanted: InvitationStatus) -> None:
        super().__init__(f"an invitation that is {status} cannot become {wanted} now")
        self.status = status


class SurveyClosed(InvalidTransition):
    """The invitation no longer takes an answer: it was answered, or it expired."""


@dataclass(frozen=True)
class Answer:
    """A validated answer: satisfaction 1..5 and an optional comment."""

    satisfaction: int
    comment: str | None = None


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

    def status_at(self, now: datetime) -> InvitationStatus:
        """The status as the customer sees it: a pending invitation past its expiry is expired,
        whether or not that was written down yet."""
        if self.status is InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status

    def respond(self, answer: Answer, now: datetime) -> tuple[Invitation, SurveyAnswered]:
        current = self.status_at(now)
        if InvitationStatus.ANSWERED not in TRANSITIONS[current]:
            raise SurveyClosed(current, InvitationStatus.ANSWERED)
        answered = replace(self, status=InvitationStatus.ANSWERED, answer=answer, answered_at=now)
        return answered, SurveyAnswered(
            invitation_id=self.id,
            case_id=self.case_id,
            satisfaction=answer.satisfaction,
            comment=answer.comment,
            answered_at=now,
        )

    def expire(self, now: datetime) -> Invitation:
        """Write down what status_at already says, once the expiry has passed."""
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


# --- the submitted form -------------------------------------------------------------------------


class AnswerProblem(StrEnum):
    """Why a submitted form was refused; each names a message in PageText."""

    SATISFACTION_MISSING = "satisfaction_missing"
    SATISFACTION_NOT_1_TO_5 = "satisfaction_not_1_to_5"
    COMMENT_TOO_LONG = "comment_too_long"


class InvalidAnswer(ValueError):
    def __init__(self, problems: dict[str, AnswerProblem]) -> None:
        super().__init__(", ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems  # form field name -> what is wrong with it


_ONE_TO_FIVE = re.compile(r"[1-5]")  # ASCII only: int() would also take "٣" or " +3"


def parse_answer(satisfaction: str | None, comment: str | None) -> Answer:
    """Validate the form's fields; raises InvalidAnswer naming every bad field."""
    problems: dict[str, AnswerProblem] = {}
    rating = (satisfaction or "").strip()
    if not rating:
        problems["satisfaction"] = AnswerProblem.SATISFACTION_MISSING
    elif not _ONE_TO_FIVE.fullmatch(rating):
        problems["satisfaction"] = AnswerProblem.SATISFACTION_NOT_1_TO_5
    # browsers submit a textarea's line breaks as CRLF but count them as one character for
    # maxlength; normalising first keeps a comment the page accepted from being refused here
    text = (comment or "").replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX_LENGTH:
        problems["comment"] = AnswerProblem.COMMENT_TOO_LONG
    if problems:
        raise InvalidAnswer(problems)
    return Answer(satisfaction=int(rating), comment=text or None)


# --- the words of the survey page ---------------------------------------------------------------


@dataclass(frozen=True)
class PageText:
    """Every string of the survey pages in one language. `{number}` is the case number."""

    language_name: str  # how the language names itself, for the language switch
    other_languages: str
    title: str
    optional_note: str
    question: str
    satisfaction_labels: tuple[str, str, str, str, str]  # for 1..5
    comment_label: str
    comment_hint: str
    submit: str
    error_summary: str
    field_names: dict[str, str]
    satisfaction_missing: str
    satisfaction_not_1_to_5: str
    comment_too_long: str
    thanks_title: str
    thanks_body: str
    already_answered_title: str
    already_answered_body: str
    expired_title: str
    expired_body: str
    not_found_title: str
    not_found_body: str

    def describe(self, problem: AnswerProblem) -> str:
        message: str = getattr(self, problem.value)
        return message.format(max=COMMENT_MAX_LENGTH)


SPANISH = PageText(
    language_name="Español",
    other_languages="Otros idiomas",
    title="Encuesta de satisfacción",
    optional_note="Responder es opcional y le tomará menos de un minuto.",
    question="¿Cómo valora la forma en que atendimos su caso {number}?",
    satisfaction_labels=(
        "Muy insatisfactoria",
        "Insatisfactoria",
        "Ni satisfactoria ni insatisfactoria",
        "Satisfactoria",
        "Muy satisfactoria",
    ),
    comment_label="¿Desea contarnos algo más? (opcional)",
    comment_hint="Hasta {max} caracteres.",
    submit="Enviar respuesta",
    error_summary="Revise el formulario:",
    field_names={"satisfaction": "Valoración", "comment": "Comentario"},
    satisfaction_missing="Elija una valoración del 1 al 5.",
    satisfaction_not_1_to_5="La valoración debe ser un número del 1 al 5.",
    comment_too_long="El comentario no puede superar los {max} caracteres.",
    thanks_title="¡Muchas gracias!",
    thanks_body="Hemos recibido su respuesta sobre el caso {number}. Nos ayuda a atenderle mejor.",
    already_answered_title="Encuesta ya respondida",
    already_answered_body="Ya recibimos su respuesta sobre el caso {number}. "
    "Gracias por su tiempo.",
    expired_title="Encuesta vencida",
    expired_body="El plazo para responder la encuesta del caso {number} ha terminado. "
    "Gracias de todos modos.",
    not_found_title="Encuesta no encontrada",
    not_found_body="Este enlace de encuesta no es válido. Compruebe que lo ha copiado completo.",
)

ENGLISH = PageText(
    language_name="English",
    other_languages="Other languages",
    title="Satisfaction survey",
    optional_note="Answering is optional and takes less than a minute.",
    question="How satisfied are you with how we handled your case {number}?",
    satisfaction_labels=(
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ),
    comment_label="Anything else you would like to tell us? (optional)",
    comment_hint="Up to {max} characters.",
    submit="Send answer",
    error_summary="Please check the form:",
    field_names={"satisfaction": "Satisfaction", "comment": "Comment"},
    satisfaction_missing="Choose a rating from 1 to 5.",
    satisfaction_not_1_to_5="The rating must be a number from 1 to 5.",
    comment_too_long="The comment cannot be longer than {max} characters.",
    thanks_title="Thank you!",
    thanks_body="We have received your answer about case {number}. It helps us serve you better.",
    already_answered_title="Survey already answered",
    already_answered_body="We already have your answer about case {number}. "
    "Thank you for your time.",
    expired_title="Survey expired",
    expired_body="The time to answer the survey about case {number} is over. Thank you anyway.",
    not_found_title="Survey not found",
    not_found_body="This survey link is not valid. Please check that you copied all of it.",
)

DEFAULT_LANGUAGE = "es"
PAGE_TEXTS: dict[str, PageText] = {"es": SPANISH, "en": ENGLISH}


def page_language(requested: str | None) -> str:
    """The page's language: the one asked for if the page exists in it, else Spanish."""
    code = (requested or "").strip().lower()
    return code if code in PAGE_TEXTS else DEFAULT_LANGUAGE
