"""The evidence export, checked row by row against the database; streamed in bounded memory."""

import csv
import io
import json
import random
import sqlite3
import time
import tracemalloc

import aiohttp
import pytest

from moderators import moderator
from support import ORGANISER_TOKEN, StoreSQL, joined

NAME = "Priya Sharma"
ABUSIVE = "The ward manager is a useless idiot"
AUTH = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}


async def fetch(server, path: str, token: str | None = ORGANISER_TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + path, headers=headers) as res:
            return res.status, await res.text()


def expected_questions(db: StoreSQL, event_id: int) -> dict[int, dict]:
    """What the export must say of each question, computed from the rows by other means."""
    attendance = {r["id"]: r["attendance"] for r in db.execute("SELECT id, attendance FROM participants")}
    questions = [dict(r) for r in db.execute("SELECT * FROM questions WHERE event_id = ?", (event_id,))]
    merged = {q["id"]: [m["id"] for m in questions if m["merged_into"] == q["id"]] for q in questions}
    expected = {}
    for q in questions:
        voters = {
            r["participant_id"]
            for qid in [q["id"], *merged[q["id"]]]
            for r in db.execute("SELECT participant_id FROM votes WHERE question_id = ?", (qid,))
        } - {q["participant_id"]}
        expected[q["id"]] = {
            "status": q["status"],
            "votes": q["votes"],
            "votes_in_room": sum(attendance[v] == "in_room" for v in voters),
            "votes_remote": sum(attendance[v] == "remote" for v in voters),
            "disposition": q["disposition"],
            "response": q["response"],
            "attendance": q["attendance"],
        }
    return expected


async def test_export_matches_the_database_and_leaves_out_personal_data(server):
    created = await server.create_event("Development day 1", moderation="post")
    code = created["event"]["code"]
    asker = await joined(server, code, "in_room", name=NAME)
    voters = [await joined(server, code, attendance) for attendance in ("in_room", "remote", "remote")]
    mod = await moderator(server, created)
    first = await asker.ask("How will the board use what we say today?")
    second = await voters[0].ask("Will remote views count as much as the room's?")
    abusive = await voters[1].ask(ABUSIVE)
    for v in voters[1:]:
        await v.ok("upvote", {"question_id": first["id"]})
    await asker.ok("upvote", {"question_id": second["id"]})
    await mod.act("reject", await mod.question(abusive["id"]), reason="abusive")
    await mod.act(
        "dispose", await mod.question(first["id"]), disposition="answered_in_writing",
        response="The board will publish its reply in May.",
    )
    poll = (await server.api("POST", f"/api/events/{code}/polls", {"kind": "single", "question": "Useful?", "options": ["Yes", "No"]}))[1]["data"]
    await server.api("POST", f"/api/events/{code}/polls/{poll['id']}/open")
    for client, choice in ((asker, 0), (voters[1], 0), (voters[2], 1)):
        await client.ok("answer", {"poll_id": poll["id"], "value": choice})

    assert (await fetch(server, f"/api/events/{code}/export.json", token=None))[0] == 403
    status, raw = await fetch(server, f"/api/events/{code}/export.json")
    assert status == 200
    assert NAME not in raw and ABUSIVE not in raw and asker.token not in raw
    document = json.loads(raw)
    assert (document["format"], document["version"], document["names_included"]) == ("live-export", 1, False)
    (event,) = document["events"]
    db = StoreSQL(server.settings)
    event_id = db.execute("SELECT id FROM events WHERE code = ?", (code,))[0][0]
    expected = expected_questions(db, event_id)
    log_count = db.execute("SELECT count(*) FROM moderation_log WHERE event_id = ?", (event_id,))[0][0]
    assert [q["id"] for q in event["questions"]] == sorted(expected)
    for q in event["questions"]:
        assert {k: q[k] for k in expected[q["id"]]} == expected[q["id"]], q["id"]
        assert q["author_name"] is None
    assert next(q for q in event["questions"] if q["id"] == first["id"])["votes_remote"] == 2
    assert next(q for q in event["questions"] if q["id"] == abusive["id"])["text"] is None
    (exported_poll,) = event["polls"]
    assert exported_poll["results"]["in_room"]["counts"] == [1, 0]
    assert exported_poll["results"]["remote"]["counts"] == [1, 1]
    assert len(event["moderation_log"]) == log_count
    assert {e["action"] for e in event["moderation_log"]} >= {"reject", "dispose", "sign_in"}
    participation = event["participation"]
    assert sum(r["joined"] for r in participation) == 4
    assert sum(r["votes"] for r in participation if r["attendance"] == "remote") == 2
    assert sum(r["poll_answers"] for r in participation) == 3

    status, raw = await fetch(server, f"/api/events/{code}/export.csv?table=questions")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert NAME not in raw and [int(r["id"]) for r in rows] == sorted(expected)
    for r in rows:
        want = expected[int(r["id"])]
        assert (int(r["votes_in_room"]), int(r["votes_remote"]), r["disposition"]) == (
            want["votes_in_room"], want["votes_remote"], want["disposition"]
        )
    status, raw = await fetch(server, f"/api/events/{code}/export.csv?table=polls")
    assert [(r["item"], r["all"], r["in_room"], r["remote"]) for r in csv.DictReader(io.StringIO(raw))] == [
        ("Yes", "2", "1", "1"), ("No", "1", "0", "1")
    ]
    assert (await fetch(server, f"/api/events/{code}/export.csv?table=people"))[0] == 400

    status, raw = await fetch(server, f"/api/events/{code}/export.json?names=true")
    assert NAME in raw and json.loads(raw)["names_included"] is True
    for client in (asker, *voters, mod):
        await client.close()


def generate(db_path, code: str, questions: int, voters: int) -> int:
    """A large event written straight into the database, as many days of use would leave it."""
    rng = random.Random(7)
    now = time.time()
    with sqlite3.connect(db_path) as db:
        event_id = db.execute("SELECT id FROM events WHERE code = ?", (code,)).fetchone()[0]
        db.executemany(
            "INSERT INTO participants (event_id, token_hash, name, attendance, created_at) VALUES (?, ?, ?, ?, ?)",
            [(event_id, f"hash-{code}-{n}", f"Person {n}", rng.choice(["in_room", "remote"]), now + n) for n in range(voters)],
        )
        people = [r[0] for r in db.execute("SELECT id FROM participants WHERE event_id = ?", (event_id,))]
        padding = "How will the integrated care board fund community services next year? " * 10
        db.executemany(
            "INSERT INTO questions (event_id, participant_id, text, author_name, attendance, status, votes, created_at, seq) "
            "VALUES (?, ?, ?, ?, ?, 'published', 0, ?, 0)",
            [(event_id, rng.choice(people), f"{n}: {padding}", None, "remote", now + n) for n in range(questions)],
        )
        ids = [r[0] for r in db.execute("SELECT id FROM questions WHERE event_id = ?", (event_id,))]
        db.executemany(
            "INSERT OR IGNORE INTO votes (question_id, participant_id, created_at) VALUES (?, ?, ?)",
            [(rng.choice(ids), rng.choice(people), now) for _ in range(questions * 3)],
        )
        db.execute(
            "UPDATE questions SET votes = (SELECT count(*) FROM votes v WHERE v.question_id = questions.id "
            "AND v.participant_id != questions.participant_id) WHERE event_id = ?",
            (event_id,),
        )
    return event_id


@pytest.mark.sqlite_only
async def test_a_large_event_streams_in_bounded_memory(server):
    created = await server.create_event("Large assembly")
    code = created["event"]["code"]
    event_id = generate(server.settings.db, code, questions=12_000, voters=2_000)
    with sqlite3.connect(server.settings.db) as db:
        votes = dict(db.execute("SELECT id, votes FROM questions WHERE event_id = ?", (event_id,)).fetchall())

    tracemalloc.start()
    try:
        received = 0
        buffer = b""
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/api/events/{code}/export.csv?table=questions", headers=AUTH) as res:
                assert res.status == 200
                async for chunk in res.content.iter_chunked(64 * 1024):
                    received += len(chunk)
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for row in csv.reader(line.decode() for line in lines):
                        if row[0] != "event_code":
                            assert votes.pop(int(row[1])) == int(row[9]), row[1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert votes == {}
    assert received > 9_000_000
    # The server and this client together never held more than a small part of the export.
    assert peak < received / 3, (peak, received)

