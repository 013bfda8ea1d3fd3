"""Review rules: where a new question starts, and which moderator action may move it where."""

import json
from dataclasses import dataclass

from moderation import Action, FilterConfig, Reason, Verdict

from live.domain import errors
from live.domain.errors import LiveError
from live.domain.model import ModerationMode, QuestionStatus, RejectReason

S = QuestionStatus

#: The reason an author reads when a filter rejects outright (an event may set a filter to reject).
REJECTED_BECAUSE = {
    Reason.OFFENSIVE: RejectReason.ABUSIVE,
    Reason.BLOCKED_TERM: RejectReason.ABUSIVE,
    Reason.PERSONAL_DATA: RejectReason.PERSONAL_DATA,
    Reason.LINK: RejectReason.SPAM,
    Reason.SHOUTING: RejectReason.SPAM,
    Reason.REPETITION: RejectReason.SPAM,
}
MUTED_FLAG = "muted"
PRE_MODERATION_FLAG = "pre_moderation"

#: Each status-changing action: the statuses it may start from, and where it leaves the question.
TRANSITIONS: dict[str, tuple[frozenset[QuestionStatus], QuestionStatus]] = {
    "approve": (frozenset({S.PENDING, S.REJECTED, S.ARCHIVED, S.ANSWERED}), S.PUBLISHED),
    "reject": (frozenset({S.PENDING, S.PUBLISHED, S.ANSWERED, S.ARCHIVED}), S.REJECTED),
    "answer": (frozenset({S.PUBLISHED}), S.ANSWERED),
    "archive": (frozenset({S.PENDING, S.PUBLISHED, S.ANSWERED, S.REJECTED}), S.ARCHIVED),
}
EDITABLE = frozenset({S.PENDING, S.PUBLISHED, S.ANSWERED})
MERGEABLE = frozenset({S.PENDING, S.PUBLISHED, S.ANSWERED})
MERGE_TARGETS = frozenset({S.PENDING, S.PUBLISHED, S.ANSWERED})


@dataclass(frozen=True)
class Admission:
    """Where a new question starts, with the filter reasons moderators see."""

    status: QuestionStatus
    flags: tuple[str, ...] = ()
    reason: RejectReason | None = None


def filter_config(event: dict) -> FilterConfig:
    """The event's filter settings as the pure pipeline wants them."""
    return FilterConfig(
        disabled=frozenset(json.loads(event["disabled_filters"])),
        blocked_terms=tuple(json.loads(event["blocked_terms"])),
    )


def admit(mode: ModerationMode, verdict: Verdict, muted: bool) -> Admission:
    """Combine the filters' verdict, the event's mode and the author's mute into a first status."""
    flags = tuple(r.value for r in verdict.reasons)
    if verdict.action is Action.REJECT:
        reason = next(
            (REJECTED_BECAUSE[r] for r in verdict.reasons if r in REJECTED_BECAUSE),
            RejectReason.SPAM,
        )
        return Admission(S.REJECTED, flags, reason)
    if muted:
        flags += (MUTED_FLAG,)
    if verdict.action is Action.HOLD or muted:
        return Admission(S.PENDING, flags)
    if mode is ModerationMode.PRE:
        return Admission(S.PENDING, flags + (PRE_MODERATION_FLAG,))
    return Admission(S.PUBLISHED, flags)


def transition(action: str, current: QuestionStatus) -> QuestionStatus:
    """The status an action leaves a question in; refuses moves the lifecycle does not allow."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        status = errors.with_article(current)
        raise LiveError(errors.INVALID, f"{status} question cannot be given '{action}'.")
    return target
