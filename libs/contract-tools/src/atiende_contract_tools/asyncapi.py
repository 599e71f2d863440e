"""An AsyncAPI 3.0 document of the events exchange, generated from the event models and from the
installed services (who publishes and who consumes each event: `atiende_contract_tools.flows`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atiende_contracts import ALL_EVENTS, Names, json_schema
from atiende_contracts.envelope import HEADER_PREFIX, SPEC_VERSION

from .compatibility import Schema
from .flows import EventFlow, event_flows
from .snapshots import REGENERATE, render_json

_REPO_ROOT = Path(__file__).resolve().parents[4]
ASYNCAPI_PATH = _REPO_ROOT / "docs" / "asyncapi.yaml"
"""The generated AsyncAPI document (only meaningful in a source checkout)."""

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
_LOCAL_DEFS = "#/$defs/"
_COMPONENT_SCHEMAS = "#/components/schemas/"


def _contracts_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atiende-contracts")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


def _relocate_refs(node: Any) -> Any:
    """Point `#/$defs/X` refs at `#/components/schemas/X` (pydantic's defs are hoisted there)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_DEFS):
                out[key] = _COMPONENT_SCHEMAS + value.removeprefix(_LOCAL_DEFS)
            else:
                out[key] = _relocate_refs(value)
        return out
    if isinstance(node, list):
        return [_relocate_refs(item) for item in node]
    return node


def _headers_schema() -> Schema:
    p = HEADER_PREFIX
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 context attributes in binary content mode, each a `ce-` header, "
            "plus W3C trace context. The body is the event data."
        ),
        "required": [
            f"{p}id",
            f"{p}source",
            f"{p}type",
            f"{p}specversion",
            f"{p}time",
            f"{p}dataschema",
            f"{p}dataversion",
        ],
        "properties": {
            f"{p}id": {
                "type": "string",
                "format": "uuid",
                "description": "Event id, unique per event; also the AMQP message_id. "
                "Consumers deduplicate on it.",
            },
            f"{p}source": {
                "type": "string",
                "description": "The producing service; also the AMQP app_id.",
            },
            f"{p}type": {
                "type": "string",
                "description": "`io.atiende.<aggregate>.<event>.v<N>`; also the AMQP type.",
            },
            f"{p}specversion": {"type": "string", "const": SPEC_VERSION},
            f"{p}time": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (RFC 3339); the AMQP timestamp has it in "
                "whole seconds.",
            },
            f"{p}subject": {
                "type": "string",
                "description": "The case id, for case-related events; also the AMQP "
                "correlation_id.",
            },
            f"{p}dataschema": {
                "type": "string",
                "description": "`urn:atiende:events:<aggregate>.<event>:v<N>`, the `$id` of the "
                "data's JSON Schema.",
            },
            f"{p}dataversion": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "Extension attribute: the data schema version.",
            },
            "traceparent": {
                "type": "string",
                "description": "W3C Trace Context: the producer's span.",
            },
            "tracestate": {
                "type": "string",
                "description": "W3C Trace Context: vendor-specific trace state.",
            },
        },
    }


def asyncapi_document(
    names: Names | None = None, flows: Mapping[str, EventFlow] | None = None
) -> dict[str, Any]:
    """An AsyncAPI 3.0 description of the events exchange: one channel and message per event.

    `flows` (who publishes and who consumes each routing key) defaults to the installed services'.
    """
    names = names or Names()
    flows = event_flows() if flows is None else flows
    schemas: dict[str, Any] = {"CloudEventsHeaders": _headers_schema()}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for model in ALL_EVENTS:
        key = model.routing_key()
        schema = json_schema(model)
        for def_name, definition in schema.pop("$defs", {}).items():
            hoisted = _relocate_refs(definition)
            if schemas.setdefault(def_name, hoisted) != hoisted:
                raise ValueError(f"two different schemas are both called {def_name!r}")
        schema.pop("$id", None)
        schemas[key] = _relocate_refs(schema)
        summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        flow = flows.get(key, EventFlow(producers=(), consumers=()))
        producers, consumers = flow.producers, flow.consumers
        published_by = ", ".join(producers) or "unknown"
        consumed_by = ", ".join(consumers) or "nobody yet"

        messages[key] = {
            "name": key,
            "title": model.__name__,
            **({"summary": summary} if summary else {}),
            "contentType": "application/json",
            "headers": {
                "allOf": [
                    {"$ref": f"{_COMPONENT_SCHEMAS}CloudEventsHeaders"},
                    {
                        "type": "object",
                        "properties": {
                            f"{HEADER_PREFIX}type": {"const": model.cloudevents_type()},
                            f"{HEADER_PREFIX}dataschema": {"const": model.dataschema()},
                            f"{HEADER_PREFIX}dataversion": {"const": str(model.version)},
                        },
                    },
                ]
            },
            "payload": {"$ref": f"{_COMPONENT_SCHEMAS}{key}"},
            "correlationId": {
                "description": "The case id (CloudEvents subject).",
                "location": f"$message.header#/{HEADER_PREFIX}subject",
            },
            "bindings": {
                "amqp": {
                    "messageType": model.cloudevents_type(),
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
            "x-dataschema": model.dataschema(),
        }
        channels[key] = {
            "address": key,
            "title": f"{model.event_type} v{model.version}",
            "description": (
                f"Routing key `{key}` on the `{names.events_exchange}` topic exchange. "
                f"Published by {published_by}; consumed by {consumed_by}, "
                f"each through its own quorum queue `{names.queue('<service>', '<handler>')}`."
            ),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": names.events_exchange,
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        message_ref = [{"$ref": f"#/channels/{key}/messages/{key}"}]
        for producer in producers:
            operations[f"{producer}.publish.{key}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": message_ref,
                "summary": f"{producer} publishes {model.event_type} (through its outbox).",
                "bindings": {
                    "amqp": {
                        "deliveryMode": 2,
                        "timestamp": True,
                        "bindingVersion": AMQP_BINDING_VERSION,
                    }
                },
            }
        for consumer in consumers:
            operations[f"{consumer}.receive.{key}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": message_ref,
                "summary": f"{consumer} consumes {model.event_type}.",
                "description": (
                    f"From a queue `{names.queue(consumer, '<handler>')}` bound with `{key}`; "
                    "acked after the handler's transaction commits, dead-lettered to "
                    f"`{names.parking_queue(names.queue(consumer, '<handler>'))}` after the "
                    "delivery limit."
                ),
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
            }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Atiende domain events",
            "version": _contracts_version(),
            "description": (
                "Every domain event of Atiende, published on one durable topic exchange. "
                "Generated from the pydantic models in atiende_contracts by "
                f"`{REGENERATE}`; do not edit by hand. See docs/events.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "RabbitMQ; the exchange and queue names use the namespace "
                f"`{names.namespace}`.",
                "variables": {
                    "host": {"default": "localhost"},
                    "port": {"default": "5672"},
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render_asyncapi(document: Mapping[str, Any] | None = None) -> str:
    """The AsyncAPI document as YAML text. JSON is valid YAML, so it is written as JSON."""
    header = f"# Generated by `{REGENERATE}` from atiende_contracts; do not edit.\n"
    return header + render_json(document if document is not None else asyncapi_document())


def write_asyncapi(path: Path = ASYNCAPI_PATH) -> bool:
    """Write the AsyncAPI document; return whether the file changed."""
    text = render_asyncapi()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
