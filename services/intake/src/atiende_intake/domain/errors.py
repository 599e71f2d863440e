"""Intake's domain errors. They know nothing of HTTP: the runtime answers each as problem+json
(NotFound 404, Conflict 409, Invalid 422) and the web form maps Invalid to its own messages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from atiende_runtime.errors import Conflict, DomainError, FieldError, Invalid, NotFound

__all__ = [
    "CaseConflict",
    "CaseNotFound",
    "CodeExists",
    "Conflict",
    "ContactNotFound",
    "CustomerConflict",
    "CustomerNotFound",
    "EntryNotFound",
    "FieldError",
    "IdentityTaken",
    "Invalid",
    "KeptMailNotFound",
    "MergeNotFound",
    "NotFound",
    "RetiresDefaultMotive",
    "StaleCase",
    "TakenIdentity",
]


class CustomerNotFound(NotFound):
    default_title = "Customer not found"

    def __init__(self, customer_id: uuid.UUID | None = None, *, detail: str | None = None) -> None:
        super().__init__(detail or f"No customer with id {customer_id}")


class CustomerConflict(Conflict):
    """The customer's state refuses the operation (erased, merged away…); the title says which."""


class MergeNotFound(NotFound):
    default_title = "Merge not found"

    def __init__(self, merge_id: uuid.UUID) -> None:
        super().__init__(f"No customer merge with id {merge_id}")


class CaseNotFound(NotFound):
    default_title = "Case not found"

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"No case with id {case_id}")


class ContactNotFound(NotFound):
    default_title = "Contact not found"

    def __init__(self, contact_id: uuid.UUID) -> None:
        super().__init__(f"No contact with id {contact_id}")


class EntryNotFound(NotFound):
    default_title = "Catalogue entry not found"


class CodeExists(Conflict):
    default_title = "Code already exists"


class RetiresDefaultMotive(Conflict):
    default_title = "Default motive"


@dataclass(frozen=True)
class TakenIdentity(FieldError):
    """An identity another customer owns: the field, and who owns it (so a client can merge)."""

    owner_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {**super().as_dict(), "owner_id": self.owner_id}


class IdentityTaken(Conflict):
    kind = "identity-taken"
    default_title = "Identity belongs to another customer"


class CaseConflict(Conflict):
    """The cases' state refuses a triage operation (a merge of two customers' cases, a split
    of a case's only contact…); the title says which."""


class StaleCase(DomainError):
    """The If-Match version is not the case's current one (the route answers 412)."""

    def __init__(self, case_number: str, expected: int, current: int) -> None:
        self.current = current
        super().__init__(
            f"case {case_number} is at version {current}, not {expected}: reload it and retry",
            title="Case changed since you read it",
        )


class KeptMailNotFound(NotFound):
    default_title = "Kept message not found"

    def __init__(self, kept_id: uuid.UUID) -> None:
        super().__init__(f"No kept message with id {kept_id}")
