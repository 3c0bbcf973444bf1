"""JSON log lines with the `extra` fields a call site passes, one object per line.

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
}


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
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pypdf narrates every oddity of a damaged file; the job's error says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
