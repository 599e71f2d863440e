"""Consumer queues: durable quorum queues with a delivery limit that parks a poison message
instead of retrying it forever, while the messages behind it keep flowing."""

from __future__ import annotations

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aio_pika.exceptions import ChannelPreconditionFailed

from atiende_runtime.broker import Topology, consumer_queue_arguments
from atiende_testing import eventually


@pytest.fixture
async def consumer_queue(topology: Topology) -> str:
    queue = topology.names.queue("svc", "record-resolution")
    await topology.declare_consumer_queue(queue, ["case.resolved.v1"])
    return queue


async def test_consumer_queue_has_the_declared_arguments(
    topology: Topology, consumer_queue: str, amqp_channel: AbstractChannel
) -> None:
    expected = consumer_queue_arguments(topology.names, consumer_queue, topology.delivery_limit)

    # RabbitMQ accepts a re-declaration only with equivalent arguments...
    await amqp_channel.declare_queue(consumer_queue, durable=True, arguments=expected)
    # ...and refuses one that differs, here in the delivery limit
    with pytest.raises(ChannelPreconditionFailed, match="x-delivery-limit"):
        await amqp_channel.declare_queue(
            consumer_queue,
            durable=True,
            arguments={**expected, "x-delivery-limit": topology.delivery_limit + 1},
        )


async def test_declaring_again_is_harmless(topology: Topology, consumer_queue: str) -> None:
    await topology.declare_shared()
    await topology.declare_consumer_queue(consumer_queue, ["case.resolved.v1"])


async def test_poison_message_is_parked_after_the_delivery_limit_and_the_next_one_flows(
    topology: Topology, consumer_queue: str, amqp_channel: AbstractChannel
) -> None:
    exchange = await topology.events_exchange()
    for name in ("poison", "good"):
        await exchange.publish(
            aio_pika.Message(name.encode(), message_id=name), routing_key="case.resolved.v1"
        )
    deliveries: list[str] = []

    async def consume(message: AbstractIncomingMessage) -> None:
        deliveries.append(str(message.message_id))
        if message.message_id == "poison":
            await message.nack(requeue=True)  # what a handler that keeps failing does
        else:
            await message.ack()

    await amqp_channel.set_qos(prefetch_count=1)
    queue = await amqp_channel.get_queue(consumer_queue)
    await queue.consume(consume)
    await eventually(
        lambda: "good" in deliveries, timeout=10, message="the good message never arrived"
    )

    parked_queue = await amqp_channel.get_queue(topology.names.parking_queue(consumer_queue))
    parked = await eventually(lambda: parked_queue.get(no_ack=True, fail=False), timeout=5)
    assert parked.message_id == "poison"
    assert parked.headers["x-first-death-reason"] == "delivery_limit"
    assert parked.headers["x-first-death-queue"] == consumer_queue
    # x-delivery-limit counts returns: the first delivery plus `delivery_limit` redeliveries
    assert deliveries.count("poison") == topology.delivery_limit + 1
    assert deliveries.count("good") == 1
