"""Scoring: CSAT %, NPS, CES mean, SERVQUAL gaps per dimension with reversed items; the
detractor rule; answers parsed against the questionnaire."""

import pytest

from atiende_surveys.domain import STOCK, EmptyQuestionnaire, InvalidAnswer, Questionnaire
from atiende_surveys.domain.questionnaires import (
    QuestionnaireKind,
    questionnaire_from_data,
    questionnaire_to_data,
)
from atiende_surveys.domain.scoring import detractor_reasons, score, summarise

SERVQUAL = STOCK["servqual"]


def test_servqual_has_22_items_in_the_five_dimensions_with_reversed_ones():
    items = [q for q in SERVQUAL.questions if q.type.value == "servqual"]
    assert len(items) == 22
    per_dimension = {}
    for number, item in enumerate(items, start=1):
        per_dimension.setdefault(item.dimension.value, []).append(number)
    assert per_dimension == {
        "tangibles": [1, 2, 3, 4],
        "reliability": [5, 6, 7, 8, 9],
        "responsiveness": [10, 11, 12, 13],
        "assurance": [14, 15, 16, 17],
        "empathy": [18, 19, 20, 21, 22],
    }
    assert [n for n, item in enumerate(items, start=1) if item.reversed] == [11, 13, 19, 22]
    for item in items:
        assert {"es", "es-tu", "en"} <= set(item.text) or {"es", "en"} <= set(item.text)


def test_a_servqual_gap_is_perception_minus_expectation_averaged_per_dimension():
    answers = {"satisfaction": 4, "sq01_e": 7, "sq01_p": 5, "sq02_e": 6, "sq02_p": 6}
    scores = score(SERVQUAL, answers)
    assert scores["servqual_tangibles"] == -1.0  # (-2 + 0) / 2
    assert "servqual_empathy" not in scores  # no item answered both ways


def test_a_negatively_worded_item_is_reverse_scored():
    # item 11 says "you wait too long": agreeing (7) is bad service; expecting 1 is a high bar
    scores = score(SERVQUAL, {"sq11_e": 1, "sq11_p": 7})
    assert scores["servqual_responsiveness"] == -6.0  # (8-7) - (8-1)
    scores = score(SERVQUAL, {"sq10_e": 1, "sq10_p": 7})  # positively worded
    assert scores["servqual_responsiveness"] == 6.0


def test_nps_csat_and_ces_over_many_answers():
    summary = summarise(
        [
            {"nps": 10},
            {"nps": 9},
            {"nps": 8},
            {"nps": 6},
            {"nps": 0},
            {"csat": 5},
            {"csat": 4},
            {"csat": 2},
            {"csat": 3},
            {"ces": 7},
            {"ces": 4},
        ]
    )
    assert summary.nps == 0.0  # 40 % promoters - 40 % detractors
    assert (summary.promoters, summary.passives, summary.detractors) == (2, 1, 2)
    assert summary.csat_percent == 50.0
    assert summary.ces_mean == 5.5
    assert summary.responses == 11


def test_no_answers_no_scores():
    summary = summarise([])
    assert (summary.nps, summary.csat_percent, summary.ces_mean) == (None, None, None)


@pytest.mark.parametrize(
    ("scores", "reasons"),
    [
        ({"nps": 6}, ["nps<=6"]),
        ({"nps": 7}, []),
        ({"csat": 2}, ["csat<=2"]),
        ({"csat": 3}, []),
        ({"ces": 3}, ["ces<=3"]),
        ({"ces": 4}, []),
        ({"servqual_empathy": -1.5}, ["servqual_empathy<-1"]),
        ({"servqual_empathy": -1.0}, []),
    ],
)
def test_the_detractor_rule(scores, reasons):
    assert detractor_reasons(scores, -1.0) == reasons


def test_answers_are_checked_against_the_questionnaire():
    csat = STOCK["csat"]
    assert csat.parse({"satisfaction": "4", "comment": " ok "}, complete=True) == {
        "satisfaction": 4,
        "comment": "ok",
    }
    with pytest.raises(InvalidAnswer) as out_of_range:
        csat.parse({"satisfaction": "6", "nope": "1"}, complete=True)
    assert {f: e.rule for f, e in out_of_range.value.by_field().items()} == {
        "satisfaction": "out_of_range",
        "nope": "not_in_questionnaire",
    }
    with pytest.raises(InvalidAnswer) as missing:
        csat.parse({}, complete=True)
    assert missing.value.by_field()["satisfaction"].rule == "missing"
    assert csat.parse({}, complete=False) == {}  # a draft may be partial
    with pytest.raises(InvalidAnswer):
        SERVQUAL.parse({"sq01_e": "8"}, complete=False)


def test_a_questionnaire_with_no_questions_is_refused():
    with pytest.raises(EmptyQuestionnaire):
        Questionnaire(id="x", version=1, kind=QuestionnaireKind.CUSTOM, title={}, questions=())


def test_questionnaires_round_trip_as_data():
    for questionnaire in STOCK.values():
        assert questionnaire_from_data(questionnaire_to_data(questionnaire)) == questionnaire
