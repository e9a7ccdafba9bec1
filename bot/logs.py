"""Structured JSON logs to stdout, one object per line."""

from __future__ import annotations

__all__ = ["configure_logging"]

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

# Libraries that log request details (headers, bodies) at debug level stay quieter.
# APScheduler says "Running job" and "executed successfully" at every tick of the
# one-second ticker: ~170,000 lines a day that tell nothing.
_QUIET = ("slack_sdk", "slack_bolt", "aiohttp.access", "asyncio", "alembic", "apscheduler")


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
