"""JSON logs that carry the trace, span and case of whatever is being handled."""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any

import orjson
from opentelemetry import trace

current_case_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_case_id", default=None
)

# the attributes every LogRecord has; anything else on a record came from `extra=` and is logged
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


class ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        # the ids exist whether or not the span is sampled: logs correlate even when unsampled
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            record.trace_id = format(ctx.trace_id, "032x")
            record.span_id = format(ctx.span_id, "016x")
        if not getattr(record, "case_id", None):
            case_id = current_case_id.get()
            if case_id:
                record.case_id = case_id
        record.service = self.service
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, message, then every `extra`), encoded with
    orjson: the formatter runs for every line, so it is on every request's and event's path."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        encoded: bytes = orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS)
        return encoded.decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (uvicorn and aio-pika included) to one JSON stream on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aio_pika", "aiormq"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # we log requests ourselves
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
