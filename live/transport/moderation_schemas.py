"""Inbound payloads of moderators and screens: the same strict rules as the participants'."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from live.domain.text import clean
from live.transport.schemas import AttendanceValue, DisplayName, Id, Payload, QuestionText

PSEUDONYM_MAX = 40
NOTE_MAX = 300
TOPIC_MAX = 40
SECRET_MAX = 128


def _short_text(limit: int):
    def check(raw: str | None) -> str | None:
        if raw is None:
            return None
        text = clean(raw)
        if len(text) > limit:
            raise ValueError(f"at most {limit} characters")
        return text or None

    return AfterValidator(check)


def _pseudonym(raw: str) -> str:
    name = clean(raw)
    if not 1 <= len(name) <= PSEUDONYM_MAX:
        raise ValueError(f"a pseudonym has 1 to {PSEUDONYM_MAX} characters")
    return name


Version = Annotated[int, Field(ge=1, le=2**53)]
Note = Annotated[str | None, StringConstraints(max_length=2000), _short_text(NOTE_MAX)]
Topic = Annotated[str | None, StringConstraints(max_length=2000), _short_text(TOPIC_MAX)]


class ModeratorLogin(Payload):
    model_config = Payload.model_config | {"strict": False}
    secret: Annotated[
        str, StringConstraints(min_length=1, max_length=SECRET_MAX, strip_whitespace=True)
    ]
    pseudonym: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_pseudonym)]


class ModeratorConnect(Payload):
    event: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ScreenConnect(Payload):
    event: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    token: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Decision(Payload):
    question_id: Id
    version: Version


class Reject(Decision):
    reason: Literal["off_topic", "abusive", "personal_data", "duplicate", "spam", "other"]
    note: Note = None


class Edit(Decision):
    text: QuestionText


class Merge(Decision):
    into: Id


class Label(Decision):
    topic: Topic = None


class ScreenBalance(Payload):
    show: bool


class ScreenModeChoice(Payload):
    screen: Literal["auto", "poll", "focus", "both"]


class Focus(Payload):
    question_id: Id | None = None
    version: Version | None = None


class Mute(Payload):
    participant_id: Id


class Mode(Payload):
    mode: Literal["pre", "post"]


class Empty(Payload):
    pass


class PollRef(Payload):
    poll_id: Id


ChannelValue = Literal["paper", "phone", "sms", "steward"]


class Enter(Payload):
    """A question entered for someone without a device: by a moderator's command."""

    text: QuestionText
    channel: ChannelValue
    attendance: AttendanceValue
    name: DisplayName = None
    anonymous: bool = True
    allow_duplicate: bool = False


class EntryForm(Payload):
    """The steward page's form: checkboxes arrive as "on" or not at all."""

    model_config = Payload.model_config | {"strict": False}
    text: QuestionText
    channel: ChannelValue
    attendance: AttendanceValue
    name: DisplayName = None
    show_name: bool = False
    allow_duplicate: bool = False
