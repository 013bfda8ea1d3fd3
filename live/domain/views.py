"""The shapes of stored rows for each audience: everyone, the author, the moderators."""

import json

from live.domain.model import VISIBLE_STATUSES
from live.domain.schedule import iso


def public_event(row: dict) -> dict:
    """Event fields safe to show everyone."""
    return {
        "code": row["code"],
        "title": row["title"],
        "description": row["description"],
        "stream_url": row["stream_url"],
        "state": row["state"],
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(row["ends_at"]),
        "advance_questions": bool(row["advance_questions"]),
        "captions_url": row["captions_url"],
        "sign_language_url": row["sign_language_url"],
    }


def stage(row: dict) -> dict:
    """How the event is run now: its moderation mode and what the big screen shows."""
    return {
        "mode": row["moderation_mode"],
        "focus": row["focus_question_id"],
        "balance": bool(row["screen_balance"]),
        "screen": row["screen_mode"],
    }


def _credits(row: dict) -> list[dict]:
    """Authors of questions merged into this one, credited by the name they chose to show."""
    return [
        {"author_name": m["author_name"], "attendance": m["attendance"]}
        for m in json.loads(row.get("merged_authors") or "[]")
    ]


def public_question(row: dict) -> dict:
    """A question without its author's identity: only the name they chose to show."""
    return {
        "id": row["id"],
        "text": row["text"],
        "author_name": row["author_name"],
        "attendance": row["attendance"],
        "status": row["status"],
        "votes": row["votes"],
        "created_at": row["created_at"],
        "topic": row["topic"],
        "also_asked_by": _credits(row),
    }


def outcome(row: dict) -> dict:
    """How a question ended, as the public record, its author and the moderators read it."""
    return {
        "disposition": row["disposition"],
        "stream_time": row["stream_time"],
        "response": row["response"],
        "referred_to": row["referred_to"],
        "due_date": row["due_date"],
        "disposed_at": row["disposed_at"],
    }


def own_question(row: dict) -> dict:
    """What the author sees of their own question: its status and why, even when hidden."""
    return {
        "id": row["id"],
        "text": row["text"],
        "status": row["status"],
        "reason": row["reason"],
        "note": row["note"],
        "merged_into": row["merged_into"],
        **outcome(row),
    }


def record_question(row: dict) -> dict:
    """A published question on the public record: votes, where its author was, how it ended."""
    return {
        **public_question(row),
        **outcome(row),
        "carried_from": row["carried_from"],
        "carried_votes": row["carried_votes"],
        "asked_before_start": bool(row["asked_before_start"]),
    }


def moderator_question(row: dict) -> dict:
    """Everything moderators need to decide: filter reasons, suggested merge, author and version."""
    return {
        **public_question(row),
        "version": row["version"],
        "participant_id": row["participant_id"],
        "flags": json.loads(row["flags"]),
        "duplicate_of": row["duplicate_of"],
        "merged_into": row["merged_into"],
        "original_text": row["original_text"],
        "reason": row["reason"],
        "note": row["note"],
        "decided_at": row["decided_at"],
        "channel": row["channel"],
        "asked_before_start": bool(row["asked_before_start"]),
        **outcome(row),
    }


def moderator_participant(row: dict) -> dict:
    """A participant as moderators see them: attendance, mute and how much they have asked."""
    return {
        "id": row["id"],
        "name": row["name"],
        "attendance": row["attendance"],
        "muted": bool(row["muted"]),
        "asked": row["asked"],
    }


def is_visible(row: dict) -> bool:
    return row["status"] in VISIBLE_STATUSES


def log_entry(row: dict) -> dict:
    """A moderation log entry as moderators read it."""
    details = json.loads(row["details"]) if row["details"] else None
    return {**{k: row[k] for k in row if k != "event_id"}, "details": details}


def balance(rows: list[dict], channels: list[dict]) -> dict:
    """The balance of voices keyed by attendance (in_room, remote), and by channel under channels."""
    sides = {row["attendance"]: {k: v for k, v in row.items() if k != "attendance"} for row in rows}
    by_channel = {row["channel"]: {k: v for k, v in row.items() if k != "channel"} for row in channels}
    return {**sides, "channels": by_channel}


def entered_question(row: dict) -> dict:
    """What a steward sees of a question they entered: how it came in and where it stands."""
    return {
        "id": row["id"],
        "text": row["text"],
        "channel": row["channel"],
        "attendance": row["attendance"],
        "author_name": row["author_name"],
        "status": row["status"],
        "reason": row["reason"],
        "created_at": row["created_at"],
    }
