"""/routing-rules: the ordered, versioned routing rules (admin), and
GET /cases/{id}/routing-explanation: which rule routed a case and why the earlier ones did not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atiende_runtime.bodies import RequestModel

from ...domain.org import SLUG
from ...domain.rules import (
    ENUMERATED,
    FACTS,
    Condition,
    Explanation,
    Operator,
    Outcome,
    RoutingRule,
    fact_text,
)
from ...repository import PostgresUnitOfWork
from ...usecases import organisation
from .agents import SkillsIn
from .deps import Admin, Anyone, Runtime, actor_of

router = APIRouter(tags=["routing rules"])

FactValue = str | bool


def _operator_operands(schema: dict[str, Any]) -> None:
    """equals (the default) takes one value, in a non-empty list, present nothing."""
    null: dict[str, Any] = {"type": "null"}
    # a fact with a closed set of values takes only those (a boolean as itself or its text)
    allowed = {
        fact: [*sorted(closed), *([False, True] if closed == {"true", "false"} else [])]
        for fact, closed in ENUMERATED.items()
    }
    schema["allOf"] = [
        {
            "if": {"required": ["fact"], "properties": {"fact": {"const": fact}}},
            "then": {
                "properties": {
                    "value": {"anyOf": [null, {"enum": values}]},
                    "values": {"anyOf": [null, {"type": "array", "items": {"enum": values}}]},
                }
            },
        }
        for fact, values in allowed.items()
    ]
    schema["anyOf"] = [
        {
            "required": ["value"],
            "properties": {"op": {"const": "equals"}, "value": {"not": null}},
        },
        {
            "required": ["op", "values"],
            "properties": {"op": {"const": "in"}, "values": {"type": "array", "minItems": 1}},
        },
        {
            "required": ["op"],
            "properties": {
                "op": {"const": "present"},
                "value": null,
                "values": {"anyOf": [null, {"type": "array", "maxItems": 0}]},
            },
        },
    ]


class ConditionIn(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_operator_operands)

    fact: str = Field(
        json_schema_extra={"enum": list(FACTS)}, description=f"One of: {', '.join(FACTS)}"
    )
    op: Operator = Operator.EQUALS
    value: FactValue | None = Field(default=None, description="For equals")
    values: list[FactValue] | None = Field(default=None, description="For in")

    def condition(self) -> Condition:
        if self.op is Operator.EQUALS:
            values: tuple[str, ...] = () if self.value is None else (fact_text(self.value) or "",)
        elif self.op is Operator.IN:
            values = tuple(fact_text(v) or "" for v in self.values or ())
        else:
            values = tuple(
                fact_text(v) or "" for v in [self.value, *(self.values or [])] if v is not None
            )
        return Condition(self.fact, self.op, values)


class OutcomeIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    team: str
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    policy_id: str | None = Field(default=None, description="SLA policy; the default if null")
    skills: SkillsIn = Field(default=SkillsIn(), description="Skills the agent must have")

    def outcome(self) -> Outcome:
        return Outcome(self.team, self.priority, self.policy_id, self.skills.skills())


class RuleIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    position: int = Field(default=0, description="Order (lower first); 0 = after the others")
    conditions: list[ConditionIn] = Field(default=[], description="All must hold")
    outcome: OutcomeIn
    active: bool = True

    def rule(self, rule_id: str) -> RoutingRule:
        return RoutingRule(
            id=rule_id,
            name=self.name,
            conditions=tuple(c.condition() for c in self.conditions),
            outcome=self.outcome.outcome(),
            position=self.position,
            active=self.active,
        )


class NewRule(RuleIn):
    id: str = Field(
        max_length=63,
        pattern=SLUG.pattern,
        description="Slug: lower-case letters, digits, - and _",
    )


class RuleOut(BaseModel):
    id: str
    name: str
    version: int
    position: int
    active: bool
    default: bool
    conditions: list[dict[str, Any]]
    outcome: dict[str, Any]

    @classmethod
    def of(cls, rule: RoutingRule) -> RuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            version=rule.version,
            position=rule.position,
            active=rule.active,
            default=rule.is_default,
            conditions=[c.as_json() for c in rule.conditions],
            outcome=rule.outcome.as_json(),
        )


class VerdictOut(BaseModel):
    rule_id: str
    version: int
    name: str
    matched: bool
    failed: list[str] = Field(description="Each condition that did not hold, and why")


class DecisionOut(BaseModel):
    decided_at: datetime
    rule_id: str
    version: int
    outcome: dict[str, Any]
    facts: dict[str, str | None]
    rules: list[VerdictOut] = Field(description="The rules tried, in order, up to the match")

    @classmethod
    def of(cls, at: datetime, explanation: Explanation) -> DecisionOut:
        return cls(
            decided_at=at,
            rule_id=explanation.rule_id,
            version=explanation.version,
            outcome=explanation.outcome.as_json(),
            facts=dict(explanation.facts),
            rules=[VerdictOut(**v.as_json()) for v in explanation.verdicts],
        )


class ExplanationOut(BaseModel):
    case_id: uuid.UUID
    current: DecisionOut = Field(description="The decision in force (the latest)")
    history: list[DecisionOut] = Field(description="Every decision, oldest first (re-routes)")


@router.get("/routing-rules", response_model=list[RuleOut], summary="The rules in order")
async def list_rules(runtime: Runtime, _: Anyone) -> list[RuleOut]:
    async with runtime.unit_of_work() as tx:
        rules = await organisation.list_rules(PostgresUnitOfWork(tx))
    return [RuleOut.of(r) for r in sorted(rules, key=lambda r: (r.is_default, r.position, r.id))]


@router.get(
    "/routing-rules/{rule_id}",
    response_model=RuleOut,
    summary="A rule (?version=N: as it was then)",
    responses={404: {"description": "Unknown rule or version"}},
)
async def get_rule(
    rule_id: str, runtime: Runtime, _: Anyone, version: int | None = None
) -> RuleOut:
    async with runtime.unit_of_work() as tx:
        return RuleOut.of(await organisation.get_rule(PostgresUnitOfWork(tx), rule_id, version))


@router.post(
    "/routing-rules",
    response_model=RuleOut,
    status_code=201,
    summary="Add a rule; emits routing_rule.changed",
    responses={
        409: {"description": "The id is taken"},
        422: {"description": "Invalid, or it could never match"},
    },
)
async def create_rule(body: NewRule, runtime: Runtime, who: Admin) -> RuleOut:
    async with runtime.unit_of_work() as tx:
        rule = await organisation.create_rule(
            PostgresUnitOfWork(tx), body.rule(body.id), datetime.now(UTC), actor_of(who)
        )
    return RuleOut.of(rule)


@router.put(
    "/routing-rules/{rule_id}",
    response_model=RuleOut,
    summary="A new version of a rule; emits routing_rule.changed",
    responses={
        404: {"description": "Unknown rule"},
        422: {"description": "Invalid or never matches"},
    },
)
async def update_rule(rule_id: str, body: RuleIn, runtime: Runtime, who: Admin) -> RuleOut:
    async with runtime.unit_of_work() as tx:
        rule = await organisation.update_rule(
            PostgresUnitOfWork(tx), body.rule(rule_id), datetime.now(UTC), actor_of(who)
        )
    return RuleOut.of(rule)


@router.delete(
    "/routing-rules/{rule_id}",
    status_code=204,
    summary="Delete a rule (its versions stay for the cases it routed); emits routing_rule.changed",
    responses={404: {"description": "Unknown rule"}, 409: {"description": "The default rule"}},
)
async def delete_rule(rule_id: str, runtime: Runtime, who: Admin) -> None:
    async with runtime.unit_of_work() as tx:
        await organisation.delete_rule(
            PostgresUnitOfWork(tx), rule_id, datetime.now(UTC), actor_of(who)
        )


@router.get(
    "/cases/{case_id}/routing-explanation",
    response_model=ExplanationOut,
    summary="Which rule routed the case and, for each rule tried before it, the conditions that"
    " failed",
    responses={404: {"description": "No routing decision for this case"}},
)
async def routing_explanation(case_id: uuid.UUID, runtime: Runtime, _: Anyone) -> ExplanationOut:
    async with runtime.unit_of_work() as tx:
        decisions = await organisation.routing_explanation(PostgresUnitOfWork(tx), case_id)
    history = [DecisionOut.of(at, e) for at, e in decisions]
    return ExplanationOut(case_id=case_id, current=history[-1], history=history)
