"""The services of the suite, written once: each service package declares a `ServiceDefinition`
in its app module and names it under the `atiende.services` entry-point group of its
pyproject.toml. The CLI, the test plugin, the harness and the AsyncAPI generator all read the list
from here, so adding a service is one entry point, never an edit to a hand-kept tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from atiende_contracts import EventData

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .inbox import Consumers
    from .settings import Settings

ENTRY_POINT_GROUP = "atiende.services"


@dataclass(frozen=True)
class ServiceDefinition:
    """What the suite needs to know about a service without importing its insides."""

    name: str
    package: str
    """The import package holding its migrations (e.g. ``atiende_intake``)."""
    settings: type[Settings]
    """The service's settings class: ``settings(**overrides)`` reads the environment."""
    create_app: Callable[..., FastAPI]
    """``create_app(settings)``: the composition root."""
    consumers: Consumers[Any]
    publishes: tuple[type[EventData], ...] = field(default=())
    """Every event the service may emit; the unit of work refuses any other, so this list (and
    the AsyncAPI document generated from it) cannot drift from the code."""

    @property
    def default_port(self) -> int:
        return self.settings.default_port


@cache
def _discover() -> dict[str, ServiceDefinition]:
    found: dict[str, ServiceDefinition] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        definition = ep.load()
        if not isinstance(definition, ServiceDefinition):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a ServiceDefinition")
        found[definition.name] = definition
    # the suite's own order: by default HTTP port (intake 8001 … indicators 8005)
    return dict(sorted(found.items(), key=lambda item: item[1].default_port))


def services() -> Mapping[str, ServiceDefinition]:
    """Every installed service, by name, in port order."""
    return _discover()


def service(name: str) -> ServiceDefinition:
    try:
        return _discover()[name]
    except KeyError:
        known = ", ".join(_discover()) or "none"
        raise KeyError(f"unknown service {name!r} (installed: {known})") from None


def service_names() -> tuple[str, ...]:
    return tuple(_discover())
