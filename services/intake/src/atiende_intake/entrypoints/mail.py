"""What the two mail doors (the SMTP listener and POST /inbound/email) share: counting the mail
that is kept instead of recorded, and logging what became of a message."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import Counter

from .. import usecases

log = logging.getLogger(__name__)

MAIL_KEPT = Counter(
    "atiende_intake_mail_kept_total",
    "Inbound mail kept for an operator instead of becoming a contact",
    ["kind", "signal"],
)
"""kind: auto_reply, bounce or unreadable; signal: the header (or report) that told us so."""


def signal_of(reason: str) -> str:
    """The low-cardinality part of a reason: `x-autoreply: yes` → `x-autoreply`."""
    return reason.split(":", 1)[0].strip()[:60]


def note_outcome(outcome: usecases.ContactRecorded | usecases.MailKept, door: str) -> None:
    extra: dict[str, Any] = {"door": door}
    if isinstance(outcome, usecases.MailKept):
        if outcome.first_time:
            MAIL_KEPT.labels(outcome.kind.value, signal_of(outcome.reason)).inc()
        extra |= {"kind": outcome.kind.value, "reason": outcome.reason, "kept_id": str(outcome.id)}
        if outcome.case_id is not None:
            extra["case_id"] = str(outcome.case_id)
        log.info("email kept, not a contact", extra=extra)
        return
    extra |= {
        "contact_id": str(outcome.contact_id),
        "outcome": outcome.outcome.value,
        "replayed": outcome.replayed,
    }
    if outcome.case is not None:
        extra["case_number"] = outcome.case.number
    log.info("email received", extra=extra)
