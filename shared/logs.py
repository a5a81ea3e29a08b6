"""Structured logging: JSON lines off a terminal, readable lines on one."""

from __future__ import annotations

import logging
import sys

import structlog

from shared.settings import LogSettings


def configure(settings: LogSettings, service: str) -> None:
    as_json = settings.json_format if settings.json_format is not None else not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    level = logging.getLevelNamesMapping()[settings.level]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr)
    for name in QUIET_BELOW_INFO:
        logging.getLogger(name).setLevel(max(level, logging.INFO))


QUIET_BELOW_INFO = ("aiokafka", "kafka", "faust", "mode", "aiohttp", "asyncpg")
"""Libraries whose debug lines dump whole records (keys with customers' numbers, bodies with
one-time codes): they never log below INFO, whatever the service's level."""


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger


def mask_phone(phone: str) -> str:
    """A phone number fit for logs: country code and last two digits only."""
    if len(phone) <= 4:
        return "***"
    return f"{phone[:2]}***{phone[-2:]}"
