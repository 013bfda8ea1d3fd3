"""How each published question ended: the public disposition, its details and the allowed moves."""

import time
from dataclasses import dataclass
from enum import StrEnum

from live.domain import errors
from live.domain.errors import LiveError
from live.domain.model import VISIBLE_STATUSES, QuestionStatus


class Disposition(StrEnum):
    OPEN = "open"
    ANSWERED_LIVE = "answered_live"
    ANSWERED_IN_WRITING = "answered_in_writing"
    REFERRED = "referred"
    DECLINED = "declined"


D = Disposition

#: Where each disposition may move. A published written answer stays on record: it can be revised,
#: never taken back; a live answer may be corrected (or undone when it was set by mistake).
TRANSITIONS: dict[Disposition, frozenset[Disposition]] = {
    D.OPEN: frozenset(D),
    D.REFERRED: frozenset(D),
    D.DECLINED: frozenset(D),
    D.ANSWERED_LIVE: frozenset({D.OPEN, D.ANSWERED_LIVE, D.ANSWERED_IN_WRITING}),
    D.ANSWERED_IN_WRITING: frozenset({D.ANSWERED_IN_WRITING}),
}
ANSWERED = frozenset({D.ANSWERED_LIVE, D.ANSWERED_IN_WRITING})


@dataclass(frozen=True)
class Outcome:
    """A disposition with the details it carries; the others are cleared."""

    disposition: Disposition
    stream_time: int | None = None
    response: str | None = None
    referred_to: str | None = None
    due_date: str | None = None

    def validate(self) -> "Outcome":
        """Each disposition needs its own detail and no one else's."""
        d = self.disposition
        needs = {D.ANSWERED_IN_WRITING: "response", D.DECLINED: "response", D.REFERRED: "referred_to"}
        if d in needs and not getattr(self, needs[d]):
            what = {"response": "a response" if d is D.ANSWERED_IN_WRITING else "a reason"}
            what["referred_to"] = "the body it is referred to"
            raise LiveError(errors.INVALID, f"'{d}' needs {what[needs[d]]}.")
        if self.stream_time is not None and d is not D.ANSWERED_LIVE:
            raise LiveError(errors.INVALID, "Only a live answer has a time in the stream.")
        if self.response is not None and d not in {D.ANSWERED_IN_WRITING, D.DECLINED}:
            which = errors.with_article(f"'{d}'")
            raise LiveError(errors.INVALID, f"{which} question has no written response.")
        if (self.referred_to is not None or self.due_date is not None) and d is not D.REFERRED:
            raise LiveError(errors.INVALID, "Only a referral names a body and a due date.")
        return self

    def fields(self) -> dict:
        return {
            "disposition": self.disposition.value,
            "stream_time": self.stream_time,
            "response": self.response,
            "referred_to": self.referred_to,
            "due_date": self.due_date,
        }


def settle(status: QuestionStatus, current: Disposition, outcome: Outcome) -> QuestionStatus:
    """Check the move and return the question's new status: an answer marks it answered."""
    if status not in VISIBLE_STATUSES:
        which = errors.with_article(status)
        raise LiveError(errors.INVALID, f"{which} question has no disposition; publish it first.")
    if outcome.disposition not in TRANSITIONS[current]:
        raise LiveError(
            errors.INVALID, f"A question {current} cannot become {outcome.disposition}."
        )
    outcome.validate()
    if outcome.disposition in ANSWERED:
        return QuestionStatus.ANSWERED
    return QuestionStatus.PUBLISHED if current in ANSWERED else status


def follow(status: QuestionStatus, current: Disposition) -> dict:
    """Fields a moderator's answer (or its undo) changes, so the console keeps the record true."""
    if status is QuestionStatus.ANSWERED and current is D.OPEN:
        return {"disposition": D.ANSWERED_LIVE.value, "disposed_at": time.time()}
    if status is not QuestionStatus.ANSWERED and current is D.ANSWERED_LIVE:
        return {"disposition": D.OPEN.value, "stream_time": None, "disposed_at": time.time()}
    return {}
