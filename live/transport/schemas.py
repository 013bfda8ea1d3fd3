"""Inbound payloads: strict types, bounded sizes, text cleaned before any service sees it."""

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, model_validator,
)

from live.domain import schedule
from live.domain.polls import PollKind, PollSpec
from live.domain.text import clean

QUESTION_MAX = 500
NAME_MAX = 40
RAW_TEXT_MAX = 2000
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
URL_MAX = 500


def _question_text(raw: str) -> str:
    text = clean(raw)
    if not 1 <= len(text) <= QUESTION_MAX:
        raise ValueError(
            f"a question has 1 to {QUESTION_MAX} characters once spaces and "
            f"control characters are removed (this one has {len(text)})"
        )
    return text


def _display_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = clean(raw)
    if len(name) > NAME_MAX:
        raise ValueError(f"a name has at most {NAME_MAX} characters")
    return name or None


def _title(raw: str) -> str:
    title = clean(raw)
    if not title:
        raise ValueError("a title cannot be empty")
    return title


def _stream_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith(("https://", "http://")):
        raise ValueError("a livestream URL starts with https:// or http://")
    return url


def _link_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith(("https://", "http://")) or len(url) < 12 or any(c.isspace() for c in url):
        raise ValueError("a link is a web address starting with https:// or http://")
    return url


def _instant(raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    return schedule.parse_instant(raw)


QuestionText = Annotated[
    str, StringConstraints(max_length=RAW_TEXT_MAX), AfterValidator(_question_text)
]
DisplayName = Annotated[
    str | None, StringConstraints(max_length=RAW_TEXT_MAX), AfterValidator(_display_name)
]
Title = Annotated[str, StringConstraints(max_length=TITLE_MAX), AfterValidator(_title)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX)]
StreamUrl = Annotated[
    str | None, StringConstraints(max_length=URL_MAX), AfterValidator(_stream_url)
]
LinkUrl = Annotated[str | None, StringConstraints(max_length=URL_MAX), AfterValidator(_link_url)]
Instant = Annotated[str | None, StringConstraints(max_length=40), AfterValidator(_instant)]
#: Event fields that an update may set to null, to take them away.
CLEARABLE = frozenset({"stream_url", "starts_at", "ends_at", "captions_url", "sign_language_url"})
OpId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Id = Annotated[int, Field(ge=1, le=2**53)]
AttendanceValue = Literal["in_room", "remote"]
ModerationValue = Literal["pre", "post"]
FilterName = Literal[
    "flood", "offensive", "blocked_term", "personal_data", "link", "shouting", "repetition",
    "duplicate",
]
BLOCKED_TERMS_MAX = 500
BlockedTerm = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


DEVICE_TOKEN_MAX = 128
_DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,%d}" % DEVICE_TOKEN_MAX)


def valid_device_token(raw: str) -> bool:
    """Whether a device cookie holds a token of the shape we issue; any other is replaced."""
    return _DEVICE_TOKEN.fullmatch(raw) is not None


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ConnectAuth(Payload):
    event: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    token: Annotated[str, StringConstraints(min_length=1, max_length=DEVICE_TOKEN_MAX)] | None = None


class Join(Payload):
    attendance: AttendanceValue
    name: DisplayName = None


class Ask(Payload):
    text: QuestionText
    anonymous: bool = False
    op_id: OpId | None = None
    allow_duplicate: bool = False


class QuestionRef(Payload):
    question_id: Id


class Vote(Payload):
    question_id: Id
    op_id: OpId | None = None


class Snapshot(Payload):
    since: Annotated[int, Field(ge=0)] | None = None
    sort: Literal["top", "recent"] = "top"


class EventCreate(Payload):
    title: Title
    code: Annotated[str, StringConstraints(max_length=32)] | None = None
    description: Description = ""
    stream_url: StreamUrl = None
    moderation: ModerationValue = "post"
    starts_at: Instant = None
    ends_at: Instant = None
    advance_questions: bool = False
    captions_url: LinkUrl = None
    sign_language_url: LinkUrl = None

    @model_validator(mode="after")
    def _in_order(self) -> "EventCreate":
        schedule.check_order(self.starts_at, self.ends_at)
        return self


class EventUpdate(Payload):
    title: Title | None = None
    description: Description | None = None
    stream_url: StreamUrl = None
    starts_at: Instant = None
    ends_at: Instant = None
    advance_questions: bool | None = None
    captions_url: LinkUrl = None
    sign_language_url: LinkUrl = None
    blocked_terms: Annotated[list[BlockedTerm], Field(max_length=BLOCKED_TERMS_MAX)] | None = None
    disabled_filters: list[FilterName] | None = None


def _answer_shape(value: object) -> str | None:
    """Which shape of answer this is, so a refusal speaks of that shape alone, by its name."""
    if type(value) is int:
        return "number"
    if type(value) is str:
        return "text"
    if type(value) is list:
        return "words" if value and type(value[0]) is str else "numbers"
    return None


AnswerValue = Annotated[
    Annotated[Annotated[int, Field(ge=-(2**31), le=2**31)], Tag("number")]
    | Annotated[
        list[Annotated[int, Field(ge=0, le=1000)]], Field(max_length=50), Tag("numbers")
    ]
    | Annotated[
        list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=20), Tag("words")
    ]
    | Annotated[str, StringConstraints(max_length=RAW_TEXT_MAX), Tag("text")],
    Discriminator(
        _answer_shape,
        custom_error_type="poll_answer",
        custom_error_message="a poll answer is a number, a list of numbers, a list of words or a text",
    ),
]


class Answer(Payload):
    poll_id: Id
    value: AnswerValue
    op_id: OpId | None = None


class PollCreate(Payload):
    kind: Literal["single", "multiple", "rating", "word_cloud", "open_text", "ranking"]
    question: Annotated[str, StringConstraints(max_length=RAW_TEXT_MAX)]
    options: Annotated[
        list[Annotated[str, StringConstraints(max_length=RAW_TEXT_MAX)]], Field(max_length=50)
    ] = []
    max_choices: Annotated[int, Field(ge=1, le=50)] = 1
    scale_min: Annotated[int, Field(ge=-100, le=100)] = 1
    scale_max: Annotated[int, Field(ge=-100, le=100)] = 5
    max_entries: Annotated[int, Field(ge=1, le=50)] = 3
    audience: Literal["everyone", "in_room"] = "everyone"
    visibility: Literal["live", "after_close", "staff"] = "live"


def poll_spec(payload: PollCreate) -> PollSpec:
    """The domain's poll definition from a validated payload, its text cleaned like any other."""
    return PollSpec(
        kind=PollKind(payload.kind),
        question=clean(payload.question),
        options=tuple(clean(o) for o in payload.options),
        max_choices=payload.max_choices,
        scale_min=payload.scale_min,
        scale_max=payload.scale_max,
        max_entries=payload.max_entries,
    )
