"""The producer/consumer map is derived from the services' definitions, with topic-exchange
matching of their binding keys."""

from __future__ import annotations

from typing import Any

import pytest

from atiende_contract_tools.asyncapi import asyncapi_document
from atiende_contract_tools.flows import binding_matches, event_flows
from atiende_contracts import ALL_EVENTS, CaseOpened, CaseResolved, EventData, SurveyInvited
from atiende_runtime.inbox import Consumers, HandlerContext
from atiende_runtime.services import ServiceDefinition, services
from atiende_runtime.settings import Settings


@pytest.mark.parametrize(
    ("binding_key", "routing_key", "expected"),
    [
        ("case.opened.v1", "case.opened.v1", True),
        ("case.opened.v1", "case.opened.v2", False),
        ("#", "case.opened.v1", True),
        ("#", "", True),
        ("case.#", "case.opened.v1", True),
        ("case.#", "case", True),
        ("case.#", "customer.merged.v1", False),
        ("#.v1", "survey.invited.v1", True),
        ("#.v1", "survey.invited.v2", False),
        ("case.*", "case.opened.v1", False),
        ("case.*.v1", "case.opened.v1", True),
        ("*.opened.*", "case.opened.v1", True),
        ("*", "case", True),
        ("*", "case.opened", False),
        ("case.#.v1", "case.v1", True),
        ("case.#.v1", "case.opened.v1", True),
        ("case.#.v1", "case.contact.linked.v1", True),
        ("case.#.v1", "case.opened.v2", False),
        ("#.#", "case.opened.v1", True),
        ("case.opened", "case.opened.v1", False),
    ],
)
def test_binding_matches_like_a_topic_exchange(
    binding_key: str, routing_key: str, expected: bool
) -> None:
    assert binding_matches(binding_key, routing_key) is expected


async def _ignore(ctx: HandlerContext[Any], event: Any) -> None:
    return None


def _definition(
    name: str, publishes: tuple[type[EventData], ...], consumers: Consumers[Any]
) -> ServiceDefinition:
    def create_app(*args: Any) -> Any:
        raise NotImplementedError

    return ServiceDefinition(
        name=name,
        package=f"atiende_{name}",
        settings=Settings,
        create_app=create_app,
        consumers=consumers,
        publishes=publishes,
    )


def test_flows_come_from_publishes_and_binding_keys() -> None:
    opener: Consumers[Any] = Consumers()
    resolver: Consumers[Any] = Consumers()
    resolver.on(CaseOpened)(_ignore)
    watcher: Consumers[Any] = Consumers()
    watcher.on_any(["case.*.v1"], name="cases")(_ignore)
    everything: Consumers[Any] = Consumers()
    everything.on_any(["#"], name="all")(_ignore)
    definitions = [
        _definition("opener", (CaseOpened,), opener),
        _definition("resolver", (CaseResolved,), resolver),
        _definition("watcher", (), watcher),
        _definition("everything", (), everything),
    ]

    flows = event_flows(definitions)

    assert set(flows) == {m.routing_key() for m in ALL_EVENTS}
    assert flows["case.opened.v1"].producers == ("opener",)
    assert flows["case.opened.v1"].consumers == ("resolver", "watcher", "everything")
    assert flows["case.resolved.v1"].producers == ("resolver",)
    assert flows["case.resolved.v1"].consumers == ("watcher", "everything")
    assert flows["survey.invited.v1"].producers == ()
    assert flows["survey.invited.v1"].consumers == ("everything",)
    assert flows["case.contact_linked.v1"].consumers == ("watcher", "everything")


def test_the_document_follows_the_flows() -> None:
    consumers: Consumers[Any] = Consumers()
    consumers.on(SurveyInvited)(_ignore)
    flows = event_flows([_definition("solo", (CaseOpened,), consumers)])

    operations = asyncapi_document(flows=flows)["operations"]

    assert operations["solo.publish.case.opened.v1"]["action"] == "send"
    assert operations["solo.receive.survey.invited.v1"]["action"] == "receive"
    assert len(operations) == 2


def test_every_service_publishes_only_known_events() -> None:
    known = {m.routing_key() for m in ALL_EVENTS}
    for definition in services().values():
        for model in definition.publishes:
            assert model.routing_key() in known, f"{definition.name} publishes {model.__name__}"


def test_every_binding_key_receives_some_event() -> None:
    """A binding key no event matches is a typo or a consumer of a removed event."""
    keys = [m.routing_key() for m in ALL_EVENTS]
    for definition in services().values():
        for subscription in definition.consumers.subscriptions:
            for binding_key in subscription.binding_keys:
                assert any(binding_matches(binding_key, key) for key in keys), (
                    f"{definition.name}/{subscription.name} is bound with {binding_key!r}, "
                    "which no event in ALL_EVENTS matches"
                )


def test_all_five_services_are_installed() -> None:
    """The map is only as complete as the installed services: the workspace installs all five."""
    assert set(services()) == {"intake", "routing", "surveys", "notifications", "indicators"}
