"""Intake's domain errors. They know nothing of HTTP: the runtime answers each as problem+json
(NotFound 404, Conflict 409, Invalid 422) and the web form maps Invalid to its own messages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from atiende_runtime.errors import Conflict, FieldError, Invalid, NotFound

__all__ = [
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
    "MergeNotFound",
    "NotFound",
    "RetiresDefaultMotive",
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
