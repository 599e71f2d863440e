"""Who publishes and who consumes each event, read from the installed services themselves.

A service's `publishes` is exactly what its unit of work lets it emit (anything else is refused),
and its Consumers registry is exactly what its queues are bound to, so a map derived from them
cannot drift from the code the way a hand-kept one did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from atiende_contracts import ALL_EVENTS
from atiende_runtime.services import ServiceDefinition, services


@dataclass(frozen=True)
class EventFlow:
    """The services publishing one event version and those whose queues receive it, in the
    suite's service order."""

    producers: tuple[str, ...]
    consumers: tuple[str, ...]


def binding_matches(binding_key: str, routing_key: str) -> bool:
    """Whether a topic exchange delivers `routing_key` to a queue bound with `binding_key`.

    AMQP topic semantics: both are words separated by dots; `*` stands for exactly one word and
    `#` for zero or more words.
    """
    return _matches(tuple(binding_key.split(".")), tuple(routing_key.split(".")))


def _matches(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_matches(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _matches(rest, words[1:])


def consumes(definition: ServiceDefinition, routing_key: str) -> bool:
    """Whether one of the service's consumer groups is bound to receive `routing_key`."""
    return any(
        binding_matches(binding_key, routing_key)
        for subscription in definition.consumers.subscriptions
        for binding_key in subscription.binding_keys
    )


def event_flows(
    definitions: Iterable[ServiceDefinition] | None = None,
) -> dict[str, EventFlow]:
    """The flow of every event in ALL_EVENTS, keyed by routing key.

    `definitions` defaults to every installed service (`atiende_runtime.services.services()`).
    """
    found = list(services().values() if definitions is None else definitions)
    flows: dict[str, EventFlow] = {}
    for model in ALL_EVENTS:
        key = model.routing_key()
        flows[key] = EventFlow(
            producers=tuple(d.name for d in found if key in {m.routing_key() for m in d.publishes}),
            consumers=tuple(d.name for d in found if consumes(d, key)),
        )
    return flows
