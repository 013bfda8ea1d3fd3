"""The evidence export's rows: which fields leave the server, and never personal data by default."""

import json

from live.domain import polls
from live.domain.model import PUBLIC_TEXT_REASONS, QuestionStatus

FORMAT = "live-export"
VERSION = 1

QUESTION_FIELDS = (
    "event_code", "id", "created_at", "status", "reason", "attendance", "author_name", "text",
    "topic", "votes", "votes_in_room", "votes_remote", "carried_from", "carried_votes",
    "merged_into", "disposition", "stream_time", "response", "referred_to", "due_date",
    "disposed_at", "channel", "asked_before_start",
)
POLL_FIELDS = (
    "event_code", "poll_id", "kind", "question", "state", "opened_at", "closed_at", "item",
    "all", "in_room", "remote",
)
LOG_FIELDS = ("event_code", "id", "at", "moderator", "action", "question_id", "reason", "note",
              "details")
PARTICIPATION_FIELDS = ("event_code", "minute", "attendance", "joined", "questions", "votes",
                        "poll_answers")
TABLES = {
    "questions": QUESTION_FIELDS,
    "polls": POLL_FIELDS,
    "moderation_log": LOG_FIELDS,
    "participation": PARTICIPATION_FIELDS,
}


def event_header(event: dict) -> dict:
    return {
        "code": event["code"],
        "title": event["title"],
        "series": event["series"],
        "state": event["state"],
        "created_at": event["created_at"],
    }


def question(code: str, row: dict, names: bool) -> dict:
    """A question's row; harmful or withdrawn text is left out, and names unless asked for."""
    hidden = row["status"] == QuestionStatus.WITHDRAWN or (
        row["status"] == QuestionStatus.REJECTED and row["reason"] not in PUBLIC_TEXT_REASONS
    )
    return {
        **{field: row.get(field) for field in QUESTION_FIELDS},
        "event_code": code,
        "text": None if hidden else row["text"],
        "author_name": row["author_name"] if names else None,
        "asked_before_start": bool(row["asked_before_start"]),
    }


def log_entry(code: str, row: dict) -> dict:
    """A moderation decision with its reason; who was affected and the edited text stay out."""
    return {
        **{field: row.get(field) for field in LOG_FIELDS},
        "event_code": code,
        "details": json.loads(row["details"]) if row["details"] else None,
    }


def participation(code: str, row: dict) -> dict:
    return {**row, "event_code": code}


def poll(code: str, row: dict, responses: list[tuple[str, object]]) -> dict:
    """A poll with its results for everyone, the room and the stream."""
    return {
        "event_code": code,
        "poll_id": row["id"],
        "kind": row["kind"],
        "question": row["question"],
        "options": row["options"],
        "settings": row["settings"],
        "state": row["state"],
        "opened_at": row["opened_at"],
        "closed_at": row["closed_at"],
        "results": polls.results(polls.spec_of(row), responses),
    }


def poll_rows(exported: dict) -> list[dict]:
    """A poll's results as flat rows: one per option, scale step or word, counts by attendance."""
    kind, results = exported["kind"], exported["results"]
    base = {k: exported[k] for k in POLL_FIELDS if k in exported}

    def row(item: object, pick) -> dict:
        return {**base, "item": item, **{a: pick(results[a]) for a in ("all", "in_room", "remote")}}

    if kind in ("single", "multiple"):
        return [row(o, lambda r, i=i: r["counts"][i]) for i, o in enumerate(exported["options"])]
    if kind == "ranking":
        return [row(o, lambda r, i=i: r["scores"][i]) for i, o in enumerate(exported["options"])]
    if kind == "rating":
        scale = results["all"]["scale"]
        return [row(step, lambda r, i=i: r["counts"][i]) for i, step in enumerate(scale)]
    if kind == "word_cloud":
        return [
            row(word, lambda r, w=word: dict(r["words"]).get(w, 0))
            for word, _ in results["all"]["words"]
        ]
    return [{**base, "item": "responses", **results["responses"]}]
