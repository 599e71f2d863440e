"""Intake's event handlers. Intake is a producer in this flow: it consumes nothing yet."""

from __future__ import annotations

from atiende_runtime.inbox import Consumers

consumers = Consumers()
