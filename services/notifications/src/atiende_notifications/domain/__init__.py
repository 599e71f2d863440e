"""What notifications decides, with no I/O: which email a customer gets and in which language
(notices), its subject and idempotency key, when a failed attempt is retried, and a delivery's
life (deliveries: pending -> sent | failed)."""

from .deliveries import (
    DELIVERY_ID_NAMESPACE,
    TRANSITIONS,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    delivery_id_for,
    message_id,
)
from .errors import DeliveryStateError, UnknownRecipient
from .notices import (
    SUBJECTS,
    Body,
    Notice,
    Recipient,
    Template,
    acknowledgement,
    format_date,
    idempotency_key,
    subject_for,
    survey_invitation,
)

__all__ = [
    "DELIVERY_ID_NAMESPACE",
    "SUBJECTS",
    "TRANSITIONS",
    "Body",
    "Delivery",
    "DeliveryStateError",
    "DeliveryStatus",
    "Notice",
    "Recipient",
    "RetryPolicy",
    "Template",
    "UnknownRecipient",
    "acknowledgement",
    "delivery_id_for",
    "format_date",
    "idempotency_key",
    "message_id",
    "subject_for",
    "survey_invitation",
]
