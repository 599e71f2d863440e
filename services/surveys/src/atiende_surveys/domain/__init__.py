"""Surveys' domain: invitations and their tokens, and the answer a customer may give. Pure:
decisions only, no I/O. (The words of the survey page are in entrypoints/pages/texts.py.)"""

from .answers import COMMENT_MAX_LENGTH, Answer, parse_answer
from .cases import CaseFacts
from .errors import (
    AnswerProblem,
    InvalidAnswer,
    InvalidTransition,
    InvitationNotFound,
    SurveyAlreadyAnswered,
    SurveyClosed,
    SurveyExpired,
)
from .invitations import TRANSITIONS, Invitation, InvitationStatus
from .tokens import hash_token, new_token, survey_url

__all__ = [
    "COMMENT_MAX_LENGTH",
    "TRANSITIONS",
    "Answer",
    "AnswerProblem",
    "CaseFacts",
    "InvalidAnswer",
    "InvalidTransition",
    "Invitation",
    "InvitationNotFound",
    "InvitationStatus",
    "SurveyAlreadyAnswered",
    "SurveyClosed",
    "SurveyExpired",
    "hash_token",
    "new_token",
    "parse_answer",
    "survey_url",
]
