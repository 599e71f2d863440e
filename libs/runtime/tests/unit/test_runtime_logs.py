"""JSON logs carry the service, and the trace, span and case of whatever is being handled."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from atiende_runtime.logs import configure_logging, current_case_id
from atiende_runtime.telemetry import setup_tracing


@pytest.fixture
def json_logs() -> Iterator[Any]:
    """Configure the runtime's logging, read what its stdout handler writes, and restore the root
    logger afterwards so later tests do not write to a stream that is gone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # start with no case in context: a sync test elsewhere in the same process may have left one
    no_case = current_case_id.set(None)
    configure_logging("intake", "INFO")
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stdout
    written = io.StringIO()
    handler.setStream(written)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in written.getvalue().splitlines()]

    try:
        yield lines
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        current_case_id.reset(no_case)


def test_each_line_is_json_naming_service_logger_and_level(json_logs: Any) -> None:
    logging.getLogger("atiende.test").info("case opened", extra={"case_number": "AT-2026-000001"})

    [line] = json_logs()
    assert line["message"] == "case opened"
    assert line["service"] == "intake"
    assert line["logger"] == "atiende.test"
    assert line["level"] == "INFO"
    assert line["case_number"] == "AT-2026-000001"
    assert "trace_id" not in line  # no span is active
    assert "case_id" not in line


def test_line_inside_a_span_carries_its_trace_and_span_ids(json_logs: Any) -> None:
    tracer = setup_tracing("runtime-tests").get_tracer("test")

    with tracer.start_as_current_span("handle") as span:
        logging.getLogger("atiende.test").info("inside")
        context = span.get_span_context()

    [line] = json_logs()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_line_carries_the_current_case_id(json_logs: Any) -> None:
    token = current_case_id.set("0b8f9a4e-58a2-4f55-9c1e-6f4f3f0a0c11")
    try:
        logging.getLogger("atiende.test").info("working on it")
    finally:
        current_case_id.reset(token)
    logging.getLogger("atiende.test").info("after")

    during, after = json_logs()
    assert during["case_id"] == "0b8f9a4e-58a2-4f55-9c1e-6f4f3f0a0c11"
    assert "case_id" not in after


def test_explicit_case_id_wins_over_the_current_one(json_logs: Any) -> None:
    token = current_case_id.set("current")
    try:
        logging.getLogger("atiende.test").info("about another case", extra={"case_id": "explicit"})
    finally:
        current_case_id.reset(token)

    [line] = json_logs()
    assert line["case_id"] == "explicit"


def test_debug_is_dropped_at_info_level(json_logs: Any) -> None:
    logging.getLogger("atiende.test").debug("noise")
    logging.getLogger("atiende.test").info("signal")

    assert [line["message"] for line in json_logs()] == ["signal"]
