"""The node's logging: one line per event, as text or as JSON, each with the request id of
the request it belongs to.

`tabadol serve` configures it (`log_level`, `log_format`); uvicorn's own configuration is
off, its loggers propagate here, and its access log is replaced by the node's
(`web.edge`), which writes paths without their query strings. What is logged: requests
(method, path, status, time), peer sync failures, retries and recoveries, unexpected
errors. What never is: headers (tokens), query strings (search terms), bodies (content).
A traceback is kept on its one line (newlines escaped), so a log reader that splits on lines
never takes a frame for an event.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import sys
from typing import Any, TextIO
from urllib.parse import quote

import orjson
from starlette.types import Scope

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class _RequestId(logging.Filter):
    """Stamps each record with the id of the request being served (`-` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def _time(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with `extra=` (the access log's method, path, status …)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER [REQUEST-ID] message` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}"
        line += f" [{getattr(record, 'request_id', '-')}] {record.getMessage()}"
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info)
        return _one_line(line)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message and the extra
    fields."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            **_extra(record),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(event, default=str).decode()


def configure_logging(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """The root logger writes every event at `level` and above, one line each, to `stream`
    (stderr); uvicorn's loggers have no handlers of their own and propagate to it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


_ENROL_SECRET = re.compile(r"^/+enrol/+[^/]+", re.I)


def logged_path(scope: Scope) -> str:
    """The path as sent (percent-encoded: one line, whatever it names), never the query,
    and never the secret of an enrolment link: `/enrol/<secret>` is logged `/enrol/…`."""
    decoded = str(scope["path"])
    enrol = _ENROL_SECRET.match(decoded)  # matched decoded: `/%65nrol/…` routes there too
    if enrol is not None:
        return "/enrol/…" + quote(decoded[enrol.end() :])
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else decoded
