"""What a filter decides about a question, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What happens to the question; ordered from least to most severe."""

    PUBLISH = "publish"
    HOLD = "hold"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        """Rank used to combine verdicts: the most severe action wins."""
        return _SEVERITY[self]


_SEVERITY = {Action.PUBLISH: 0, Action.HOLD: 1, Action.REJECT: 2}


class Reason(StrEnum):
    """Reason codes shown to authors and moderators; declaration order is the order in verdicts."""

    FLOOD = "flood"
    OFFENSIVE = "offensive"
    BLOCKED_TERM = "blocked_term"
    PERSONAL_DATA = "personal_data"
    LINK = "link"
    SHOUTING = "shouting"
    REPETITION = "repetition"


@dataclass(frozen=True, slots=True)
class Verdict:
    """An action, its reasons, and an existing question the author may upvote instead."""

    action: Action = Action.PUBLISH
    reasons: tuple[Reason, ...] = ()
    duplicate_of: int | None = None
    duplicate_score: float | None = None

    def __post_init__(self) -> None:
        """Reject half-filled duplicate suggestions, which callers could not act on."""
        if (self.duplicate_of is None) != (self.duplicate_score is None):
            raise ValueError("duplicate_of and duplicate_score go together")


PUBLISH = Verdict()
