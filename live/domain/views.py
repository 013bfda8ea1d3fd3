"""The public shapes of stored rows: what any audience member may see."""

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
    }


def own_question(row: dict) -> dict:
    """What the author sees of their own question: its status, even when hidden from others."""
    return {"id": row["id"], "status": row["status"]}


def is_visible(row: dict) -> bool:
    return row["status"] in VISIBLE_STATUSES
