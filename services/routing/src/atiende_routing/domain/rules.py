"""Routing rules: an ordered list of conditions over a case's facts, each with an outcome (team,
priority, SLA policy, required skills). The first active rule whose conditions all hold wins; the
default rule (no conditions, always last) catches the rest. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from atiende_contracts import CaseType, Channel, RoutingRuleChanged, Severity, Tier
from atiende_runtime.errors import FieldError, Invalid

from .org import SLUG, Skills

FACTS: tuple[str, ...] = (
    "type",
    "motive",
    "cause",
    "channel",
    "touchpoint",
    "product",
    "tier",
    "language",
    "severity",
    "upset",
    "region",
)
"""The case facts a condition may test."""

ENUMERATED: dict[str, frozenset[str]] = {
    "type": frozenset(CaseType),
    "channel": frozenset(Channel),
    "tier": frozenset(Tier),
    "severity": frozenset(Severity),
    "upset": frozenset({"true", "false"}),
}
"""Facts with a closed set of values: a condition naming another value could never match."""

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
DEFAULT_RULE_ID = "default"


class Operator(StrEnum):
    EQUALS = "equals"
    IN = "in"
    PRESENT = "present"


def fact_text(value: object) -> str | None:
    """A fact as conditions compare it: enums by value, booleans as "true"/"false"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


@dataclass(frozen=True)
class CaseFacts:
    """What rules look at. `of(case)` reads them by name from any object (a missing one is absent)."""

    values: Mapping[str, str | None]

    @classmethod
    def of(cls, case: object) -> CaseFacts:
        return cls({name: fact_text(getattr(case, name, None)) for name in FACTS})

    @classmethod
    def from_mapping(cls, facts: Mapping[str, object]) -> CaseFacts:
        return cls({name: fact_text(facts.get(name)) for name in FACTS})

    def __getitem__(self, name: str) -> str | None:
        return self.values.get(name)


@dataclass(frozen=True)
class Condition:
    fact: str
    operator: Operator
    values: tuple[str, ...] = ()
    """One value for equals, one or more for in, none for present."""

    def allowed(self) -> frozenset[str] | None:
        """The values this condition accepts; None = any present value."""
        return None if self.operator is Operator.PRESENT else frozenset(self.values)

    def describe(self) -> str:
        if self.operator is Operator.PRESENT:
            return f"{self.fact} is present"
        if self.operator is Operator.EQUALS:
            return f"{self.fact} = {self.values[0]}"
        return f"{self.fact} in [{', '.join(self.values)}]"

    def failure(self, facts: CaseFacts) -> str | None:
        """Why the case fails this condition, or None if it holds."""
        actual = facts[self.fact]
        if actual is None:
            return f"{self.describe()}: the case has no {self.fact}"
        if self.operator is Operator.PRESENT:
            return None
        if actual in self.values:
            return None
        return f"{self.describe()}: the case's {self.fact} is {actual}"

    def problems(self, where: str) -> list[FieldError]:
        if self.fact not in FACTS:
            return [
                FieldError(
                    f"{where}.fact",
                    "fact",
                    f"unknown fact {self.fact!r} (one of: {', '.join(FACTS)})",
                )
            ]
        errors: list[FieldError] = []
        if self.operator is Operator.EQUALS and len(self.values) != 1:
            errors.append(FieldError(f"{where}.value", "equals", "equals takes exactly one value"))
        if self.operator is Operator.IN and not self.values:
            errors.append(
                FieldError(f"{where}.values", "in", "an empty list can never match: give a value")
            )
        if self.operator is Operator.PRESENT and self.values:
            errors.append(FieldError(f"{where}.values", "present", "present takes no value"))
        closed = ENUMERATED.get(self.fact)
        if closed is not None:
            for value in self.values:
                if value not in closed:
                    errors.append(
                        FieldError(
                            f"{where}.values",
                            "value",
                            f"{self.fact} is never {value!r} (one of: {', '.join(sorted(closed))})",
                        )
                    )
        return errors

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "op": self.operator.value}
        if self.operator is Operator.EQUALS:
            out["value"] = self.values[0] if self.values else None
        elif self.operator is Operator.IN:
            out["values"] = list(self.values)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Condition:
        operator = Operator(data["op"])
        if operator is Operator.EQUALS:
            values: tuple[str, ...] = (fact_text(data.get("value")) or "",)
        elif operator is Operator.IN:
            values = tuple(fact_text(v) or "" for v in data.get("values") or ())
        else:
            values = ()
        return cls(str(data["fact"]), operator, values)


@dataclass(frozen=True)
class Outcome:
    team: str
    priority: str = "normal"
    policy_id: str | None = None
    skills: Skills = field(default_factory=Skills)

    def as_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "priority": self.priority,
            "policy_id": self.policy_id,
            "skills": self.skills.as_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            team=data["team"],
            priority=data.get("priority", "normal"),
            policy_id=data.get("policy_id"),
            skills=Skills.from_json(data.get("skills")),
        )


@dataclass(frozen=True)
class RoutingRule:
    id: str
    name: str
    conditions: tuple[Condition, ...]
    outcome: Outcome
    position: int = 0
    version: int = 1
    active: bool = True

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_RULE_ID

    def failures(self, facts: CaseFacts) -> list[tuple[Condition, str]]:
        return [(c, why) for c in self.conditions if (why := c.failure(facts)) is not None]

    def constraints(self) -> dict[str, frozenset[str] | None] | None:
        """Per fact, what the rule accepts (None = any present value); None overall when two
        conditions contradict each other, so the rule can never match."""
        out: dict[str, frozenset[str] | None] = {}
        for condition in self.conditions:
            allowed = condition.allowed()
            if condition.fact in out:
                before = out[condition.fact]
                if before is None:
                    out[condition.fact] = allowed
                elif allowed is not None:
                    out[condition.fact] = before & allowed
            else:
                out[condition.fact] = allowed
            narrowed = out[condition.fact]
            if narrowed is not None and not narrowed:
                return None
        return out

    def covers(self, later: RoutingRule) -> bool:
        """Every case `later` matches is matched by this rule first (so `later` never wins)."""
        mine, theirs = self.constraints(), later.constraints()
        if mine is None or theirs is None:
            return False
        for fact, allowed in mine.items():
            if fact not in theirs:
                return False  # `later` also takes cases without this fact, or with other values
            if allowed is None:
                continue  # mine wants it present: theirs constrains it, so it is present
            narrower = theirs[fact]
            if narrower is None or not narrower <= allowed:
                return False
        return True

    def changed(self, now: Any, actor: str | None) -> RoutingRuleChanged:
        return RoutingRuleChanged(
            rule_id=self.id,
            version_number=self.version,
            position=self.position,
            active=self.active,
            team=self.outcome.team,
            changed_at=now,
            actor=actor,
        )


def rule_problems(rule: RoutingRule) -> list[FieldError]:
    """What is wrong with one rule on its own (not counting the others)."""
    errors: list[FieldError] = []
    if not SLUG.match(rule.id):
        errors.append(
            FieldError("id", "slug", f"rule id {rule.id!r}: lower-case letters, digits, - or _")
        )
    if not rule.name.strip():
        errors.append(FieldError("name", "required", "a rule needs a name"))
    if rule.outcome.priority not in PRIORITIES:
        errors.append(
            FieldError(
                "outcome.priority",
                "priority",
                f"priority {rule.outcome.priority!r} is not one of {', '.join(PRIORITIES)}",
            )
        )
    if rule.is_default and rule.conditions:
        errors.append(
            FieldError(
                "conditions", "default", "the default rule has no conditions: it takes every case"
            )
        )
    for index, condition in enumerate(rule.conditions):
        errors.extend(condition.problems(f"conditions[{index}]"))
    if not errors and rule.constraints() is None:
        errors.append(
            FieldError(
                "conditions",
                "never_matches",
                f"rule {rule.id}: its conditions contradict each other, so it can never match",
            )
        )
    return errors


def ordered(rules: Iterable[RoutingRule]) -> list[RoutingRule]:
    """Active rules in the order they are tried: by position, the default rule last."""
    return sorted((r for r in rules if r.active), key=lambda r: (r.is_default, r.position, r.id))


def set_problems(rules: Iterable[RoutingRule]) -> list[FieldError]:
    """What is wrong with the rules as a whole: no default, or a rule no case can ever reach
    because an earlier one takes every case it would."""
    every = list(rules)
    errors: list[FieldError] = []
    if not any(r.is_default and r.active for r in every):
        errors.append(FieldError("rules", "default", "the default rule must exist and be active"))
    tried = ordered(every)
    for index, later in enumerate(tried):
        if later.is_default:
            continue
        for earlier in tried[:index]:
            if earlier.covers(later):
                errors.append(
                    FieldError(
                        "conditions",
                        "never_matches",
                        f"rule {later.id} can never match: rule {earlier.id} comes first and takes"
                        " every case it would",
                    )
                )
                break
    return errors


def check(rule: RoutingRule, others: Iterable[RoutingRule]) -> None:
    """Raise Invalid if `rule`, put among `others` (its former version excluded), breaks a rule."""
    errors = rule_problems(rule)
    if not errors:
        errors = set_problems([*(r for r in others if r.id != rule.id), rule])
    if errors:
        raise Invalid(errors, f"rule {rule.id}: " + "; ".join(e.message for e in errors))


# --- matching and its explanation --------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    rule_id: str
    version: int
    name: str
    matched: bool
    failed: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "name": self.name,
            "matched": self.matched,
            "failed": list(self.failed),
        }


@dataclass(frozen=True)
class Explanation:
    """Which rule matched a case and, for each rule tried before it, the conditions that failed."""

    rule_id: str
    version: int
    outcome: Outcome
    facts: Mapping[str, str | None]
    verdicts: tuple[Verdict, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "outcome": self.outcome.as_json(),
            "facts": dict(self.facts),
            "verdicts": [v.as_json() for v in self.verdicts],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Explanation:
        return cls(
            rule_id=data["rule_id"],
            version=data["version"],
            outcome=Outcome.from_json(data["outcome"]),
            facts=data["facts"],
            verdicts=tuple(
                Verdict(v["rule_id"], v["version"], v["name"], v["matched"], tuple(v["failed"]))
                for v in data["verdicts"]
            ),
        )


class NoRuleMatched(Exception):
    """Only when the rules lack their default (the migration seeds it and it cannot be deleted)."""


def explain(facts: CaseFacts, rules: Sequence[RoutingRule]) -> Explanation:
    """Try the rules in order; the first whose conditions all hold wins."""
    verdicts: list[Verdict] = []
    for rule in ordered(rules):
        failed = rule.failures(facts)
        if not failed:
            verdicts.append(Verdict(rule.id, rule.version, rule.name, True))
            return Explanation(
                rule.id, rule.version, rule.outcome, dict(facts.values), tuple(verdicts)
            )
        verdicts.append(
            Verdict(rule.id, rule.version, rule.name, False, tuple(why for _, why in failed))
        )
    raise NoRuleMatched("no routing rule matched and there is no default rule")
