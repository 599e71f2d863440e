"""Operator tools for parking queues: look at what was parked and why, and move it back.

A replayed message goes straight back to its own consumer queue (through the default exchange),
not to the events exchange, so consumers that already handled it are not bothered; the consumer's
inbox still drops it if it had in fact been handled.
"""

from __future__ import annotations

import json
from typing import Any

import aio_pika

from atiende_contracts import Names


def _describe(message: aio_pika.abc.AbstractIncomingMessage) -> dict[str, Any]:
    headers = message.headers or {}
    deaths = headers.get("x-death") or []
    first: Any = (
        deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) else {}
    )
    return {
        "event_id": headers.get("ce-id") or message.message_id,
        "type": headers.get("ce-type") or message.type,
        "case_id": headers.get("ce-subject"),
        "reason": first.get("reason") or headers.get("x-first-death-reason"),
        "routing_keys": first.get("routing-keys"),
        "delivery_count": headers.get("x-delivery-count"),
        # whole events are a few hundred bytes; only a runaway body is cut, and says so
        "body": message.body[:BODY_SHOWN].decode(errors="replace"),
        "body_truncated": len(message.body) > BODY_SHOWN,
    }


BODY_SHOWN = 4096
"""Bytes of a parked message's body that `atiende parked list` shows."""


async def list_parked(amqp_url: str, queue: str, limit: int) -> list[str]:
    """Peek at up to `limit` parked messages (they are requeued, not removed)."""
    connection = await aio_pika.connect(amqp_url)
    out: list[str] = []
    async with connection:
        channel = await connection.channel()
        parked = await channel.declare_queue(Names.parking_queue(queue), passive=True)
        held = []
        for _ in range(limit):
            message = await parked.get(fail=False, no_ack=False)
            if message is None:
                break
            held.append(message)
            out.append(json.dumps(_describe(message), default=str, ensure_ascii=False))
        for message in held:
            await message.nack(requeue=True)
    return out


async def replay_parked(amqp_url: str, queue: str, limit: int) -> int:
    """Move up to `limit` parked messages back to `queue`; each is acked only once republished."""
    connection = await aio_pika.connect(amqp_url)
    moved = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        parked = await channel.declare_queue(Names.parking_queue(queue), passive=True)
        for _ in range(limit):
            message = await parked.get(fail=False, no_ack=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    type=message.type,
                    app_id=message.app_id,
                    timestamp=message.timestamp,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=queue,
            )
            await message.ack()
            moved += 1
    return moved
