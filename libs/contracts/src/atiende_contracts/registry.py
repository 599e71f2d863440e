"""From a CloudEvents type or routing key to its model, and the JSON Schema of each event."""

from __future__ import annotations

from typing import Any

from .envelope import Envelope, EventData
from .events import ALL_EVENTS

BY_TYPE: dict[str, type[EventData]] = {model.cloudevents_type(): model for model in ALL_EVENTS}
BY_ROUTING_KEY: dict[str, type[EventData]] = {model.routing_key(): model for model in ALL_EVENTS}


class UnknownEventType(ValueError):
    pass


def model_for(cloudevents_type: str) -> type[EventData]:
    try:
        return BY_TYPE[cloudevents_type]
    except KeyError:
        raise UnknownEventType(cloudevents_type) from None


def parse_data(envelope: Envelope) -> EventData:
    """Validate the envelope's data against its model; raises pydantic.ValidationError."""
    return model_for(envelope.type).model_validate(envelope.data)


def json_schema(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$id"] = model.dataschema()
    schema["x-event-type"] = model.event_type
    schema["x-version"] = model.version
    schema["x-routing-key"] = model.routing_key()
    return schema
