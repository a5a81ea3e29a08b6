"""One log line, one JSON object: wagate's own loggers and every library's (aiokafka, aiohttp,
asyncpg, faust and mode, warnings, the root, an uncaught exception) through one processor chain,
with the service, the current trace, and phone numbers masked (`mask_phone`) in what libraries
write; libraries that dump whole records at debug level stay quiet whatever the service's level."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from mode.utils.logging import get_logger as mode_logger
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import logs
from shared.logs import QUIET_LIBRARIES, mask_phone
from shared.settings import LogSettings
from tests.conftest import ROOT

USUAL = {"event", "level", "timestamp", "service"}


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """JSON logging configured into a buffer; the logging set-up as it was afterwards."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    out = io.StringIO()
    logs.configure(LogSettings(level="INFO", json_format=True), "dispatch", stream=out)
    try:
        yield out
    finally:
        root.handlers[:], sys.excepthook = handlers, hook
        root.setLevel(level)
        logging.captureWarnings(False)
        structlog.reset_defaults()


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    text = out.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]  # fails on any line not JSON


@pytest.mark.parametrize(
    "name",
    [
        "aiokafka.consumer.group_coordinator",
        "aiohttp.access",
        "asyncpg.pool",
        "faust.worker",
        "mode.services",
        "opentelemetry.sdk.trace.export",
        "",
    ],
)
def test_a_library_line_is_one_json_object_with_the_usual_keys(
    stream: io.StringIO, name: str
) -> None:
    logging.getLogger(name).warning("heartbeat failed for group %s: %s", "g", "timeout")
    [line] = _lines(stream)
    assert set(line) >= USUAL
    assert line["event"] == "heartbeat failed for group g: timeout"
    assert line["level"] == "warning"
    assert line["service"] == "dispatch"
    assert line["logger"] == (name or "root")


def test_mode_and_faust_loggers_write_json_too(stream: io.StringIO) -> None:
    mode_logger("faust.worker").warning("[^Worker]: %s", "rebalancing")
    mode_logger("mode.services").error("service crashed", exc_info=ValueError("boom"))
    first, second = _lines(stream)
    assert first["event"] == "[^Worker]: rebalancing" and first["logger"] == "faust.worker"
    assert second["level"] == "error" and "ValueError: boom" in second["exception"]


def test_libraries_speak_only_from_warning_and_wagate_from_its_level(stream: io.StringIO) -> None:
    logging.getLogger("aiokafka").info("discovered coordinator")
    logs.get("shared.messaging").info("listening", url="http://127.0.0.1:8084")
    [line] = _lines(stream)
    assert line["event"] == "listening" and line["url"] == "http://127.0.0.1:8084"
    assert set(line) >= USUAL


def test_a_phone_number_a_library_writes_is_masked(stream: io.StringIO) -> None:
    logging.getLogger("faust.agents").error(
        "Agent error for key b'106540352242922:16505551234'", exc_info=KeyError("16505551234")
    )
    [line] = _lines(stream)
    assert "16505551234" not in json.dumps(line)
    assert "16***34" in line["event"] and "16***34" in line["exception"]


def test_a_traceback_wagate_logs_is_masked_too(stream: io.StringIO) -> None:
    try:
        raise ValueError("no window for +16505551234")
    except ValueError:
        logs.get("services.dispatch").exception("send failed", intent_id="i-1")
    [line] = _lines(stream)
    assert "16505551234" not in line["exception"] and "+16***34" in line["exception"]
    assert line["intent_id"] == "i-1"


def test_a_python_warning_is_a_log_line(stream: io.StringIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(True)  # catch_warnings restored the hook configure installed
        warnings.warn("the loop argument is deprecated", DeprecationWarning, stacklevel=1)
    [line] = _lines(stream)
    assert line["logger"] == "py.warnings" and "deprecated" in line["event"]


def test_an_uncaught_exception_is_one_json_line(stream: io.StringIO) -> None:
    try:
        raise RuntimeError("sender crashed")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    [line] = _lines(stream)
    assert line["event"] == "crashed" and line["level"] == "critical"
    assert "RuntimeError: sender crashed" in line["exception"]


def test_a_line_written_inside_a_span_names_its_trace_and_span(
    stream: io.StringIO, spans: InMemorySpanExporter
) -> None:
    tracer = trace.get_tracer("tests")
    with tracer.start_as_current_span("decisions process") as span:
        logs.get("shared.messaging").warning("retrying", backoff_s=0.2)
        logging.getLogger("aiokafka").warning("commit failed")
    logs.get("shared.messaging").warning("outside")
    inside_ours, inside_library, outside = _lines(stream)
    context = span.get_span_context()
    for line in (inside_ours, inside_library):
        assert line["trace_id"] == f"{context.trace_id:032x}"
        assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside and "span_id" not in outside


def test_on_a_terminal_lines_are_for_people(stream: io.StringIO) -> None:
    out = io.StringIO()
    logs.configure(LogSettings(json_format=False), "dispatch", stream=out)
    logging.getLogger("aiokafka").warning("commit failed")
    assert "commit failed" in out.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.getvalue())


def test_a_trace_sampled_out_leaves_no_ids_that_lead_nowhere(stream: io.StringIO) -> None:
    unsampled = trace.SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=trace.TraceFlags(0))
    with trace.use_span(trace.NonRecordingSpan(unsampled)):
        logs.get("shared.messaging").warning("retrying")
    [line] = _lines(stream)
    assert "trace_id" not in line and "span_id" not in line


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("16505551234", "16***34"), ("447700900123", "44***23"), ("1234", "***"), ("", "***")],
)
def test_a_phone_keeps_only_its_country_code_and_last_two_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_record_dumping_libraries_stay_quiet_when_a_service_logs_debug() -> None:
    code = (
        "import json, logging; from shared import logs; from shared.settings import LogSettings; "
        "logs.configure(LogSettings(level='DEBUG'), 'probe'); "
        "print(json.dumps({n: logging.getLogger(n + '.child').isEnabledFor(logging.INFO) "
        "for n in logs.QUIET_LIBRARIES}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    enabled = json.loads(result.stdout)
    assert {name: enabled[name] for name in QUIET_LIBRARIES} == dict.fromkeys(
        QUIET_LIBRARIES, False
    )
    assert "aiokafka" in QUIET_LIBRARIES and "faust" in QUIET_LIBRARIES
