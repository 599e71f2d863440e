"""Surveys' domain errors. The app maps them to problem+json by their base (NotFound 404,
Conflict 409, Gone 410, Invalid 422); the survey page maps them to its own pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from atiende_runtime.errors import Conflict, DomainError, FieldError, Gone, Invalid, NotFound


class InvitationNotFound(NotFound):
    """No invitation has the token of this link."""

    def __init__(self) -> None:
        super().__init__("no survey invitation has this token", title="Survey not found")


class InvalidTransition(DomainError):
    """A status change that the invitation's status, or the time, does not allow."""

    kind = "invalid-transition"

    def __init__(self, status: str, wanted: str) -> None:
        super().__init__(f"an invitation that is {status} cannot become {wanted} now")
        self.status = status
        self.wanted = wanted


class SurveyClosed(InvalidTransition):
    """The invitation no longer takes an answer: it was answered, or it expired. Carries the
    case, so a page can name it."""

    def __init__(self, status: str, wanted: str, *, case_id: uuid.UUID, case_number: str) -> None:
        super().__init__(status, wanted)
        self.case_id = case_id
        self.case_number = case_number


class SurveyAlreadyAnswered(SurveyClosed, Conflict):
    default_title = "Survey already answered"


class SurveyExpired(SurveyClosed, Gone):
    default_title = "Survey expired"


class AnswerProblem(StrEnum):
    """Why a submitted answer was refused (the FieldError's rule); a page words each one."""

    MISSING = "missing"
    OUT_OF_RANGE = "out_of_range"
    NOT_AN_OPTION = "not_an_option"
    TOO_LONG = "too_long"
    NOT_IN_QUESTIONNAIRE = "not_in_questionnaire"


class EmptyQuestionnaire(Invalid):
    """A questionnaire must ask something."""

    def __init__(self, questionnaire_id: str) -> None:
        super().__init__(
            [FieldError("questions", "empty", f"questionnaire {questionnaire_id} has no questions")]
        )


class InvalidQuestionnaire(Invalid):
    """A questionnaire definition breaks a rule (one FieldError per problem)."""


class QuestionnaireNotFound(NotFound):
    def __init__(self, questionnaire_id: str) -> None:
        super().__init__(f"no questionnaire {questionnaire_id!r}", title="Questionnaire not found")


class UnknownCustomer(NotFound):
    def __init__(self) -> None:
        super().__init__("surveys knows no such customer", title="Customer not found")


class InvalidAnswer(Invalid):
    """A submitted answer breaks a rule; one FieldError per bad field. Raised by a use case it
    also names the case, so the page can show the form again."""

    def __init__(
        self,
        errors: Iterable[FieldError],
        *,
        case_id: uuid.UUID | None = None,
        case_number: str | None = None,
    ) -> None:
        super().__init__(errors)
        self.case_id = case_id
        self.case_number = case_number

    @property
    def problems(self) -> dict[str, AnswerProblem]:
        """Form field name -> what is wrong with it."""
        return {field: AnswerProblem(e.rule) for field, e in self.by_field().items()}

    def in_case(self, case_id: uuid.UUID, case_number: str) -> InvalidAnswer:
        return InvalidAnswer(self.errors, case_id=case_id, case_number=case_number)


class InvalidCampaign(Invalid):
    """A campaign's window or segment breaks a rule (one FieldError per problem)."""


class CampaignNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such campaign", title="Campaign not found")
