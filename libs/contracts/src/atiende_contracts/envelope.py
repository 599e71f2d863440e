"""The CloudEvents 1.0 envelope every Atiende event travels in, and its AMQP mapping.

The AMQP 0-9-1 binding used here is "binary mode": the body is the JSON of the event data, and the
context attributes travel beside it. Standard AMQP properties carry what they can (message_id,
type, timestamp, app_id, content_type) and every attribute is also a `ce-` prefixed header, so a
consumer never needs to parse the body to route, deduplicate or trace a message.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
TYPE_PREFIX = "io.atiende."
HEADER_PREFIX = "ce-"


class EventData(BaseModel):
    """Base of every event's data. Subclasses declare `event_type` and `version`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    """Past-tense name `<aggregate>.<event>`, e.g. `case.opened`."""
    version: ClassVar[int] = 1
    """Data schema version; raise it for any breaking change (the snapshot test enforces it)."""

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.event_type}.v{cls.version}"

    @classmethod
    def cloudevents_type(cls) -> str:
        return f"{TYPE_PREFIX}{cls.event_type}.v{cls.version}"

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:atiende:events:{cls.event_type}:v{cls.version}"


class Envelope(BaseModel):
    """CloudEvents 1.0 context attributes plus the typed data."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    specversion: str = SPEC_VERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    """The case id for case-related events (so an operator can follow one case everywhere)."""
    dataschema: str
    datacontenttype: str = "application/json"
    dataversion: int
    """CloudEvents extension attribute: the data schema version."""
    data: dict[str, Any]

    @classmethod
    def wrap(cls, data: EventData, *, source: str, subject: str | None = None) -> Envelope:
        return cls(
            source=source,
            type=data.cloudevents_type(),
            subject=subject,
            dataschema=data.dataschema(),
            dataversion=data.version,
            data=data.model_dump(mode="json"),
        )

    @property
    def routing_key(self) -> str:
        return routing_key_for_type(self.type)

    def amqp_headers(self) -> dict[str, str]:
        """Every context attribute as a `ce-` header (binary content mode)."""
        headers = {
            f"{HEADER_PREFIX}id": str(self.id),
            f"{HEADER_PREFIX}source": self.source,
            f"{HEADER_PREFIX}type": self.type,
            f"{HEADER_PREFIX}specversion": self.specversion,
            f"{HEADER_PREFIX}time": self.time.isoformat(),
            f"{HEADER_PREFIX}dataschema": self.dataschema,
            f"{HEADER_PREFIX}dataversion": str(self.dataversion),
        }
        if self.subject is not None:
            headers[f"{HEADER_PREFIX}subject"] = self.subject
        return headers

    @classmethod
    def from_amqp(cls, headers: dict[str, Any], body: bytes) -> Envelope:
        """Rebuild an envelope from `ce-` headers and a JSON body.

        Raises ValueError (pydantic's ValidationError is one) if the message is malformed.
        """
        import json

        def attr(name: str) -> Any:
            value = headers.get(f"{HEADER_PREFIX}{name}")
            return value.decode() if isinstance(value, bytes) else value

        missing = [n for n in ("id", "source", "type", "dataversion") if attr(n) is None]
        if missing:
            raise ValueError(f"message lacks CloudEvents headers: {', '.join(missing)}")
        try:
            dataversion = int(attr("dataversion"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"ce-dataversion is not an integer: {exc}") from exc
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"message body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("message body is not a JSON object")
        return cls(
            id=attr("id"),
            source=attr("source"),
            type=attr("type"),
            specversion=attr("specversion") or SPEC_VERSION,
            time=attr("time") or datetime.now(UTC),
            subject=attr("subject"),
            dataschema=attr("dataschema") or "",
            dataversion=dataversion,
            data=data,
        )


def routing_key_for_type(cloudevents_type: str) -> str:
    """`io.atiende.case.opened.v1` -> `case.opened.v1`."""
    if not cloudevents_type.startswith(TYPE_PREFIX):
        raise ValueError(f"not an Atiende event type: {cloudevents_type}")
    return cloudevents_type.removeprefix(TYPE_PREFIX)
