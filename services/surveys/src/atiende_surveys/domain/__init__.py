"""Surveys' domain: questionnaires and their scores, who may be asked and when, invitations and
their tokens. Pure: decisions only, no I/O. (The words of the pages are in
entrypoints/pages/texts.py; the questionnaires' own words are data, in catalogue.py.)"""

from .cases import CaseFacts, CustomerFacts
from .catalogue import STOCK
from .errors import (
    AnswerProblem,
    EmptyQuestionnaire,
    InvalidAnswer,
    InvalidQuestionnaire,
    InvalidTransition,
    InvitationNotFound,
    QuestionnaireNotFound,
    SurveyAlreadyAnswered,
    SurveyClosed,
    SurveyExpired,
    UnknownCustomer,
)
from .invitations import TRANSITIONS, Invitation, InvitationLinks, InvitationStatus
from .pressure import (
    ALL_KINDS,
    Audience,
    Contact,
    PressurePolicy,
    SuppressionReason,
    Trigger,
    in_daytime,
    may_remind,
    why_not_invite,
    zone_of,
)
from .questionnaires import (
    Answers,
    Dimension,
    Option,
    Question,
    Questionnaire,
    QuestionnaireKind,
    QuestionType,
    Role,
    localise,
)
from .scoring import Scores, Summary, detractor_reasons, score, summarise
from .tokens import hash_token, new_token, survey_url

__all__ = [
    "ALL_KINDS",
    "STOCK",
    "TRANSITIONS",
    "AnswerProblem",
    "Answers",
    "Audience",
    "CaseFacts",
    "Contact",
    "CustomerFacts",
    "Dimension",
    "EmptyQuestionnaire",
    "InvalidAnswer",
    "InvalidQuestionnaire",
    "InvalidTransition",
    "Invitation",
    "InvitationLinks",
    "InvitationNotFound",
    "InvitationStatus",
    "Option",
    "PressurePolicy",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireKind",
    "QuestionnaireNotFound",
    "Role",
    "Scores",
    "Summary",
    "SuppressionReason",
    "SurveyAlreadyAnswered",
    "SurveyClosed",
    "SurveyExpired",
    "Trigger",
    "UnknownCustomer",
    "detractor_reasons",
    "hash_token",
    "in_daytime",
    "localise",
    "may_remind",
    "new_token",
    "score",
    "summarise",
    "survey_url",
    "why_not_invite",
    "zone_of",
]
