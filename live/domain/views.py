"""The shapes of stored rows for each audience: everyone, the author, the moderators."""

import json

from live.domain.model import VISIBLE_STATUSES


def public_event(row: dict) -> dict:
    """Event fields safe to show everyone."""
    return {
        "code": row["code"],
        "title": row["title"],
        "description": row["description"],
        "stream_url": row["stream_url"],
        "state": row["state"],
    }


def stage(row: dict) -> dict:
    """How the event is run right now: its moderation mode and the question on the big screen."""
    return {"mode": row["moderation_mode"], "focus": row["focus_question_id"]}


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


def own_question(row: dict) -> dict:
    """What the author sees of their own question: its status and why, even when hidden."""
    return {
        "id": row["id"],
        "text": row["text"],
        "status": row["status"],
        "reason": row["reason"],
        "note": row["note"],
        "merged_into": row["merged_into"],
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
