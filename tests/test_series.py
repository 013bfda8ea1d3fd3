"""Series, carrying unanswered questions into the next event, and the balance of voices."""

from moderators import moderator
from support import joined


async def test_unanswered_questions_carry_over_once_with_their_history(server):
    day1 = await server.create_event("Development day 1")
    day2 = await server.create_event("Development day 2")
    code1, code2 = day1["event"]["code"], day2["event"]["code"]
    author = await joined(server, code1, "remote", name="Sam")
    voters = [await joined(server, code1, a) for a in ("in_room", "remote")]
    mod = await moderator(server, day1)
    open_q = await author.ask("Will there be a second vote on the hospital site?")
    done = await author.ask("Where are the minutes published?")
    for v in voters:
        await v.ok("upvote", {"question_id": open_q["id"]})
    await mod.act("dispose", await mod.question(done["id"]), disposition="answered_live")

    status, body = await server.api("POST", f"/api/events/{code2}/carry", {"from_event": code1})
    assert status == 400  # not in one series yet
    for code in (code1, code2):
        status, body = await server.api("PUT", f"/api/events/{code}/series", {"series": "Dev-Days-2025"})
        assert status == 200 and body["data"]["series"] == "dev-days-2025"
    status, body = await server.api("POST", f"/api/events/{code2}/carry", {"from_event": code1})
    assert status == 201 and len(body["data"]["carried"]) == 1
    status, again = await server.api("POST", f"/api/events/{code2}/carry", {"from_event": code1})
    assert again["data"]["carried"] == []

    # Day 2: the copy keeps its author's credit and day-1 votes, and counts only new votes.
    day2_voter = await joined(server, code2, "in_room")
    (copy,) = (await day2_voter.snapshot())["questions"]
    assert (copy["text"], copy["author_name"], copy["votes"]) == (open_q["text"], "Sam", 0)
    await day2_voter.ok("upvote", {"question_id": copy["id"]})
    record = (await server.api("GET", f"/api/events/{code2}/record/questions", token=None))[1]["data"]
    (listed,) = record["questions"]
    assert (listed["carried_from"], listed["carried_votes"], listed["votes"]) == (open_q["id"], 2, 1)
    day1_record = (await server.api("GET", f"/api/events/{code1}/record/questions", token=None))[1]["data"]
    assert next(q for q in day1_record["questions"] if q["id"] == open_q["id"])["carried_to"] == code2
    # The author's day-1 device follows the carried question too.
    mine = (await author.snapshot())["me"]["questions"]
    assert [q["id"] for q in mine] == [open_q["id"], done["id"], copy["id"]]

    # The series export counts every vote once: 2 on day 1, 1 on day 2.
    status, raw = await server.api("GET", "/api/series/dev-days-2025/export.json")
    assert status == 200
    events = raw["events"]
    assert [e["code"] for e in events] == [code1, code2]
    assert sum(q["votes"] for e in events for q in e["questions"]) == 3
    for client in (author, *voters, mod, day2_voter):
        await client.close()


async def test_the_balance_of_voices_counts_room_and_stream(server):
    created = await server.create_event("Assembly")
    code = created["event"]["code"]
    room = await joined(server, code, "in_room")
    online = [await joined(server, code, "remote") for _ in range(2)]
    mod = await moderator(server, created)
    asked = await online[0].ask("How is the stream audience heard?")
    await room.ask("Can the room see the slides afterwards?")
    await room.ok("upvote", {"question_id": asked["id"]})
    await online[1].ok("upvote", {"question_id": asked["id"]})
    q = await mod.question(asked["id"])
    await mod.ok("focus", {"question_id": q["id"], "version": q["version"]})
    await mod.act("answer", await mod.question(asked["id"]))
    balance = await mod.ok("balance")
    assert balance == (await mod.ok("snapshot"))["balance"]
    assert balance["remote"] == {"questions": 1, "published": 1, "on_screen": 1, "answered": 1, "votes": 1, "poll_answers": 0}
    assert balance["in_room"] == {"questions": 1, "published": 1, "on_screen": 0, "answered": 0, "votes": 1, "poll_answers": 0}
    status, body = await server.api("GET", f"/api/events/{code}/balance")
    assert status == 200 and body["data"] == balance
    assert (await server.api("GET", f"/api/events/{code}/balance", token=None))[0] == 403
    for client in (room, *online, mod):
        await client.close()


async def test_a_question_carried_into_two_events_names_the_first_on_the_record(server):
    events = [await server.create_event(f"Development day {n}") for n in (1, 2, 3)]
    codes = [e["event"]["code"] for e in events]
    author = await joined(server, codes[0], "remote", name="Sam")
    question = await author.ask("Will there be a second vote on the hospital site?")
    for code in codes:
        status, _ = await server.api("PUT", f"/api/events/{code}/series", {"series": "dev-days"})
        assert status == 200
    for code in codes[1:]:
        status, body = await server.api("POST", f"/api/events/{code}/carry", {"from_event": codes[0]})
        assert status == 201 and len(body["data"]["carried"]) == 1

    status, body = await server.api("GET", f"/api/events/{codes[0]}/record/questions", token=None)
    assert status == 200, body
    (listed,) = body["data"]["questions"]
    assert (listed["id"], listed["carried_to"]) == (question["id"], codes[1])
    await author.close()
