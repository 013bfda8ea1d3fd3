"""Inbound payloads for after the stream: dispositions, series, carry-over, receipt addresses."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from live.domain.dispositions import Disposition, Outcome
from live.domain.text import clean
from live.transport.moderation_schemas import Version
from live.transport.schemas import Id, Payload

RESPONSE_MAX = 10_000
BODY_MAX = 200
SERIES_MAX = 64
EMAIL_MAX = 254
STREAM_TIME_MAX = 7 * 24 * 3600
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SERIES = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _paragraphs(raw: str | None) -> str | None:
    """Clean each line like any user text, but keep the paragraphs of a written response."""
    if raw is None:
        return None
    lines = [clean(line) for line in raw.replace("\r\n", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text or None


def _line(limit: int):
    def check(raw: str | None) -> str | None:
        if raw is None:
            return None
        text = clean(raw)
        if len(text) > limit:
            raise ValueError(f"at most {limit} characters")
        return text or None

    return AfterValidator(check)


def _email(raw: str) -> str:
    email = raw.strip()
    if not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def _series(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.strip().lower()
    if not _SERIES.match(name):
        raise ValueError("a series name has lower-case letters, digits and hyphens")
    return name


Response = Annotated[
    str | None, StringConstraints(max_length=RESPONSE_MAX), AfterValidator(_paragraphs)
]
Body = Annotated[str | None, StringConstraints(max_length=2000), _line(BODY_MAX)]
DueDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None
Series = Annotated[
    str | None, StringConstraints(max_length=SERIES_MAX), AfterValidator(_series)
]


class Dispose(Payload):
    """An organiser's disposition; the version is optional, a moderator's is not."""

    question_id: Id
    version: Version | None = None
    disposition: Literal[
        "open", "answered_live", "answered_in_writing", "referred", "declined"
    ]
    stream_time: Annotated[int, Field(ge=0, le=STREAM_TIME_MAX)] | None = None
    response: Response = None
    referred_to: Body = None
    due_date: DueDate = None

    def outcome(self) -> Outcome:
        return Outcome(
            Disposition(self.disposition),
            self.stream_time,
            self.response,
            self.referred_to,
            self.due_date,
        ).validate()


class ModeratorDispose(Dispose):
    version: Version


class SetSeries(Payload):
    series: Series


class Carry(Payload):
    from_event: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ReceiptAddress(Payload):
    email: Annotated[str, StringConstraints(max_length=EMAIL_MAX), AfterValidator(_email)]


class NoPayload(Payload):
    """Commands that take nothing still refuse unknown fields."""
