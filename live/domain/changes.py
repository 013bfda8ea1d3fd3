"""What a committed write tells the audience: values the fan-out turns into broadcasts."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    """A structural change to an event, broadcast at once with its own seq."""

    event_id: int
    seq: int
    type: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VoteCount:
    """A question's absolute vote count as of seq; coalesced with others before broadcast."""

    event_id: int
    seq: int
    question_id: int
    votes: int


Published = Change | VoteCount


@dataclass(frozen=True)
class Notice:
    """News for one audience only, never the whole room: an event's moderators or one author."""

    audience: str
    target: int
    name: str
    data: dict


MODERATORS = "moderators"
SCREENS = "screens"
PARTICIPANT = "participant"
News = Published | Notice


def to_moderators(event_id: int, name: str, data: dict) -> Notice:
    return Notice(MODERATORS, event_id, name, data)


def to_author(participant_id: int, name: str, data: dict) -> Notice:
    return Notice(PARTICIPANT, participant_id, name, data)


def to_screens(event_id: int, name: str, data: dict) -> Notice:
    return Notice(SCREENS, event_id, name, data)
