"""Queries on polls and their responses; tallies are always computed from the response rows."""

import json
import sqlite3
import time

from live.store.db import InThread


POLL_COLUMNS = (
    "id, event_id, kind, question, options, settings, audience, visibility, state, "
    "created_at, opened_at, closed_at"
)


def _poll(row: sqlite3.Row) -> dict:
    poll = dict(row)
    poll["options"] = json.loads(poll["options"])
    poll["settings"] = json.loads(poll["settings"])
    return poll


async def insert_poll(
    conn: InThread,
    *,
    event_id: int,
    kind: str,
    question: str,
    options: list[str],
    settings: dict,
    audience: str,
    visibility: str,
) -> dict:
    async with conn.execute(
        "INSERT INTO polls (event_id, kind, question, options, settings, audience, visibility, "
        f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {POLL_COLUMNS}",
        (
            event_id,
            kind,
            question,
            json.dumps(options),
            json.dumps(settings),
            audience,
            visibility,
            time.time(),
        ),
    ) as cur:
        return _poll(await cur.fetchone())


async def get_poll(conn: InThread, poll_id: int) -> dict | None:
    async with conn.execute(f"SELECT {POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None else _poll(row)


async def polls_of_event(
    conn: InThread, event_id: int, include_drafts: bool
) -> list[dict]:
    where = "" if include_drafts else " AND state != 'draft'"
    async with conn.execute(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE event_id = ?{where} ORDER BY id", (event_id,)
    ) as cur:
        return [_poll(row) for row in await cur.fetchall()]


async def set_state(conn: InThread, poll_id: int, state: str) -> None:
    stamp = "opened_at" if state == "open" else "closed_at"
    await conn.execute(
        f"UPDATE polls SET state = ?, {stamp} = ? WHERE id = ?", (state, time.time(), poll_id)
    )


async def put_response(
    conn: InThread,
    *,
    poll_id: int,
    participant_id: int,
    attendance: str,
    answer: object,
    counted: bool,
    reasons: list[str],
) -> None:
    """Insert or replace the participant's one response to the poll."""
    now = time.time()
    await conn.execute(
        "INSERT INTO poll_responses (poll_id, participant_id, attendance, answer, counted, "
        "reasons, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (poll_id, participant_id) DO UPDATE SET attendance = excluded.attendance, "
        "answer = excluded.answer, counted = excluded.counted, reasons = excluded.reasons, "
        "updated_at = excluded.updated_at",
        (poll_id, participant_id, attendance, json.dumps(answer), int(counted), json.dumps(reasons), now, now),
    )


async def counted_responses(conn: InThread, poll_id: int) -> list[tuple[str, object]]:
    """(attendance, answer) of every response that counts, oldest change first."""
    async with conn.execute(
        "SELECT attendance, answer FROM poll_responses WHERE poll_id = ? AND counted = 1 "
        "ORDER BY updated_at",
        (poll_id,),
    ) as cur:
        return [(row[0], json.loads(row[1])) for row in await cur.fetchall()]


async def answers_of(
    conn: InThread, participant_id: int, event_id: int
) -> dict[int, dict]:
    async with conn.execute(
        "SELECT r.poll_id, r.answer, r.counted FROM poll_responses r "
        "JOIN polls p ON p.id = r.poll_id WHERE r.participant_id = ? AND p.event_id = ?",
        (participant_id, event_id),
    ) as cur:
        return {
            row[0]: {"value": json.loads(row[1]), "counted": bool(row[2])}
            for row in await cur.fetchall()
        }
