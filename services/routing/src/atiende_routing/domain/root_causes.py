"""The root cause decided at resolution: was the failure isolated, a fault in a procedure's
design, a policy that hurts customers, or only a need for clearer information? Required for
complaints and claims; the procedure or policy concerned is required when the category blames
one. Pure: which codes exist is the use case's question."""

from __future__ import annotations

from dataclasses import dataclass

from atiende_contracts import RootCauseCategory
from atiende_runtime.errors import FieldError, Invalid

__all__ = ["BLAMES", "RootCause", "RootCauseCategory", "check"]

BLAMES: dict[RootCauseCategory, str] = {
    RootCauseCategory.PROCEDURE_DESIGN_FAULT: "procedure",
    RootCauseCategory.POLICY_HURTS_CUSTOMERS: "policy",
}
"""The categories that blame something, and which field must name it."""


@dataclass(frozen=True)
class RootCause:
    category: RootCauseCategory
    procedure: str | None = None
    """The procedure concerned (a code of the managed procedures)."""
    policy: str | None = None
    """The policy concerned (a code of the managed policies)."""
    note: str | None = None

    @property
    def blamed(self) -> tuple[str, str] | None:
        """("procedure" | "policy", code) when the category blames one, else None."""
        kind = BLAMES.get(self.category)
        if kind is None:
            return None
        code = self.procedure if kind == "procedure" else self.policy
        return (kind, code) if code else None


def check(required: bool, root_cause: RootCause | None) -> None:
    """Invalid (422, naming the field and the rule) when a complaint or claim has no root cause,
    or the category blames a procedure or policy the root cause does not name."""
    if root_cause is None:
        if required:
            raise Invalid.field(
                "root_cause",
                "required",
                "complaints and claims are resolved with a root cause: isolated_incident,"
                " procedure_design_fault, policy_hurts_customers or needs_clearer_information",
            )
        return
    errors: list[FieldError] = []
    kind = BLAMES.get(root_cause.category)
    if kind is not None and not getattr(root_cause, kind):
        errors.append(
            FieldError(
                f"root_cause.{kind}",
                "required",
                f"a root cause of {root_cause.category} names the {kind} concerned",
            )
        )
    if errors:
        raise Invalid(errors)
