"""Log lines on stderr, as text or as one JSON object per line, with secrets and addresses masked.

Log calls name people by role and things by id, never by their text; the redaction here is the
safety net for what slips through (an exception quoting an email address, a token in a URL).
"""

import datetime
import json
import logging
import re
import sys

from live.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+")
#: `token=…`, `"secret": "…"`, `password: …` and the like, in any case.
KEYED = re.compile(
    r"(?i)((?:token|secret|password|passwd|authorization)\w*[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
)
#: A run of URL-safe letters and digits as long as our shortest secret (16): taken for one.
TOKEN_LIKE = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{16,}(?![\w-])", re.ASCII)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with email addresses, bearer credentials and token-like strings masked."""
    text = EMAIL.sub("[email]", text)
    text = BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = KEYED.sub(lambda m: m.group(1) + REDACTED, text)
    return TOKEN_LIKE.sub(REDACTED, text)


class Redact(logging.Filter):
    """Masks the message and the exception text of every record before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One object per line: time (ISO 8601, UTC), level, logger, message, event, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = getattr(record, "event", None)
        if event is not None:
            line["event"] = str(event)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


def configure(settings: Settings) -> None:
    """Send every logger's records to stderr in the configured format, masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines print each call with its arguments and results: people's text.
    logging.getLogger("aiosqlite").setLevel(max(root.level, logging.INFO))
