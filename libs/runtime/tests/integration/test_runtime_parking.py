"""Operator tools for parking queues: listing shows what was parked and why without taking it;
replaying moves it back to its own consumer queue with its CloudEvents headers intact."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from atiende_contracts import CaseResolved, Envelope
from atiende_runtime.broker import Topology
from atiende_runtime.parking import list_parked, replay_parked
from atiende_testing import eventually


@pytest.fixture
async def parked_event(topology: Topology, amqp_channel: AbstractChannel) -> tuple[str, Envelope]:
    """A consumer queue whose one event its consumer rejected, so it now sits in `.parked`."""
    queue = topology.names.queue("svc", "record-resolution")
    await topology.declare_consumer_queue(queue, ["case.resolved.v1"])
    case_id = uuid.uuid4()
    data = CaseResolved(
        case_id=case_id, case_number="AT-2026-000009", resolution="x", resolved_at=datetime.now(UTC)
    )
    envelope = Envelope.wrap(data, source="/atiende/routing", subject=str(case_id))
    exchange = await topology.events_exchange()
    await exchange.publish(
        aio_pika.Message(
            json.dumps(envelope.data).encode(),
            headers=dict(envelope.amqp_headers()),
            message_id=str(envelope.id),
        ),
        routing_key="case.resolved.v1",
    )
    consumer_queue = await amqp_channel.get_queue(queue)
    message = await eventually(lambda: consumer_queue.get(fail=False), timeout=5)
    await message.reject(requeue=False)  # dead-lettered at once, as after the delivery limit
    parking_queue = await amqp_channel.get_queue(topology.names.parking_queue(queue))

    async def parked() -> bool:
        declared = await parking_queue.declare()
        return declared.message_count == 1

    await eventually(parked, timeout=5, message="the rejected event never reached .parked")
    return queue, envelope


async def test_listing_describes_parked_events_and_leaves_them_parked(
    amqp_url: str, parked_event: tuple[str, Envelope]
) -> None:
    queue, envelope = parked_event

    first = await list_parked(amqp_url, queue, limit=10)
    again = await list_parked(amqp_url, queue, limit=10)

    [line] = first
    described = json.loads(line)
    # still parked; only its delivery count moved, as peeking returns it to the queue
    assert [{**json.loads(item), "delivery_count": None} for item in again] == [
        {**described, "delivery_count": None}
    ]
    assert described["event_id"] == str(envelope.id)
    assert described["type"] == "io.atiende.case.resolved.v1"
    assert described["case_id"] == envelope.subject
    assert described["reason"] == "rejected"
    assert json.loads(described["body"]) == envelope.data


async def test_replay_returns_parked_events_to_their_consumer_queue(
    amqp_url: str, amqp_channel: AbstractChannel, parked_event: tuple[str, Envelope]
) -> None:
    queue, envelope = parked_event

    assert await replay_parked(amqp_url, queue, limit=10) == 1

    assert await list_parked(amqp_url, queue, limit=10) == []
    consumer_queue = await amqp_channel.get_queue(queue)
    replayed = await eventually(lambda: consumer_queue.get(no_ack=True, fail=False), timeout=5)
    assert replayed.message_id == str(envelope.id)
    assert Envelope.from_amqp(replayed.headers, replayed.body) == envelope
    assert "x-death" not in replayed.headers
