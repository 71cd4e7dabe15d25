"""One log line per request, through the standard `logging` module.

The app reports every request it answers to the logger ``ocss_testkit.requests`` at INFO
(`log_request`, called at the end of `FakeApp.handle`). Nothing is printed unless someone
configures that logger: the standalone server does (`configure`, from ``ocss-fake serve
--log-format text|json`` and ``--quiet``); in-process use stays silent, and a test may
attach its own handler (or use pytest's ``caplog``).

Each record's ``args`` is a dict with these fields (the JSON form is exactly this dict):

- ``time``: when the request arrived, UTC, ISO 8601 with milliseconds (``…T12:30:00.123Z``);
- ``method``: the request method, at most 16 characters;
- ``path``: the path as sent on the wire (percent-escaped again, so no space or control
  character can break a line), cut to ``MAX_PATH`` characters and ``…``;
- ``status``: the status code (0 when a fault dropped the connection);
- ``reason``: the reason phrase (``No such Google client.``);
- ``duration_ms``: milliseconds spent answering, a float;
- ``user``: the demo user the request was signed for, or None;
- ``request_id``: the ``X-Request-Id`` of the answer (``r12``), also in the journal.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from urllib.parse import quote

LOGGER_NAME = "ocss_testkit.requests"
MAX_PATH = 200  # characters of a path a line keeps: a line stays readable whatever was sent
FORMATS = ("text", "json")

logger = logging.getLogger(LOGGER_NAME)


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _wire_path(path: str) -> str:
    # werkzeug hands over the decoded path; escaping it again gives the form the client sent,
    # without a space, quote or line break of the client's making in the line.
    wire = quote(path.encode("utf-8", "surrogatepass"), safe="/:@!$&'()*+,;=-._~%")  # never raises
    return wire if len(wire) <= MAX_PATH else wire[:MAX_PATH] + "…"


def _printable(text: str | None) -> str | None:
    if text is None or text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def log_request(request_id: str, method: str, path: str, status_line: str, started: float,
                user: str | None) -> None:
    """Report one answered request: `status_line` is ``"<code> <reason>"`` as werkzeug's
    `Response.status` holds it (``"0 connection dropped"`` for a dropped connection),
    `started` the request's `time.perf_counter()` at arrival.

    Costs one level check when nobody listens (the default)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    duration = time.perf_counter() - started
    code, _, reason = status_line.partition(" ")
    fields = {
        "time": _iso(time.time() - duration),
        "method": _printable(method[:16]),
        "path": _wire_path(path),
        "status": int(code) if code.isdigit() else 0,
        "reason": _printable(reason[:200]),
        "duration_ms": round(duration * 1000, 3),
        "user": _printable(user),
        "request_id": request_id,
    }
    # A single dict argument is logging's mapping form: the message is formatted lazily.
    logger.info("%(method)s %(path)s %(status)s %(reason)s %(duration_ms).1fms user=%(user)s id=%(request_id)s",
                fields)


class TextFormatter(logging.Formatter):
    """``2009-11-01T12:30:00.123Z GET /v2/services/syncml/ 200 OK 2.1ms user=alice id=r7``
    (``user=-`` when unsigned)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.args if isinstance(record.args, dict) else None
        if fields is None or "request_id" not in fields:
            return super().format(record)
        shown = dict(fields, user=fields["user"] if fields["user"] is not None else "-")
        return f"{fields['time']} " + record.msg % shown


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the fields named in this module's docstring."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.args if isinstance(record.args, dict) else None
        if fields is None or "request_id" not in fields:
            return json.dumps({"time": _iso(record.created), "level": record.levelname,
                               "message": record.getMessage()}, ensure_ascii=False)
        return json.dumps(fields, ensure_ascii=False)


_installed: logging.Handler | None = None


def configure(log_format: str = "text", quiet: bool = False, stream=None) -> logging.Handler | None:
    """Send request lines to `stream` (default: standard error), one per request, as
    `log_format` ("text" or "json"); with `quiet`, none. Calling it again replaces the
    handler it installed before. Returns the handler (None when quiet).

    Raises ValueError for another format."""
    global _installed
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: use one of {', '.join(FORMATS)}")
    if _installed is not None:
        logger.removeHandler(_installed)
        _installed = None
    if quiet:
        logger.setLevel(logging.WARNING)
        return None
    handler = logging.StreamHandler(stream)  # None: sys.stderr
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the lines go where they were asked to, not also to the root
    _installed = handler
    return handler


def reset() -> None:
    """Undo `configure`: no handler of its own, the logger's level and propagation back to
    logging's defaults."""
    global _installed
    if _installed is not None:
        logger.removeHandler(_installed)
        _installed = None
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
