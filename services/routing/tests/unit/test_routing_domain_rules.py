import pytest

from atiende_routing.domain.org import Skills
from atiende_routing.domain.rules import (
    CaseFacts,
    Condition,
    NoRuleMatched,
    Operator,
    Outcome,
    RoutingRule,
    check,
    explain,
    rule_problems,
    set_problems,
)
from atiende_runtime.errors import Invalid

DEFAULT = RoutingRule("default", "Every other case", (), Outcome("general"), position=1000000)


def eq(fact, value):
    return Condition(fact, Operator.EQUALS, (value,))


def among(fact, *values):
    return Condition(fact, Operator.IN, tuple(values))


def present(fact):
    return Condition(fact, Operator.PRESENT)


def rule(rule_id, *conditions, team="billing", position=10, **outcome):
    return RoutingRule(rule_id, rule_id.title(), conditions, Outcome(team, **outcome), position)


def facts(**values):
    return CaseFacts.from_mapping(values)


class Case:
    """Any object with the facts as attributes: rules read them by name."""

    type = "complaint"
    channel = "email"
    upset = True
    language = "en"


def test_facts_are_read_by_name_and_missing_ones_are_absent():
    read = CaseFacts.of(Case())
    assert read["type"] == "complaint"
    assert read["upset"] == "true"
    assert read["region"] is None


def test_the_first_matching_rule_wins_in_position_order():
    rules = [
        DEFAULT,
        rule("later", eq("type", "complaint"), team="later", position=20),
        rule("first", eq("channel", "email"), team="first", position=10),
    ]
    found = explain(facts(type="complaint", channel="email"), rules)
    assert (found.rule_id, found.outcome.team) == ("first", "first")
    assert [v.rule_id for v in found.verdicts] == ["first"]


def test_the_default_rule_catches_what_no_other_rule_takes_and_is_tried_last():
    rules = [rule("vip", eq("tier", "vip"), position=2_000_000), DEFAULT]
    found = explain(facts(tier="standard"), rules)
    assert found.rule_id == "default"
    assert found.outcome.team == "general"
    assert [v.rule_id for v in found.verdicts] == ["vip", "default"]


def test_inactive_rules_are_skipped():
    off = RoutingRule("off", "Off", (eq("type", "claim"),), Outcome("x"), 1, active=False)
    assert explain(facts(type="claim"), [off, DEFAULT]).rule_id == "default"


@pytest.mark.parametrize(
    ("condition", "case", "holds"),
    [
        (eq("language", "en"), {"language": "en"}, True),
        (eq("language", "en"), {"language": "es"}, False),
        (among("channel", "email", "phone"), {"channel": "phone"}, True),
        (among("channel", "email", "phone"), {"channel": "chat"}, False),
        (present("product"), {"product": "fibre"}, True),
        (present("product"), {}, False),
        (eq("upset", "true"), {"upset": True}, True),
        (eq("upset", "true"), {"upset": False}, False),
        (eq("region", "ES-MD"), {}, False),
    ],
)
def test_each_operator(condition, case, holds):
    assert (condition.failure(facts(**case)) is None) is holds


def test_the_explanation_names_each_failed_condition_of_each_earlier_rule():
    rules = [
        rule("vip-upset", eq("tier", "vip"), eq("upset", "true"), position=1),
        rule("billing", among("motive", "invoice", "charge"), present("product"), position=2),
        rule("english", eq("language", "en"), team="intl", position=3),
        DEFAULT,
    ]
    found = explain(facts(tier="standard", upset=False, motive="delivery", language="en"), rules)

    assert found.rule_id == "english"
    assert found.version == 1
    vip, billing, english = found.verdicts
    assert vip.failed == (
        "tier = vip: the case's tier is standard",
        "upset = true: the case's upset is false",
    )
    assert billing.failed == (
        "motive in [invoice, charge]: the case's motive is delivery",
        "product is present: the case has no product",
    )
    assert english.matched
    assert english.failed == ()
    assert found.facts["language"] == "en"


def test_an_explanation_survives_storage():
    found = explain(facts(type="claim"), [rule("claims", eq("type", "claim")), DEFAULT])
    assert type(found).from_json(found.as_json()) == found


def test_without_a_default_rule_a_case_may_match_nothing():
    with pytest.raises(NoRuleMatched):
        explain(facts(), [rule("claims", eq("type", "claim"))])


# --- never-match detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "conditions",
    [
        (eq("type", "claim"), eq("type", "complaint")),
        (eq("channel", "email"), among("channel", "phone", "chat")),
        (among("language", "es", "en"), among("language", "fr")),
    ],
)
def test_contradictory_conditions_can_never_match(conditions):
    errors = rule_problems(rule("broken", *conditions))
    assert [(e.field, e.rule) for e in errors] == [("conditions", "never_matches")]
    assert "rule broken" in errors[0].message


def test_compatible_conditions_on_one_fact_narrow_each_other():
    assert (
        rule_problems(rule("ok", present("motive"), among("motive", "a", "b"), eq("motive", "a")))
        == []
    )


def test_values_a_closed_fact_never_takes_are_refused():
    errors = rule_problems(rule("typo", eq("type", "complaynt"), eq("upset", "maybe")))
    assert {(e.field, e.rule) for e in errors} == {
        ("conditions[0].values", "value"),
        ("conditions[1].values", "value"),
    }


def test_unknown_fact_empty_list_and_bad_priority_are_refused():
    errors = rule_problems(
        RoutingRule(
            "bad",
            "Bad",
            (Condition("colour", Operator.EQUALS, ("red",)), Condition("motive", Operator.IN, ())),
            Outcome("general", priority="asap"),
        )
    )
    assert {(e.field, e.rule) for e in errors} == {
        ("outcome.priority", "priority"),
        ("conditions[0].fact", "fact"),
        ("conditions[1].values", "in"),
    }


def test_a_rule_shadowed_by_an_earlier_broader_rule_is_refused_naming_both():
    earlier = rule("complaints", eq("type", "complaint"), position=10)
    later = rule("email-complaints", eq("type", "complaint"), eq("channel", "email"), position=20)
    errors = set_problems([earlier, later, DEFAULT])
    assert [(e.field, e.rule) for e in errors] == [("conditions", "never_matches")]
    assert "rule email-complaints can never match: rule complaints comes first" in errors[0].message


@pytest.mark.parametrize(
    ("earlier", "later", "shadowed"),
    [
        ((among("channel", "email", "phone"),), (eq("channel", "email"),), True),
        ((present("product"),), (eq("product", "fibre"),), True),
        ((), (eq("type", "claim"),), True),  # a catch-all before it takes everything
        ((eq("channel", "email"),), (among("channel", "email", "phone"),), False),
        ((eq("channel", "email"),), (eq("type", "claim"),), False),
        ((eq("product", "fibre"),), (present("product"),), False),
        ((present("product"),), (), False),
    ],
)
def test_shadowing_is_subset_of_conditions(earlier, later, shadowed):
    rules = [rule("a", *earlier, position=1), rule("b", *later, position=2), DEFAULT]
    assert bool(set_problems(rules)) is shadowed


def test_the_same_rules_in_the_other_order_are_fine():
    broad = rule("complaints", eq("type", "complaint"), position=20)
    narrow = rule("email-complaints", eq("type", "complaint"), eq("channel", "email"), position=10)
    assert set_problems([broad, narrow, DEFAULT]) == []


def test_an_inactive_rule_shadows_nothing():
    off = RoutingRule("off", "Off", (), Outcome("x"), 1, active=False)
    assert set_problems([off, rule("b", eq("type", "claim"), position=2), DEFAULT]) == []


def test_the_set_needs_its_default_rule():
    assert [e.rule for e in set_problems([rule("a", eq("type", "claim"))])] == ["default"]


def test_check_replaces_the_rules_former_version_and_raises_one_422():
    current = [rule("complaints", eq("type", "complaint"), position=10), DEFAULT]
    # the same rule, edited: not compared with its own former version
    check(rule("complaints", eq("type", "complaint"), eq("channel", "email"), position=10), current)
    with pytest.raises(Invalid) as refused:
        check(rule("email", eq("type", "complaint"), eq("channel", "email"), position=20), current)
    assert refused.value.errors[0].rule == "never_matches"
    assert "rule email" in refused.value.message


def test_the_default_rule_has_no_conditions():
    errors = rule_problems(RoutingRule("default", "D", (eq("type", "claim"),), Outcome("general")))
    assert ("conditions", "default") in {(e.field, e.rule) for e in errors}


def test_required_skills_travel_in_the_outcome():
    needs = Outcome("general", skills=Skills(languages=frozenset({"en"})))
    assert Outcome.from_json(needs.as_json()) == needs
