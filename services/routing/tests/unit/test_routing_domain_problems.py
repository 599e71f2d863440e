"""Problems, pure: when a threshold is passed (N within a window, k times the baseline), which
cases it matches, the status TRANSITIONS; root-cause rules; which procedure is in force."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import RootCauseCategory
from atiende_routing.domain.cases import CaseStatus, RoutedCase
from atiende_routing.domain.problems import (
    TRANSITIONS,
    IllegalProblemTransition,
    Problem,
    ProblemStatus,
    Threshold,
    Trigger,
)
from atiende_routing.domain.procedures import Procedure, ProcedureText, ReviewThreshold, in_force
from atiende_routing.domain.root_causes import RootCause, check
from atiende_runtime.errors import Conflict, Invalid

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DESIGN = RootCauseCategory.PROCEDURE_DESIGN_FAULT


def threshold(**fields):
    values = {
        "id": "late-deliveries",
        "name": "Late deliveries",
        "motive": "late_delivery",
        "root_cause": DESIGN,
        "trigger": Trigger.COUNT,
        "cases": 5,
        "window": timedelta(hours=24),
        **fields,
    }
    return Threshold(**values)


def case(**fields):
    values = {
        "id": uuid.uuid4(),
        "number": "AT-1",
        "type": "complaint",
        "status": CaseStatus.RESOLVED,
        "opened_at": AT,
        "motive": "late_delivery",
        "root_cause": DESIGN.value,
        "region": "north",
        **fields,
    }
    return RoutedCase(**values)


@pytest.mark.parametrize(("count", "exceeded"), [(0, False), (4, False), (5, True), (9, True)])
def test_a_count_threshold_is_passed_at_n_cases_within_its_window(count, exceeded):
    assert threshold().exceeded(count) is exceeded


@pytest.mark.parametrize(
    ("current", "before", "exceeded"),
    [
        (6, 8, True),  # baseline 2 a week, 3 x 2 = 6
        (5, 8, False),  # below 3 x the baseline
        (2, 0, False),  # no history, but below the floor of 3 cases
        (3, 0, True),  # no history and at the floor
        (12, 16, True),
        (11, 16, False),
    ],
)
def test_a_baseline_threshold_needs_k_times_the_mean_of_the_four_windows_before_and_the_floor(
    current, before, exceeded
):
    weekly = threshold(trigger=Trigger.BASELINE, cases=3, factor=3, window=timedelta(days=7))
    assert weekly.exceeded(current, before) is exceeded
    assert weekly.baseline_span() == (timedelta(days=35), timedelta(days=7))


def test_a_threshold_refuses_what_cannot_work():
    with pytest.raises(Invalid) as no_factor:
        threshold(trigger=Trigger.BASELINE)
    assert no_factor.value.errors[0].field == "factor"
    with pytest.raises(Invalid) as stray:
        threshold(factor=2)
    assert (stray.value.errors[0].field, stray.value.errors[0].rule) == ("factor", "baseline_only")
    with pytest.raises(Invalid) as none:
        threshold(cases=0)
    assert none.value.errors[0].field == "cases"


def test_a_threshold_matches_motive_and_root_cause_and_the_zone_it_names():
    north = threshold(region="north")
    assert north.matches(case())
    assert not north.matches(case(region="south"))
    assert not north.matches(case(root_cause="isolated_incident"))
    assert not north.matches(case(motive="wrong_invoice"))
    assert threshold().matches(case(region="south"))  # no region named: any region


def test_an_open_problem_covers_new_cases_of_its_motive_and_zone_whatever_their_cause():
    problem, detected = Problem.detected(threshold(region="north"), "PRB-000001", [case()], AT)
    assert detected.case_ids
    assert detected.title == problem.title
    assert problem.covers(case(status=CaseStatus.NEW, root_cause=None))
    assert not problem.covers(case(region="south"))


def test_transitions_open_to_known_error_to_resolved_and_nothing_after():
    assert TRANSITIONS[ProblemStatus.OPEN] == {ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED}
    assert TRANSITIONS[ProblemStatus.KNOWN_ERROR] == {ProblemStatus.RESOLVED}
    assert TRANSITIONS[ProblemStatus.RESOLVED] == frozenset()
    problem, _ = Problem.detected(threshold(), "PRB-000001", [], AT)
    known = problem.known_error("send by courier", AT)
    assert (known.status, known.workaround, known.version) == (
        ProblemStatus.KNOWN_ERROR,
        "send by courier",
        2,
    )
    open_case = case(status=CaseStatus.IN_PROGRESS, customer_id=uuid.uuid4())
    resolved, event = known.resolve("carrier changed", AT, open_cases=[open_case], linked=6)
    assert resolved.status is ProblemStatus.RESOLVED
    assert [(c.case_id, c.customer_id) for c in event.open_cases] == [
        (open_case.id, open_case.customer_id)
    ]
    assert event.linked_cases == 6
    with pytest.raises(IllegalProblemTransition) as again:
        resolved.known_error("x", AT)
    assert again.value.extensions["allowed_statuses"] == []
    with pytest.raises(IllegalProblemTransition):
        resolved.resolve("again", AT, open_cases=[], linked=0)
    with pytest.raises(Conflict):
        resolved.changed(owner="sara", title=None, change_owner=True)


def test_a_known_error_needs_its_workaround_and_a_resolution_says_what_was_done():
    problem, _ = Problem.detected(threshold(), "PRB-000001", [], AT)
    with pytest.raises(Invalid) as no_workaround:
        problem.known_error("  ", AT)
    assert no_workaround.value.errors[0].field == "workaround"
    with pytest.raises(Invalid) as no_resolution:
        problem.resolve("", AT, open_cases=[], linked=0)
    assert no_resolution.value.errors[0].field == "resolution"


# --- root causes ------------------------------------------------------------------------------------


def test_complaints_and_claims_need_a_root_cause_others_may_go_without():
    with pytest.raises(Invalid) as missing:
        check(True, None)
    assert (missing.value.errors[0].field, missing.value.errors[0].rule) == (
        "root_cause",
        "required",
    )
    check(False, None)
    check(True, RootCause(RootCauseCategory.ISOLATED_INCIDENT))
    check(True, RootCause(RootCauseCategory.NEEDS_CLEARER_INFORMATION, note="the leaflet"))


@pytest.mark.parametrize(
    ("category", "field"),
    [
        (RootCauseCategory.PROCEDURE_DESIGN_FAULT, "root_cause.procedure"),
        (RootCauseCategory.POLICY_HURTS_CUSTOMERS, "root_cause.policy"),
    ],
)
def test_a_root_cause_that_blames_names_what_it_blames(category, field):
    with pytest.raises(Invalid) as unnamed:
        check(False, RootCause(category))
    assert (unnamed.value.errors[0].field, unnamed.value.errors[0].rule) == (field, "required")
    kind = field.split(".")[1]
    named = RootCause(category, **{kind: "returns"})
    check(True, named)
    assert named.blamed == (kind, "returns")
    assert RootCause(RootCauseCategory.ISOLATED_INCIDENT, procedure="returns").blamed is None


# --- procedures -------------------------------------------------------------------------------------


def procedure(code, channel=None, *, motive="late_delivery", version=1, active=True):
    texts = {"es": ProcedureText("Entrega tardía", ("Le pedimos disculpas",))}
    return Procedure(code, version, motive, texts, channel, active)


def test_the_procedure_in_force_is_the_channels_own_then_the_motives():
    general = procedure("late")
    phone = procedure("late-phone", "phone")
    everything = [general, phone, procedure("other", motive="wrong_invoice")]
    assert in_force(everything, "late_delivery", "phone") == phone
    assert in_force(everything, "late_delivery", "email") == general
    assert in_force(everything, "late_delivery", None) == general
    assert in_force([procedure("late", active=False), phone], "late_delivery", "email") is None
    assert in_force(everything, None, "phone") is None


def test_a_procedure_speaks_the_customers_language_else_the_default():
    texts = {
        "es": ProcedureText("Entrega tardía", ("Le pedimos disculpas",)),
        "en": ProcedureText("Late delivery", ("We apologise",)),
    }
    both = Procedure("late", 1, "late_delivery", texts)
    assert both.text_for("en")[1].title == "Late delivery"
    assert both.text_for("fr")[0] == "es"
    english = Procedure("late", 1, "late_delivery", {"en": texts["en"]})
    assert english.text_for("es") == ("en", texts["en"])
    with pytest.raises(Invalid) as no_steps:
        Procedure("late", 1, "late_delivery", {"es": ProcedureText("t", ())})
    assert no_steps.value.errors[0].field == "texts.es.steps"


def test_a_review_is_due_at_the_threshold_once_per_window():
    review = ReviewThreshold(cases=3, window=timedelta(days=7))
    assert not review.due(2, None, AT)
    assert review.due(3, None, AT)
    assert not review.due(5, AT - timedelta(days=6), AT)
    assert review.due(5, AT - timedelta(days=7), AT)
