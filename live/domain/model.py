"""Lifecycles and shared vocabulary of the Q&A domain."""

from enum import StrEnum


class Attendance(StrEnum):
    IN_ROOM = "in_room"
    REMOTE = "remote"


class Channel(StrEnum):
    """How a question reached the event: from the asker's own device, or entered on their behalf."""

    DEVICE = "device"
    PAPER = "paper"
    PHONE = "phone"
    SMS = "sms"
    STEWARD = "steward"


class EventState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class QuestionStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    ANSWERED = "answered"
    REJECTED = "rejected"
    ARCHIVED = "archived"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


class ModerationMode(StrEnum):
    """pre: every question waits for a moderator; post: published unless a filter holds it."""

    PRE = "pre"
    POST = "post"


class ScreenMode(StrEnum):
    """What the big screen's main area shows; auto: an open poll while one runs, else the focus."""

    AUTO = "auto"
    POLL = "poll"
    FOCUS = "focus"
    BOTH = "both"


class RejectReason(StrEnum):
    OFF_TOPIC = "off_topic"
    ABUSIVE = "abusive"
    PERSONAL_DATA = "personal_data"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    OTHER = "other"


class Sort(StrEnum):
    TOP = "top"
    RECENT = "recent"


VISIBLE_STATUSES = frozenset({QuestionStatus.PUBLISHED, QuestionStatus.ANSWERED})

#: Withheld questions whose text the public record may show (abusive or personal text, never).
PUBLIC_TEXT_REASONS = frozenset({RejectReason.OFF_TOPIC, RejectReason.DUPLICATE})


def sort_key_top(question: dict) -> tuple:
    """Most votes first; among equals the oldest first, so early askers are not overtaken by ties."""
    return (-question["votes"], question["id"])


def sort_key_recent(question: dict) -> tuple:
    """Newest first."""
    return (-question["id"],)


def sort_questions(questions: list[dict], sort: Sort) -> list[dict]:
    """Order questions for display."""
    key = sort_key_top if sort is Sort.TOP else sort_key_recent
    return sorted(questions, key=key)
