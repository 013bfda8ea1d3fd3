"""Moderators over real sockets: sign-in, every action and its news, conflicts, merges, refusals."""

import asyncio
import hashlib
import sqlite3
import time

import asyncpg
import pytest
import socketio

from live.domain import tokens
from moderators import moderator, sign_in
from support import Client, Replica, StoreSQL, joined
from test_sync_property import NODE, run_sync_js


@pytest.fixture
async def created(server) -> dict:
    return await server.create_event("Assembly")


@pytest.fixture
async def pre(server) -> dict:
    return await server.create_event("Reviewed", moderation="pre")


async def test_sign_in_sets_a_strict_httponly_cookie(server, created):
    code = created["event"]["code"]
    res = await sign_in(server, code, created["moderator_secret"], "Robin")
    assert res.status == 303 and res.headers["Location"] == f"/e/{code}/moderate"
    cookie = res.headers["Set-Cookie"]
    assert cookie.startswith(f"live_mod_{code}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    wrong = await sign_in(server, code, "not-the-secret", "Robin")
    assert wrong.status == 303 and wrong.headers["Location"].endswith("?failed=forbidden")
    assert "Set-Cookie" not in wrong.headers
    nameless = await sign_in(server, code, created["moderator_secret"], "  ")
    assert nameless.headers["Location"].endswith("?failed=invalid")


async def test_the_secret_is_hashed_with_scrypt_and_legacy_digests_are_upgraded(server, created, settings):
    code = created["event"]["code"]
    db = StoreSQL(settings)
    (stored,) = db.execute("SELECT moderator_secret_hash FROM events")[0]
    assert stored.startswith("scrypt$")
    legacy = hashlib.sha256(created["moderator_secret"].encode()).hexdigest()
    db.execute("UPDATE events SET moderator_secret_hash = ?", (legacy,))
    assert (await sign_in(server, code, created["moderator_secret"])).status == 303
    (upgraded,) = db.execute("SELECT moderator_secret_hash FROM events")[0]
    assert upgraded.startswith(f"scrypt${tokens.SCRYPT_N}$")
    assert tokens.slow_matches(created["moderator_secret"], upgraded)


async def test_pre_moderation_flow(server, pre):
    code = pre["event"]["code"]
    mod = await moderator(server, pre, "Robin")
    author = await joined(server, code, "remote", "Ana")
    watcher = await Client(server, code).connect()

    asked = await author.ok("ask", {"text": "Will GP appointments be bookable online?"})
    held = (await mod.wait_for("question", lambda m: m["question"]["id"] == asked["question"]["id"]))["question"]
    assert held["status"] == "pending" and held["flags"] == ["pre_moderation"]
    assert held["participant_id"] == author.me["id"]
    assert (await watcher.snapshot())["questions"] == []

    approved = await mod.act("approve", held)
    assert approved["status"] == "published" and approved["version"] == held["version"] + 1
    shown = await watcher.wait_for(lambda m: m["type"] == "question")
    assert shown["question"]["id"] == held["id"] and shown["question"]["status"] == "published"
    mine = await author.wait_for(lambda m: m["question"]["status"] == "published", among="mine")
    assert mine["question"]["id"] == held["id"]

    second = await author.ok("ask", {"text": "Ana lives at 10 Downing Street, ask her"})
    queued = await mod.question(second["question"]["id"])
    rejected = await mod.act("reject", queued, reason="personal_data")
    assert rejected["status"] == "rejected" and rejected["reason"] == "personal_data"
    told = await author.wait_for(lambda m: m["question"]["status"] == "rejected", among="mine")
    assert told["question"]["reason"] == "personal_data"
    me = (await author.snapshot())["me"]["questions"]
    assert [(q["status"], q["reason"]) for q in me] == [("published", None), ("rejected", "personal_data")]
    assert [q["id"] for q in (await watcher.snapshot())["questions"]] == [held["id"]]
    assert all(m["question"]["id"] != second["question"]["id"] for m in watcher.updates if m["type"] == "question")

    log = (await mod.ok("snapshot"))["log"]
    assert [(e["action"], e["moderator"]) for e in log[:2]] == [("reject", "Robin"), ("approve", "Robin")]
    for client in (mod, author, watcher):
        await client.close()


async def test_post_moderation_flow_with_a_filter_hold(server, created):
    code = created["event"]["code"]
    mod = await moderator(server, created)
    author = await joined(server, code)
    watcher = await Client(server, code).connect()
    published = await author.ask("Is the pharmacy open on Sundays?")
    held = await author.ok("ask", {"text": "Read all about it at https://example.org/leak"})
    assert held["mine"]["status"] == "pending"
    queued = await mod.question(held["question"]["id"])
    assert queued["flags"] == ["link"]
    await mod.act("approve", queued)
    await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["id"] == queued["id"])
    visible = await mod.question(published["id"])
    await mod.act("reject", visible, reason="off_topic", note="Not about the NHS")
    gone = await watcher.wait_for(
        lambda m: m["type"] == "question" and m["question"]["status"] == "rejected"
    )
    assert gone["question"]["id"] == published["id"]
    assert [q["id"] for q in (await watcher.snapshot())["questions"]] == [queued["id"]]
    for client in (mod, author, watcher):
        await client.close()


async def test_every_action_reaches_moderators_and_the_room(server, created):
    code = created["event"]["code"]
    mod = await moderator(server, created, "Robin")
    other = await moderator(server, created, "Sam")
    author = await joined(server, code, "in_room", "Kim")
    watcher = await Client(server, code).connect()
    q = await mod.question((await author.ask("How long are waits in A and E?"))["id"])

    edited = await mod.act("edit", q, text="How long are waits in A&E?")
    assert edited["text"] == "How long are waits in A&E?" and edited["original_text"] == q["text"]
    await other.wait_for("question", lambda m: m["question"]["version"] == edited["version"])
    await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["text"] == edited["text"])

    labelled = await mod.act("label", edited, topic="Urgent care")
    await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["topic"] == "Urgent care")

    focused = await mod.ok("focus", {"question_id": q["id"], "version": labelled["version"]})
    assert focused["stage"]["focus"] == q["id"]
    await watcher.wait_for(lambda m: m["type"] == "stage" and m["stage"]["focus"] == q["id"])
    await other.wait_for("stage", lambda m: m["stage"]["focus"] == q["id"])

    answered = await mod.act("answer", labelled)
    assert answered["status"] == "answered"
    msg = await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["status"] == "answered")
    assert (await watcher.snapshot())["questions"][0]["status"] == "answered"
    assert msg["question"]["id"] == q["id"]

    archived = await mod.act("archive", answered)
    assert archived["status"] == "archived"
    await watcher.wait_for(lambda m: m["type"] == "stage" and m["stage"]["focus"] is None)
    assert (await watcher.snapshot())["questions"] == []

    muted = await mod.ok("mute", {"participant_id": author.me["id"]})
    assert muted["participant"]["muted"] is True
    await other.wait_for("participant", lambda m: m["participant"]["muted"])
    held = await author.ok("ask", {"text": "Why was my question archived?"})
    assert held["mine"]["status"] == "pending"
    assert (await mod.question(held["question"]["id"]))["flags"] == ["muted"]
    await mod.ok("unmute", {"participant_id": author.me["id"]})
    assert (await author.ok("ask", {"text": "Thank you for the session"}))["mine"]["status"] == "published"

    assert (await mod.ok("mode", {"mode": "pre"}))["stage"]["mode"] == "pre"
    await watcher.wait_for(lambda m: m["type"] == "stage" and m["stage"]["mode"] == "pre")
    assert (await author.ok("ask", {"text": "Is anyone reading these?"}))["mine"]["status"] == "pending"

    snapshot = await other.ok("snapshot")
    actions = [e["action"] for e in reversed(snapshot["log"])]
    assert actions[-9:] == ["edit", "label", "focus", "answer", "archive", "mute", "hold", "unmute", "mode"]
    edit = next(e for e in snapshot["log"] if e["action"] == "edit")
    assert (edit["before_text"], edit["after_text"], edit["moderator"]) == (q["text"], edited["text"], "Robin")
    kim = next(p for p in snapshot["participants"] if p["id"] == author.me["id"])
    assert kim == {"id": author.me["id"], "name": "Kim", "attendance": "in_room", "muted": False, "asked": 4}
    for client in (mod, other, author, watcher):
        await client.close()


async def test_two_moderators_at_once_one_wins_the_other_gets_a_conflict(server, pre):
    code = pre["event"]["code"]
    first = await moderator(server, pre, "A")
    second = await moderator(server, pre, "B")
    author = await joined(server, code)
    asked = await author.ok("ask", {"text": "Who sets the priorities for next year?"})
    seen = await first.question(asked["question"]["id"])
    replies = await asyncio.gather(
        first.call("approve", {"question_id": seen["id"], "version": seen["version"]}),
        second.call("reject", {"question_id": seen["id"], "version": seen["version"], "reason": "spam"}),
    )
    assert sorted(r["ok"] for r in replies) == [False, True]
    winner = next(r for r in replies if r["ok"])["data"]["question"]
    loser = next(r for r in replies if not r["ok"])["error"]
    assert loser["code"] == "conflict"
    assert loser["details"]["question"] == winner
    for client in (first, second, author):
        await client.close()


async def test_merge_unites_voters_once_credits_both_authors_and_can_be_undone(server, created):
    code = created["event"]["code"]
    mod = await moderator(server, created)
    first_author = await joined(server, code, "in_room", "Ann")
    second_author = await joined(server, code, "remote", "Bo")
    both, only_dup, only_target = [await joined(server, code) for _ in range(3)]
    watcher = await Client(server, code).connect()
    target = await first_author.ask("What happens to the walk-in centre?")
    dup = await second_author.ask("Is the walk-in centre going to close?", allow_duplicate=True)
    for voter, ids in ((both, [target["id"], dup["id"]]), (only_dup, [dup["id"]]), (only_target, [target["id"]])):
        for qid in ids:
            await voter.ok("upvote", {"question_id": qid})
    await first_author.ok("upvote", {"question_id": dup["id"]})

    merged = await mod.act("merge", await mod.question(dup["id"]), into=target["id"])
    assert merged["status"] == "merged" and merged["merged_into"] == target["id"]
    united = await mod.question(target["id"])
    assert united["votes"] == 3
    assert united["also_asked_by"] == [{"author_name": "Bo", "attendance": "remote"}]
    msg = await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["also_asked_by"])
    assert (msg["question"]["id"], msg["question"]["votes"]) == (target["id"], 3)
    assert [q["id"] for q in (await watcher.snapshot())["questions"]] == [target["id"]]
    assert (await both.snapshot())["me"]["votes"] == [target["id"]]
    told = await second_author.wait_for(lambda m: m["question"]["status"] == "merged", among="mine")
    assert told["question"]["merged_into"] == target["id"]

    again = await only_dup.ok("upvote", {"question_id": target["id"]})
    assert again["votes"] == 3

    restored = await mod.act("unmerge", merged)
    assert restored["status"] == "published" and restored["votes"] == 3
    assert (await mod.question(target["id"]))["votes"] == 3
    counts = {q["id"]: q["votes"] for q in (await watcher.snapshot())["questions"]}
    assert counts == {target["id"]: 3, dup["id"]: 3}
    for client in (mod, first_author, second_author, both, only_dup, only_target, watcher):
        await client.close()


MODERATOR_EVENTS = {
    "snapshot": {},
    "approve": {"question_id": 1, "version": 1},
    "reject": {"question_id": 1, "version": 1, "reason": "spam"},
    "answer": {"question_id": 1, "version": 1},
    "archive": {"question_id": 1, "version": 1},
    "edit": {"question_id": 1, "version": 1, "text": "changed"},
    "merge": {"question_id": 1, "version": 1, "into": 2},
    "unmerge": {"question_id": 1, "version": 1},
    "label": {"question_id": 1, "version": 1, "topic": "x"},
    "focus": {"question_id": 1, "version": 1},
    "mute": {"participant_id": 1},
    "unmute": {"participant_id": 1},
    "mode": {"mode": "post"},
}


async def refused_connect(server, code: str, cookie: str | None) -> dict:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list = []
    sio.on("connect_error", errors.append, namespace="/moderate")
    headers = {"Cookie": cookie} if cookie else {}
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, headers=headers, auth={"event": code}, namespaces=["/moderate"],
                          transports=["websocket"], wait_timeout=5)
    await sio.disconnect()
    return errors[0]["data"]


async def test_nobody_else_can_moderate(server, pre):
    code = pre["event"]["code"]
    author = await joined(server, code)
    asked = await author.ok("ask", {"text": "Can I approve my own question?"})
    assert (await refused_connect(server, code, None))["code"] == "forbidden"
    assert (await refused_connect(server, code, f"live_mod_{code}=guess"))["code"] == "forbidden"
    assert (await refused_connect(server, code, f"live_mod_{code}={author.token}"))["code"] == "forbidden"
    other = await server.create_event("Elsewhere")
    other_mod = await moderator(server, other)
    await other_mod.close()
    assert (await refused_connect(server, code, other_mod.cookie.replace(other["event"]["code"], code)))["code"] == "forbidden"

    for name, payload in MODERATOR_EVENTS.items():
        try:
            reply = await author.sio.call(name, payload, timeout=1)
        except socketio.exceptions.TimeoutError:
            continue  # a server that ignores unknown events has refused it too
        if name == "snapshot":
            assert reply["ok"] and reply["data"]["questions"] == []
            continue
        assert reply["ok"] is False, (name, reply)
    assert (await author.snapshot())["me"]["questions"][0]["status"] == "pending"
    assert (await author.snapshot())["stage"]["mode"] == "pre"
    assert asked["mine"]["status"] == "pending"
    await author.close()


async def test_a_revoked_session_is_closed_within_two_seconds(server, created):
    code = created["event"]["code"]
    mod = await moderator(server, created, "Leaving")
    stays = await moderator(server, created, "Staying")
    status, body = await server.api("GET", f"/api/events/{code}/moderator-sessions")
    assert status == 200
    session = next(s for s in body["data"] if s["pseudonym"] == "Leaving")
    status, body = await server.api("DELETE", f"/api/events/{code}/moderator-sessions/{session['id']}", token=None)
    assert status == 403
    started = time.monotonic()
    status, body = await server.api("DELETE", f"/api/events/{code}/moderator-sessions/{session['id']}")
    assert status == 200 and body["data"]["revoked_at"] is not None
    reply = await mod.call("mode", {"mode": "pre"})
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden"
    await asyncio.wait_for(mod.disconnected.wait(), 2)
    assert time.monotonic() - started < 2
    assert (await refused_connect(server, code, mod.cookie))["code"] == "forbidden"
    assert (await stays.ok("snapshot"))["stage"]["mode"] == "post"
    await stays.close()


async def test_the_log_cannot_be_changed(server, created, settings):
    mod = await moderator(server, created)
    await mod.ok("mode", {"mode": "pre"})
    await mod.close()
    db = StoreSQL(settings)
    for statement in ("UPDATE moderation_log SET moderator = 'x'", "DELETE FROM moderation_log"):
        with pytest.raises((sqlite3.IntegrityError, asyncpg.RaiseError), match="append-only"):
            db.execute(statement)
    assert db.execute("SELECT count(*) FROM moderation_log")[0][0] == 2


async def test_moderation_broadcasts_applied_to_a_stale_state_give_the_fresh_snapshot(server, pre):
    code = pre["event"]["code"]
    mod = await moderator(server, pre)
    authors = [await joined(server, code) for _ in range(2)]
    voter = await joined(server, code)
    watcher = await Client(server, code).connect()
    stale = await watcher.snapshot()
    texts = ["Where will the new clinic be built?", "Will parking at the hospital stay free?",
             "Can carers get priority appointments?", "Who checks that the promises are kept?"]
    ids = [(await authors[n % 2].ok("ask", {"text": t, "allow_duplicate": True}))["question"]["id"] for n, t in enumerate(texts)]
    for qid in ids:
        await mod.act("approve", await mod.question(qid))
    await voter.ok("upvote", {"question_id": ids[1]})
    await mod.act("merge", await mod.question(ids[1]), into=ids[0])
    await mod.act("answer", await mod.question(ids[0]))
    third = await mod.question(ids[2])
    await mod.ok("focus", {"question_id": third["id"], "version": third["version"]})
    await mod.act("reject", third, reason="off_topic")
    await mod.ok("mode", {"mode": "post"})
    await mod.act("unmerge", await mod.question(ids[1]))
    fresh = await watcher.snapshot()
    await watcher.wait_for(lambda m: m["seq"] == fresh["seq"])

    replica = Replica()
    replica.load(stale)
    for msg in watcher.updates:
        assert replica.apply(msg) == "applied"
    assert replica.view() == {
        "event": fresh["event"],
        "stage": fresh["stage"],
        "questions": {q["id"]: q for q in fresh["questions"]},
        "polls": {p["id"]: p for p in fresh["polls"]},
    }
    if NODE is not None:
        page = run_sync_js(stale, watcher.updates)
        assert page["questions"] == fresh["questions"] and page["seq"] == fresh["seq"]
    for client in (mod, *authors, voter, watcher):
        await client.close()
