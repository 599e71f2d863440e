"""Names of the exchanges and queues. One place, so every service and operator agrees.

With namespace `atiende` (the default):
- `atiende.events`   durable topic exchange for every domain event,
                     routing key `<aggregate>.<event>.v<N>`
- `atiende.unrouted` alternate exchange + queue: an event no queue is bound for is kept, not lost
- `atiende.dlx`      direct exchange receiving what a consumer queue dead-letters
- `atiende.<service>.<handler>`         a consumer group's durable quorum queue
- `atiende.<service>.<handler>.parked`  its parking queue (dead letters, kept for an operator)
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "atiende"


@dataclass(frozen=True)
class Names:
    namespace: str = DEFAULT_NAMESPACE

    @property
    def events_exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def unrouted_exchange(self) -> str:
        return f"{self.namespace}.unrouted"

    @property
    def unrouted_queue(self) -> str:
        return f"{self.namespace}.unrouted"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dlx"

    def queue(self, service: str, handler: str) -> str:
        return f"{self.namespace}.{service}.{handler}"

    @staticmethod
    def parking_queue(queue: str) -> str:
        return f"{queue}.parked"
