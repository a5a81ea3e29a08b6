"""Structured logging: JSON lines off a terminal, readable lines on one. wagate's own loggers and
every library logger (aiokafka, aiohttp, faust and mode, asyncpg, warnings, the root) go through
one processor chain, which adds the service, the current trace and span ids, and masks phone
numbers in the text libraries write."""

from __future__ import annotations

import logging
import re
import sys
from types import TracebackType
from typing import TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.settings import LogSettings

_LONG_DIGITS = re.compile(r"\d{7,}")


def configure(settings: LogSettings, service: str, stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger alike; `stream` defaults to stderr."""
    out = stream or sys.stderr
    as_json = settings.json_format if settings.json_format is not None else not out.isatty()
    renderer: Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    level = logging.getLevelNamesMapping()[settings.level]
    chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _service(service),
        add_trace_ids,
    ]
    rendering: list[Processor] = [structlog.processors.format_exc_info, _mask_exception, renderer]
    structlog.configure(
        processors=[*chain, *rendering],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*chain, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _mask_event,
                *rendering,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.WARNING))  # libraries speak only when it matters
    for name in QUIET_LIBRARIES:  # whoever else sets levels (faust's worker, say)
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.captureWarnings(True)
    sys.excepthook = _log_crash


QUIET_LIBRARIES = ("aiokafka", "kafka", "faust", "mode", "aiohttp", "asyncpg")
"""Libraries whose debug lines dump whole records (keys with customers' numbers, bodies with
one-time codes): they speak only from WARNING, whatever the service's level."""


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger


def mask_phone(phone: str) -> str:
    """A phone number fit for logs: country code and last two digits only."""
    if len(phone) <= 4:
        return "***"
    return f"{phone[:2]}***{phone[-2:]}"


def mask_digits(text: str) -> str:
    """`text` with every run of seven or more digits (a phone number, maybe) masked."""
    return _LONG_DIGITS.sub(lambda m: mask_phone(m.group()), text)


def add_trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The current span's trace and span ids, in the W3C form tracing backends search by
    (only for a trace that is kept: the ids of one sampled out would lead nowhere)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event


def _service(service: str) -> Processor:
    def add_service(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add_service


def _mask_event(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A library's message is free text that may quote a record or a URL: mask it."""
    if isinstance(event.get("event"), str):
        event["event"] = mask_digits(event["event"])
    return event


def _mask_exception(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A traceback may quote the values it failed on: mask them, whoever logged it."""
    if isinstance(event.get("exception"), str):
        event["exception"] = mask_digits(event["exception"])
    return event


def _log_crash(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An uncaught exception, as one log line like every other."""
    logging.getLogger("wagate").critical("crashed", exc_info=(kind, exc, tb))
