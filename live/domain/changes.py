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
