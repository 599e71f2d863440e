"""Questionnaires as data: typed questions, worded per language and register, versioned. Pure:
the rules of what an answer to a question may be live here; the stock questionnaires are in
catalogue.py, the scores in scoring.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from atiende_runtime.errors import FieldError

from .errors import AnswerProblem, EmptyQuestionnaire, InvalidAnswer, InvalidQuestionnaire

_E = TypeVar("_E", bound=StrEnum)

Text = Mapping[str, str]
"""One wording per language and register: keys "es" (usted), "es-tu" (tú), "en", "en-tu". A
missing "-tu" falls back to the formal text, a missing language to Spanish."""

AnswerValue = int | str
Answers = dict[str, AnswerValue]
"""Answer key -> value: a scale's number, a choice's option code, "yes"/"no", a text. A SERVQUAL
item has two keys, `<code>_e` (expectation) and `<code>_p` (perception)."""

SERVQUAL_POINTS = 7
TEXT_MAX_LENGTH = 1000
RESERVED_FIELDS = frozenset({"action", "lang", "reg"})


def localise(text: Text, language: str, informal: bool) -> str:
    if informal and f"{language}-tu" in text:
        return text[f"{language}-tu"]
    return text.get(language) or text.get("es") or next(iter(text.values()), "")


class QuestionnaireKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    SERVQUAL = "servqual"
    POST_SALE = "post_sale"
    PERIODIC = "periodic"
    CUSTOM = "custom"


class QuestionType(StrEnum):
    SCALE = "scale"
    CHOICE = "choice"
    YES_NO = "yes_no"
    TEXT = "text"
    SERVQUAL = "servqual"  # one statement, asked as expectation and perception on 1..7


class Role(StrEnum):
    """What a question measures, so scoring finds it whatever its code."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"


class Dimension(StrEnum):
    TANGIBLES = "tangibles"
    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"


@dataclass(frozen=True)
class Option:
    code: str
    label: Text


@dataclass(frozen=True)
class Question:
    code: str
    type: QuestionType
    text: Text
    required: bool = True
    minimum: int = 1
    maximum: int = 5
    low_label: Text | None = None
    high_label: Text | None = None
    labels: tuple[Text, ...] = ()  # a scale's wording per value, lowest first (optional)
    options: tuple[Option, ...] = ()
    role: Role | None = None
    dimension: Dimension | None = None
    reversed: bool = False  # a negatively worded statement: scored 8 - x
    max_length: int = TEXT_MAX_LENGTH

    @property
    def keys(self) -> tuple[str, ...]:
        if self.type is QuestionType.SERVQUAL:
            return (f"{self.code}_e", f"{self.code}_p")
        return (self.code,)

    @property
    def one_click(self) -> bool:
        """Can be answered from an email link (a closed question with few answers)."""
        return self.type in (QuestionType.SCALE, QuestionType.CHOICE, QuestionType.YES_NO)

    def values(self) -> tuple[str, ...]:
        """Every answer a closed question takes, as submitted."""
        if self.type is QuestionType.SCALE:
            return tuple(str(v) for v in range(self.minimum, self.maximum + 1))
        if self.type is QuestionType.CHOICE:
            return tuple(option.code for option in self.options)
        if self.type is QuestionType.YES_NO:
            return ("yes", "no")
        return ()

    def parse(self, key: str, raw: str) -> AnswerValue:
        """One submitted value; raises InvalidAnswer naming `key`."""
        value = raw.replace("\r\n", "\n").strip()
        if self.type is QuestionType.TEXT:
            if len(value) > self.max_length:
                raise _invalid(key, AnswerProblem.TOO_LONG, f"longer than {self.max_length}")
            return value
        if self.type in (QuestionType.SCALE, QuestionType.SERVQUAL):
            low, high = (
                (1, SERVQUAL_POINTS)
                if self.type is QuestionType.SERVQUAL
                else (self.minimum, self.maximum)
            )
            if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
                raise _invalid(
                    key, AnswerProblem.OUT_OF_RANGE, f"must be a whole number from {low} to {high}"
                )
            return int(value)
        if value not in self.values():
            raise _invalid(key, AnswerProblem.NOT_AN_OPTION, "is not one of the answers offered")
        return value


_DIGITS = re.compile(r"[0-9]{1,2}")  # ASCII only: int() would also take "٣" or " +3"


def _invalid(key: str, problem: AnswerProblem, message: str) -> InvalidAnswer:
    return InvalidAnswer([FieldError(key, problem.value, f"{key} {message}")])


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    kind: QuestionnaireKind
    title: Text
    questions: tuple[Question, ...]
    intro: Text = field(default_factory=dict)
    gap_threshold: float = -1.0  # a SERVQUAL dimension gap below this is a detractor

    def __post_init__(self) -> None:
        if not self.questions:
            raise EmptyQuestionnaire(self.id)
        codes = [key for question in self.questions for key in question.keys]
        problems = []
        if len(set(codes)) != len(codes):
            problems.append(FieldError("questions", "duplicate_code", "question codes repeat"))
        for index, question in enumerate(self.questions):
            where = f"questions[{index}]"
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", question.code):
                problems.append(FieldError(where, "bad_code", "code: a-z, 0-9, _ (40 at most)"))
            if question.code in RESERVED_FIELDS:
                problems.append(FieldError(where, "reserved_code", "this code is reserved"))
            if question.type is QuestionType.CHOICE and not question.options:
                problems.append(FieldError(where, "no_options", "a choice needs options"))
            if question.type is QuestionType.SCALE and not (
                0 <= question.minimum < question.maximum <= 10
            ):
                problems.append(FieldError(where, "bad_scale", "a scale runs within 0..10"))
            if question.type is QuestionType.SERVQUAL and question.dimension is None:
                problems.append(FieldError(where, "no_dimension", "a SERVQUAL item needs one"))
            if not question.text:
                problems.append(FieldError(where, "no_text", "a question needs its wording"))
        if problems:
            raise InvalidQuestionnaire(problems)

    @property
    def first(self) -> Question:
        return self.questions[0]

    def question_of(self, key: str) -> Question | None:
        return next((q for q in self.questions if key in q.keys), None)

    def parse(self, fields: Mapping[str, str], *, complete: bool) -> Answers:
        """Validate submitted fields (blank ones are unanswered). `complete`: every required
        question must be answered. Raises InvalidAnswer naming every bad field."""
        answers: Answers = {}
        problems: list[FieldError] = []
        for key, raw in fields.items():
            if key in RESERVED_FIELDS:
                continue
            question = self.question_of(key)
            if question is None:
                problems.append(
                    FieldError(
                        key,
                        AnswerProblem.NOT_IN_QUESTIONNAIRE.value,
                        f"{key} is not a question of this questionnaire",
                    )
                )
                continue
            if not raw.strip():
                continue
            try:
                value = question.parse(key, raw)
            except InvalidAnswer as invalid:
                problems.extend(invalid.errors)
                continue
            if value != "":
                answers[key] = value
        if complete:
            for question in self.questions:
                for key in question.keys:
                    if (
                        question.required
                        and key not in answers
                        and key not in {e.field for e in problems}
                    ):
                        problems.append(
                            FieldError(key, AnswerProblem.MISSING.value, f"{key} is required")
                        )
        if problems:
            raise InvalidAnswer(problems)
        return answers


# --- as data (the admin API and the questionnaires table) ---------------------------------------


def questionnaire_to_data(questionnaire: Questionnaire) -> dict[str, object]:
    return {
        "id": questionnaire.id,
        "version": questionnaire.version,
        "kind": questionnaire.kind.value,
        "title": dict(questionnaire.title),
        "intro": dict(questionnaire.intro),
        "gap_threshold": questionnaire.gap_threshold,
        "questions": [
            {
                "code": q.code,
                "type": q.type.value,
                "text": dict(q.text),
                "required": q.required,
                "minimum": q.minimum,
                "maximum": q.maximum,
                "low_label": dict(q.low_label) if q.low_label else None,
                "high_label": dict(q.high_label) if q.high_label else None,
                "labels": [dict(label) for label in q.labels],
                "options": [{"code": o.code, "label": dict(o.label)} for o in q.options],
                "role": q.role.value if q.role else None,
                "dimension": q.dimension.value if q.dimension else None,
                "reversed": q.reversed,
                "max_length": q.max_length,
            }
            for q in questionnaire.questions
        ],
    }


def _one_of(kind: type[_E], value: Any, field_name: str) -> _E:
    """An enum member, or InvalidQuestionnaire naming the field (an unknown type is bad input,
    not a server error)."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidQuestionnaire(
            [FieldError(field_name, "one_of", f"must be one of {allowed}")]
        ) from None


def questionnaire_from_data(data: Mapping[str, Any]) -> Questionnaire:
    """Raises EmptyQuestionnaire / InvalidQuestionnaire for a definition that breaks a rule."""
    questions = tuple(
        Question(
            code=q["code"],
            type=_one_of(QuestionType, q["type"], f"questions.{i}.type"),
            text=q["text"],
            required=q.get("required", True),
            minimum=q.get("minimum", 1),
            maximum=q.get("maximum", 5),
            low_label=q.get("low_label"),
            high_label=q.get("high_label"),
            labels=tuple(q.get("labels") or ()),
            options=tuple(Option(o["code"], o["label"]) for o in q.get("options") or ()),
            role=_one_of(Role, q["role"], f"questions.{i}.role") if q.get("role") else None,
            dimension=(
                _one_of(Dimension, q["dimension"], f"questions.{i}.dimension")
                if q.get("dimension")
                else None
            ),
            reversed=q.get("reversed", False),
            max_length=q.get("max_length", TEXT_MAX_LENGTH),
        )
        for i, q in enumerate(data.get("questions") or ())
    )
    return Questionnaire(
        id=data["id"],
        version=data["version"],
        kind=_one_of(QuestionnaireKind, data["kind"], "kind"),
        title=data["title"],
        intro=data.get("intro") or {},
        gap_threshold=data.get("gap_threshold", -1.0),
        questions=questions,
    )
