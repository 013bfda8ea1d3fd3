"""What one question's change tells each audience: the room, the moderators and its author."""

from live.domain.changes import Change, News, to_author, to_moderators
from live.domain.views import (
    is_visible,
    moderator_participant,
    moderator_question,
    own_question,
    public_question,
    stage,
)
from live.store import InThread
from live.store import events as event_store
from live.store import participants as participant_store


async def question_news(conn: InThread, before: dict | None, after: dict) -> list[News]:
    """The room hears of a question while it is, or just stopped being, visible; the others always.

    A question leaving the visible set also leaves the big screen; a new one updates what
    moderators know of its author.
    """
    event_id = after["event_id"]
    news: list[News] = []
    if is_visible(after) or (before is not None and is_visible(before)):
        seq = await event_store.next_seq(conn, event_id)
        news.append(Change(event_id, seq, "question", {"question": public_question(after)}))
    if not is_visible(after):
        news += await set_focus(conn, event_id, after["id"], None)
    if before is None:
        news.append(await participant_news(conn, event_id, after["participant_id"]))
    news.append(to_moderators(event_id, "question", {"question": moderator_question(after)}))
    news.append(to_author(after["participant_id"], "mine", {"question": own_question(after)}))
    return news


async def set_focus(
    conn: InThread, event_id: int, only_if: int | None, focus: int | None
) -> list[News]:
    """Put a question on the big screen (or none); only_if limits it to replacing that question."""
    event = await event_store.get_event(conn, event_id)
    current = event["focus_question_id"]
    if current == focus or (only_if is not None and current != only_if):
        return []
    await event_store.update_event(conn, event_id, {"focus_question_id": focus})
    return await stage_news(conn, event_id)


async def stage_news(conn: InThread, event_id: int) -> list[News]:
    """The room and the moderators hear of a new mode or focus."""
    seq = await event_store.next_seq(conn, event_id)
    event = await event_store.get_event(conn, event_id)
    return [
        Change(event_id, seq, "stage", {"stage": stage(event)}),
        to_moderators(event_id, "stage", {"stage": stage(event)}),
    ]


async def participant_news(conn: InThread, event_id: int, participant_id: int) -> News:
    row = await participant_store.one_with_history(conn, participant_id)
    return to_moderators(event_id, "participant", {"participant": moderator_participant(row)})
