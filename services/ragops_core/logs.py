"""Log lines with the `extra` fields a call site passes: one JSON object per line for log
collectors, or, when stderr is a terminal, one readable line (`configure_logging` picks).

Lines written while a request or a document is being handled also carry its request id,
tenant, user, job and document (`request_context`), and, when tracing is on, the trace
and span ids of the current span, so a log search and a trace viewer find each other.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from opentelemetry import trace

from ragops_core import request_context

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    # uvicorn's copy of its message with terminal colour codes: noise in any log line.
    "color_message",
}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (context := request_context.current()) is not None:
            entry.update(context.log_fields())
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 INFO     message  key=value ...`, then the traceback, for a person reading."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(message)s", datefmt="%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        context = request_context.current()
        fields: dict[str, object] = dict(context.log_fields()) if context is not None else {}
        fields.update(_extras(record))
        line = super().formatMessage(record)
        return "  ".join([line, " ".join(f"{k}={v}" for k, v in fields.items())]).rstrip()


def configure_logging(level: str = "info") -> None:
    """Readable lines on a terminal, JSON lines otherwise (a pipe, a file, a container's log)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ConsoleFormatter() if sys.stderr.isatty() else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pypdf narrates every oddity of a damaged file; the job's error says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
