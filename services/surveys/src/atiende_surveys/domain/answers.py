"""The answer a customer may give: a satisfaction rating 1..5 and an optional comment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from atiende_runtime.errors import FieldError

from .errors import AnswerProblem, InvalidAnswer

COMMENT_MAX_LENGTH = 1000

_MESSAGES = {
    AnswerProblem.SATISFACTION_MISSING: "a rating from 1 to 5 is required",
    AnswerProblem.SATISFACTION_NOT_1_TO_5: "the rating must be a number from 1 to 5",
    AnswerProblem.COMMENT_TOO_LONG: f"the comment is longer than {COMMENT_MAX_LENGTH} characters",
}


@dataclass(frozen=True)
class Answer:
    """A validated answer: satisfaction 1..5 and an optional comment."""

    satisfaction: int
    comment: str | None = None


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
        raise InvalidAnswer(
            FieldError(field, problem.value, _MESSAGES[problem])
            for field, problem in problems.items()
        )
    return Answer(satisfaction=int(rating), comment=text or None)
