"""Dispositions: who may set them, which moves are allowed, and who hears of them."""

from moderators import moderator
from support import joined


async def _setup(server, **fields):
    created = await server.create_event("Development day 1", **fields)
    code = created["event"]["code"]
    author = await joined(server, code, "remote", name="Sam")
    voter = await joined(server, code, "in_room")
    mod = await moderator(server, created)
    return created, code, author, voter, mod


async def test_dispositions_move_by_the_rules_and_reach_the_author_and_the_record(server):
    created, code, author, voter, mod = await _setup(server)
    asked = await author.ask("When will the new community diagnostic centre open?")
    await voter.ok("upvote", {"question_id": asked["id"]})
    q = await mod.question(asked["id"])
    base = f"/api/events/{code}/questions/{q['id']}/disposition"

    # A referral needs the body; a detail that belongs to another disposition is refused.
    status, body = await server.api("POST", base, {"disposition": "referred"})
    assert status == 400 and body["error"]["code"] == "invalid"
    status, body = await server.api("POST", base, {"disposition": "declined", "stream_time": 5})
    assert status == 400
    status, body = await server.api(
        "POST", base, {"disposition": "referred", "referred_to": "ICB finance committee", "due_date": "2025-09-30"}
    )
    assert status == 200, body
    q = body["data"]["question"]
    assert (q["disposition"], q["referred_to"], q["due_date"], q["status"]) == (
        "referred", "ICB finance committee", "2025-09-30", "published"
    )

    # A moderator acts on the version they saw; a stale one conflicts.
    stale = await mod.call("dispose", {"question_id": q["id"], "version": 1, "disposition": "open"})
    assert stale["error"]["code"] == "conflict"
    response = "The centre opens in March.\n\nBooking starts in February."
    q = await mod.act("dispose", q, disposition="answered_in_writing", response=response)
    assert (q["disposition"], q["response"], q["status"]) == ("answered_in_writing", response, "answered")
    mine = await author.wait_for(
        lambda m: m["question"]["disposition"] == "answered_in_writing", among="mine"
    )
    assert mine["question"]["response"] == response

    # A published written answer can be revised, never taken back.
    refused = await mod.call("dispose", {"question_id": q["id"], "version": q["version"], "disposition": "open"})
    assert refused["error"]["code"] == "invalid"
    q = await mod.act("dispose", q, disposition="answered_in_writing", response="Opens in April.")
    assert q["response"] == "Opens in April."

    # The author's device sees it in its snapshot; the log keeps who did what.
    snap = await author.snapshot()
    own = next(m for m in snap["me"]["questions"] if m["id"] == q["id"])
    assert (own["disposition"], own["response"]) == ("answered_in_writing", "Opens in April.")
    log = (await mod.ok("snapshot"))["log"]
    assert [e["reason"] for e in log if e["action"] == "dispose"] == [
        "answered_in_writing", "answered_in_writing", "referred"
    ]
    assert [e["moderator"] for e in log if e["action"] == "dispose"] == ["Mod", "Mod", "organiser"]

    # The record lists it, also after the event closes, with the voter's attendance split.
    await server.api("POST", f"/api/events/{code}/close")
    status, body = await server.api("GET", f"/api/events/{code}/record/questions", token=None)
    assert status == 200
    (listed,) = body["data"]["questions"]
    assert (listed["disposition"], listed["response"], listed["votes"], listed["attendance"]) == (
        "answered_in_writing", "Opens in April.", 1, "remote"
    )
    assert "participant_id" not in listed
    for client in (author, voter, mod):
        await client.close()


async def test_only_organisers_and_live_moderators_set_dispositions(server):
    created, code, author, voter, mod = await _setup(server, moderation="pre")
    asked = await author.ask("Why are GP appointments so hard to get?")
    pending = await mod.question(asked["id"])
    path = f"/api/events/{code}/questions/{asked['id']}/disposition"

    status, body = await server.api("POST", path, {"disposition": "answered_live"}, token=None)
    assert status == 403
    status, body = await server.api("POST", path, {"disposition": "answered_live"}, token="wrong")
    assert status == 403
    # A question never published has no disposition.
    refused = await mod.call("dispose", {"question_id": pending["id"], "version": pending["version"], "disposition": "declined", "response": "No."})
    assert refused["error"]["code"] == "invalid"
    q = await mod.act("approve", pending)
    # Marking it answered in the console records a live answer; undoing it reopens it.
    q = await mod.act("answer", q)
    assert (q["status"], q["disposition"]) == ("answered", "answered_live")
    q = await mod.act("approve", q)
    assert (q["status"], q["disposition"]) == ("published", "open")
    q = await mod.act("dispose", q, disposition="answered_live", stream_time=3725)
    assert (q["status"], q["stream_time"]) == ("answered", 3725)
    # A participant cannot dispose; a revoked moderator cannot either.
    assert (await author.call("dispose", {"question_id": q["id"], "disposition": "open"}))["ok"] is False
    sessions = (await server.api("GET", f"/api/events/{code}/moderator-sessions"))[1]["data"]
    await server.api("DELETE", f"/api/events/{code}/moderator-sessions/{sessions[0]['id']}")
    revoked = await mod.call("dispose", {"question_id": q["id"], "version": q["version"], "disposition": "open"})
    assert revoked["ok"] is False
    for client in (author, voter, mod):
        await client.close()
