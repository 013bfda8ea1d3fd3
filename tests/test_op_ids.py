"""An op_id names one command of one participant: a retry gets its ack, another command is refused."""

import asyncio
import json
import sqlite3
import time

import pytest

from live.domain import tokens
from live.store.dialect import SQLITE
from live.store.migrations import MIGRATIONS, script
from support import Client, joined, running_server
from test_polls import create_poll, set_poll

OLD_SCHEMA = 5  # the last migration before operations recorded their command


async def refused_reuse(client: Client, name: str, payload: dict, used_for: str) -> None:
    reply = await client.call(name, payload)
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == "invalid", reply
    assert f"'{used_for}'" in reply["error"]["message"], reply


async def test_an_upvote_reusing_an_asks_op_id_is_refused_and_does_not_vote(server, event):
    author = await joined(server, event["code"], name="Author")
    voter = await joined(server, event["code"])
    question = await author.ask("Who keeps the minutes?")
    await voter.ok("ask", {"text": "When is the next meeting?", "op_id": "op-1"})

    await refused_reuse(voter, "upvote", {"question_id": question["id"], "op_id": "op-1"}, "ask")
    snapshot = await voter.snapshot()
    assert snapshot["me"]["votes"] == []
    assert next(q for q in snapshot["questions"] if q["id"] == question["id"])["votes"] == 0

    voted = await voter.ok("upvote", {"question_id": question["id"], "op_id": "op-2"})
    assert (voted["voted"], voted["votes"]) == (True, 1)
    for client in (author, voter):
        await client.close()


async def test_unvote_and_upvote_are_different_commands(server, event):
    author = await joined(server, event["code"], name="Author")
    voter = await joined(server, event["code"])
    question = await author.ask("Who keeps the minutes?")
    ref = {"question_id": question["id"], "op_id": "vote-1"}
    first = await voter.ok("upvote", ref)

    await refused_reuse(voter, "unvote", ref, "upvote")
    assert await voter.ok("upvote", ref) == first
    assert (await voter.snapshot())["me"]["votes"] == [question["id"]]
    await refused_reuse(voter, "ask", {"text": "Something else entirely", "op_id": "vote-1"}, "upvote")
    for client in (author, voter):
        await client.close()


async def test_a_poll_answer_reusing_a_votes_op_id_is_refused(server, event):
    author = await joined(server, event["code"], name="Author")
    voter = await joined(server, event["code"])
    question = await author.ask("Who keeps the minutes?")
    poll = await create_poll(server, event["code"], {"kind": "single", "question": "Useful?", "options": ["Yes", "No"]})
    await set_poll(server, event["code"], poll["id"], "open")
    await voter.ok("upvote", {"question_id": question["id"], "op_id": "x"})

    await refused_reuse(voter, "answer", {"poll_id": poll["id"], "value": 0, "op_id": "x"}, "upvote")
    answered = await voter.ok("answer", {"poll_id": poll["id"], "value": 0, "op_id": "y"})
    assert answered["value"] == 0
    await refused_reuse(voter, "upvote", {"question_id": question["id"], "op_id": "y"}, "answer")
    # op_ids are per participant: another participant's op_id "x" is theirs alone.
    await author.ok("answer", {"poll_id": poll["id"], "value": 1, "op_id": "x"})
    for client in (author, voter):
        await client.close()


def _database_before_commands(path, token: str) -> dict:
    """A database as the last schema without commands left it, with one ack of each command."""
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:OLD_SCHEMA]:
        db.executescript(script(migration, SQLITE))
    db.execute(f"PRAGMA user_version = {OLD_SCHEMA}")
    now = time.time()
    db.execute(
        "INSERT INTO events (id, code, title, moderator_secret_hash, screen_token_hash, created_at, seq) "
        "VALUES (1, 'OLDDB', 'Before the upgrade', 'x', 'x', ?, 3)",
        (now,),
    )
    db.execute(
        "INSERT INTO participants (id, event_id, token_hash, attendance, created_at) VALUES "
        "(1, 1, ?, 'in_room', ?), (2, 1, 'other', 'remote', ?)",
        (tokens.digest(token), now, now),
    )
    db.execute(
        "INSERT INTO questions (id, event_id, participant_id, text, attendance, status, votes, created_at, seq) "
        "VALUES (1, 1, 2, 'Asked by the other one', 'remote', 'published', 1, ?, 1), "
        "(2, 1, 1, 'Asked before the upgrade', 'in_room', 'published', 0, ?, 2)",
        (now, now),
    )
    db.execute("INSERT INTO votes (question_id, participant_id, created_at) VALUES (1, 1, ?)", (now,))
    acks = {
        "old-ask": {"question": {"id": 2, "text": "Asked before the upgrade"}, "mine": {"id": 2}},
        "old-upvote": {"question_id": 1, "voted": True, "votes": 1},
        "old-answer": {"poll_id": 7, "value": 0, "counted": True},
    }
    db.executemany(
        "INSERT INTO operations (participant_id, op_id, result, created_at) VALUES (1, ?, ?, ?)",
        [(op_id, json.dumps(result), now) for op_id, result in acks.items()],
    )
    db.commit()
    db.close()
    return acks


@pytest.mark.sqlite_only
async def test_acks_stored_before_the_upgrade_keep_the_command_they_answered(settings):
    token = tokens.new_token()
    acks = _database_before_commands(settings.db, token)
    async with running_server(settings) as server:
        client = await Client(server, "OLDDB", token).connect()
        assert await client.ok("ask", {"text": "Asked before the upgrade", "op_id": "old-ask"}) == acks["old-ask"]
        assert await client.ok("upvote", {"question_id": 1, "op_id": "old-upvote"}) == acks["old-upvote"]
        await refused_reuse(client, "upvote", {"question_id": 1, "op_id": "old-ask"}, "ask")
        await refused_reuse(client, "unvote", {"question_id": 1, "op_id": "old-upvote"}, "upvote")
        await refused_reuse(client, "ask", {"text": "Anything", "op_id": "old-answer"}, "answer")
        assert (await client.snapshot())["me"]["votes"] == [1]
        await client.close()


async def test_votes_arriving_together_each_get_their_own_ack(server, event):
    """A storm's votes share a batch (on PostgreSQL, one statement): a refusal, a retry and a
    reused op_id among them each get their own answer, and the count is the rows'."""
    author = await joined(server, event["code"], name="Author")
    voters = [await joined(server, event["code"]) for _ in range(12)]
    twin = await joined(server, event["code"])
    question = await author.ask("Who keeps the minutes?")
    ref = {"question_id": question["id"]}
    await voters[0].ok("ask", {"text": "When is the next meeting?", "op_id": "asked"})
    first = await voters[1].ok("upvote", {**ref, "op_id": "early"})

    replies = await asyncio.gather(
        *(v.call("upvote", {**ref, "op_id": f"v{i}"}) for i, v in enumerate(voters[2:], 2)),
        author.call("upvote", {**ref, "op_id": "own"}),
        voters[1].call("upvote", {**ref, "op_id": "early"}),
        voters[0].call("upvote", {**ref, "op_id": "asked"}),
        twin.call("upvote", {**ref, "op_id": "twice"}),
        twin.call("upvote", {**ref, "op_id": "twice"}),
    )
    *storm, own, retry, reused, once, again = replies
    assert all(r["ok"] for r in storm), storm
    assert all(2 <= r["data"]["votes"] <= 12 and r["data"]["voted"] for r in storm), storm
    assert own["ok"] is False and own["error"]["code"] == "forbidden", own
    assert retry == {"ok": True, "data": first}
    assert reused["ok"] is False and reused["error"]["code"] == "invalid", reused
    assert once["ok"] and again == once, (once, again)
    snapshot = await author.snapshot()
    assert next(q for q in snapshot["questions"] if q["id"] == question["id"])["votes"] == 12
    for client in (author, *voters, twin):
        await client.close()


async def test_one_persons_votes_on_one_question_together_each_apply_in_turn(server, event):
    """Two tabs of one device toggling one vote at once: each command applies on the state the
    one before left (on PostgreSQL such a batch runs unit by unit), and the count is the rows'."""
    author = await joined(server, event["code"], name="Author")
    tab = await joined(server, event["code"])
    tabs = [tab, *[await Client(server, event["code"], token=tab.token).connect() for _ in range(3)]]
    others = [await joined(server, event["code"]) for _ in range(4)]
    question = await author.ask("Who keeps the minutes?")
    ref = {"question_id": question["id"]}

    replies = await asyncio.gather(
        *(t.call("upvote" if i % 2 == 0 else "unvote", ref) for i, t in enumerate(tabs)),
        *(o.call("upvote", ref) for o in others),
    )
    assert all(r["ok"] for r in replies), replies
    snapshot = await author.snapshot()
    (counted,) = [q["votes"] for q in snapshot["questions"] if q["id"] == question["id"]]
    mine = (await tab.snapshot())["me"]["votes"]
    assert counted == len(others) + (1 if mine == [question["id"]] else 0), (counted, mine)
    for client in (author, *tabs, *others):
        await client.close()
