"""The scores of answers, per answer and over many, and the detractor rule. Pure arithmetic;
docs/surveys.md has the definitions as a table.

- CSAT % = answers of 4 or 5 (on 1..5) / answers x 100.
- NPS = % promoters (9-10) - % detractors (0-6), on 0..10; -100..100.
- CES = mean of the 1..7 agreement with "the company made it easy to handle my issue".
- SERVQUAL: per item gap = perception - expectation (both 1..7), a negatively worded item scored
  8 - x on both; per dimension the mean of its items' gaps (-6..6); over answers the mean of the
  answers' dimension gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .questionnaires import SERVQUAL_POINTS, Answers, Dimension, Questionnaire, QuestionType, Role

CSAT_SATISFIED_FROM = 4
CSAT_DETRACTOR_UP_TO = 2
NPS_PROMOTER_FROM = 9
NPS_DETRACTOR_UP_TO = 6
CES_DETRACTOR_UP_TO = 3

Scores = dict[str, float]


def servqual_key(dimension: Dimension) -> str:
    return f"servqual_{dimension.value}"


def _reverse(value: int) -> int:
    return SERVQUAL_POINTS + 1 - value


def score(questionnaire: Questionnaire, answers: Answers) -> Scores:
    """The scores one answer gives: csat, nps, ces (the first question of that role) and
    servqual_<dimension> gaps for dimensions with at least one item answered both ways."""
    scores: Scores = {}
    gaps: dict[Dimension, list[int]] = {}
    for question in questionnaire.questions:
        if question.role is not None and question.role.value not in scores:
            value = answers.get(question.code)
            if isinstance(value, int):
                scores[question.role.value] = float(value)
        if question.type is QuestionType.SERVQUAL and question.dimension is not None:
            expected = answers.get(f"{question.code}_e")
            perceived = answers.get(f"{question.code}_p")
            if isinstance(expected, int) and isinstance(perceived, int):
                if question.reversed:
                    expected, perceived = _reverse(expected), _reverse(perceived)
                gaps.setdefault(question.dimension, []).append(perceived - expected)
    for dimension in Dimension:
        if dimension in gaps:
            scores[servqual_key(dimension)] = round(sum(gaps[dimension]) / len(gaps[dimension]), 4)
    return scores


def detractor_reasons(scores: Mapping[str, float], gap_threshold: float) -> list[str]:
    """Which detractor rules an answer's scores break (empty: not a detractor)."""
    reasons = []
    if "nps" in scores and scores["nps"] <= NPS_DETRACTOR_UP_TO:
        reasons.append(f"nps<={NPS_DETRACTOR_UP_TO}")
    if "csat" in scores and scores["csat"] <= CSAT_DETRACTOR_UP_TO:
        reasons.append(f"csat<={CSAT_DETRACTOR_UP_TO}")
    if "ces" in scores and scores["ces"] <= CES_DETRACTOR_UP_TO:
        reasons.append(f"ces<={CES_DETRACTOR_UP_TO}")
    for dimension in Dimension:
        gap = scores.get(servqual_key(dimension))
        if gap is not None and gap < gap_threshold:
            reasons.append(f"{servqual_key(dimension)}<{gap_threshold:g}")
    return reasons


@dataclass(frozen=True)
class Summary:
    """Scores over many answers (None where no answer measured it)."""

    responses: int
    csat_answers: int = 0
    csat_percent: float | None = None
    nps_answers: int = 0
    nps: float | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    ces_answers: int = 0
    ces_mean: float | None = None
    servqual_answers: int = 0
    servqual_gaps: dict[str, float] = field(default_factory=dict)


def summarise(all_scores: Iterable[Mapping[str, float]]) -> Summary:
    rows = list(all_scores)
    csat = [s["csat"] for s in rows if "csat" in s]
    nps = [s["nps"] for s in rows if "nps" in s]
    ces = [s["ces"] for s in rows if "ces" in s]
    promoters = sum(1 for v in nps if v >= NPS_PROMOTER_FROM)
    detractors = sum(1 for v in nps if v <= NPS_DETRACTOR_UP_TO)
    gaps: dict[str, float] = {}
    servqual_rows = [s for s in rows if any(k.startswith("servqual_") for k in s)]
    for dimension in Dimension:
        key = servqual_key(dimension)
        values = [s[key] for s in rows if key in s]
        if values:
            gaps[dimension.value] = round(sum(values) / len(values), 2)
    return Summary(
        responses=len(rows),
        csat_answers=len(csat),
        csat_percent=(
            round(100 * sum(1 for v in csat if v >= CSAT_SATISFIED_FROM) / len(csat), 1)
            if csat
            else None
        ),
        nps_answers=len(nps),
        nps=round(100 * (promoters - detractors) / len(nps), 1) if nps else None,
        promoters=promoters,
        passives=len(nps) - promoters - detractors,
        detractors=detractors,
        ces_answers=len(ces),
        ces_mean=round(sum(ces) / len(ces), 2) if ces else None,
        servqual_answers=len(servqual_rows),
        servqual_gaps=gaps,
    )


def satisfaction_of(scores: Mapping[str, float]) -> int | None:
    """The 1..5 satisfaction survey.answered carries (its indicators read it): the CSAT answer."""
    value = scores.get("csat")
    return int(value) if value is not None and 1 <= value <= 5 else None


__all__ = [
    "CES_DETRACTOR_UP_TO",
    "CSAT_DETRACTOR_UP_TO",
    "NPS_DETRACTOR_UP_TO",
    "Role",
    "Scores",
    "Summary",
    "detractor_reasons",
    "satisfaction_of",
    "score",
    "servqual_key",
    "summarise",
]
