"""Exchange and queue names, and the arguments every consumer queue is declared with."""

from __future__ import annotations

from atiende_contracts import Names
from atiende_runtime.broker import consumer_queue_arguments, events_exchange_arguments


def test_names_derive_from_the_namespace() -> None:
    names = Names("t1")

    assert names.events_exchange == "t1.events"
    assert names.unrouted_exchange == "t1.unrouted"
    assert names.unrouted_queue == "t1.unrouted"
    assert names.dead_letter_exchange == "t1.dlx"
    assert names.queue("routing", "assign-case") == "t1.routing.assign-case"
    assert names.parking_queue("t1.routing.assign-case") == "t1.routing.assign-case.parked"


def test_default_namespace_is_atiende() -> None:
    assert Names().events_exchange == "atiende.events"


def test_events_exchange_keeps_unroutable_events_in_the_unrouted_exchange() -> None:
    assert events_exchange_arguments(Names("t1")) == {"alternate-exchange": "t1.unrouted"}


def test_consumer_queue_is_a_quorum_queue_that_dead_letters_to_its_parking_queue() -> None:
    queue = "t1.routing.assign-case"

    arguments = consumer_queue_arguments(Names("t1"), queue, delivery_limit=4)

    assert arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 4,
        "x-dead-letter-exchange": "t1.dlx",
        # the parking queue is bound on the DLX by the consumer queue's name
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        # RabbitMQ requires reject-publish for at-least-once dead-lettering
        "x-overflow": "reject-publish",
    }
