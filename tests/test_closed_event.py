"""A closed event is read-only for everyone, except the record's own work after the stream."""

import aiohttp

from moderators import moderator
from support import ORGANISER_TOKEN, joined
from test_polls import create_poll, set_poll
from test_receipts import EMAIL, inbox, mail_server  # noqa: F401 (fixtures)

SPEC = {"kind": "single", "question": "Was today useful?", "options": ["Yes", "No"]}


async def public_record(server, code: str) -> dict:
    status, body = await server.api("GET", f"/api/events/{code}/record", token=None)
    assert status == 200, body
    return {k: v for k, v in body["data"].items() if k != "generated_at"}


async def _closed_event(server):
    """An event with published, withheld, merged, focused and voted questions and polls, closed."""
    created = await server.create_event("Closed assembly")
    code = created["event"]["code"]
    author = await joined(server, code, name="Author")
    voter = await joined(server, code, "remote")
    mod = await moderator(server, created)
    first = await author.ask("Who keeps the minutes of this meeting?")
    second = await voter.ask("Where does the budget for the library come from?")
    third = await author.ask("Will the bus route change in spring?")
    duplicate = await voter.ask("Who is keeping minutes?", allow_duplicate=True)
    held = await voter.ask("What is on the menu at the canteen?")
    await mod.act("reject", await mod.question(held["id"]), reason="off_topic")
    await voter.ok("upvote", {"question_id": first["id"]})
    await mod.act("merge", await mod.question(duplicate["id"]), into=first["id"])
    await mod.ok("focus", {"question_id": first["id"], "version": (await mod.question(first["id"]))["version"]})
    draft = await create_poll(server, code, SPEC)
    running = await create_poll(server, code, {**SPEC, "question": "Coffee?"})
    await set_poll(server, code, running["id"], "open")
    status, _ = await server.api("POST", f"/api/events/{code}/close")
    assert status == 200
    ids = {"first": first["id"], "second": second["id"], "third": third["id"],
           "duplicate": duplicate["id"], "held": held["id"], "draft": draft["id"], "running": running["id"]}
    return created, code, author, voter, mod, ids


async def test_moderators_and_organisers_cannot_change_a_closed_event(server):
    created, code, author, voter, mod, ids = await _closed_event(server)
    record = await public_record(server, code)
    before = await mod.ok("snapshot")
    # In an order each would be allowed in, were the event open: a version as the console saw it.
    attempts = [
        ("edit", "first", {"text": "Who writes the minutes?"}),
        ("label", "first", {"topic": "Meetings"}),
        ("focus", "third", {}),
        ("focus", None, {}),
        ("merge", "second", {"into": ids["first"]}),
        ("unmerge", "duplicate", {}),
        ("approve", "held", {}),
        ("reject", "held", {"reason": "off_topic"}),
        ("answer", "first", {}),
        ("archive", "third", {}),
        ("mode", None, {"mode": "pre"}),
        ("screen_balance", None, {"show": True}),
        ("screen_mode", None, {"screen": "both"}),
        ("mute", None, {"participant_id": voter.me["id"]}),
        ("unmute", None, {"participant_id": voter.me["id"]}),
        ("poll_create", None, SPEC),
        ("poll_open", None, {"poll_id": ids["draft"]}),
        ("poll_close", None, {"poll_id": ids["running"]}),
    ]
    for name, question, extra in attempts:
        payload = dict(extra)
        if question is not None:
            row = await mod.question(ids[question])
            payload |= {"question_id": row["id"], "version": row["version"]}
        reply = await mod.call(name, payload)
        assert reply["ok"] is False and reply["error"]["code"] == "closed", (name, reply)
        assert reply["error"]["message"]

    status, body = await server.api("PATCH", f"/api/events/{code}", {"title": "Renamed afterwards"})
    assert (status, body["error"]["code"]) == (409, "closed"), body
    status, body = await server.api("PATCH", f"/api/events/{code}", {"blocked_terms": ["minutes"]})
    assert (status, body["error"]["code"]) == (409, "closed"), body
    status, body = await server.api("POST", f"/api/events/{code}/polls", SPEC)
    assert (status, body["error"]["code"]) == (409, "closed"), body

    after = await mod.ok("snapshot")
    assert after["questions"] == before["questions"]
    assert (after["stage"], after["participants"], after["log"]) == (
        before["stage"], before["participants"], before["log"]
    )
    assert (await server.api("GET", f"/api/events/{code}"))[1]["data"]["title"] == "Closed assembly"
    assert await public_record(server, code) == record
    for client in (author, voter, mod):
        await client.close()


async def test_after_the_close_dispositions_exports_revocation_and_reopening_still_work(server):
    created, code, author, voter, mod, ids = await _closed_event(server)
    first = await mod.question(ids["first"])
    answered = await mod.act("dispose", first, disposition="answered_live", stream_time=600)
    assert answered["disposition"] == "answered_live"
    path = f"/api/events/{code}/questions/{ids['second']}/disposition"
    status, body = await server.api("POST", path, {"disposition": "referred", "referred_to": "The council"})
    assert status == 200 and body["data"]["question"]["disposition"] == "referred"
    late = await moderator(server, created, "Late")
    assert (await late.ok("snapshot"))["event"]["state"] == "closed"
    headers = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.url}/api/events/{code}/export.json") as res:
            exported = await res.json()
        assert res.status == 200 and exported["events"][0]["state"] == "closed"
        async with http.get(f"{server.url}/api/events/{code}/export.csv") as res:
            assert res.status == 200 and "Who keeps the minutes" in await res.text()
    status, sessions = await server.api("GET", f"/api/events/{code}/moderator-sessions")
    late_session = next(s for s in sessions["data"] if s["pseudonym"] == "Late")
    status, _ = await server.api("DELETE", f"/api/events/{code}/moderator-sessions/{late_session['id']}")
    assert status == 200

    status, body = await server.api("POST", f"/api/events/{code}/open")
    assert status == 200 and body["data"]["state"] == "open"
    third = await mod.act("archive", await mod.question(ids["third"]))
    assert third["status"] == "archived"
    status, body = await server.api("PATCH", f"/api/events/{code}", {"title": "Reopened assembly"})
    assert status == 200 and body["data"]["title"] == "Reopened assembly"
    for client in (author, voter, mod, late):
        await client.close()


async def test_series_and_carrying_read_a_closed_event_but_never_write_into_one(server):
    earlier = await server.create_event("Day 1")
    later = await server.create_event("Day 2")
    one, two = earlier["event"]["code"], later["event"]["code"]
    author = await joined(server, one, name="Author")
    await author.ask("Who keeps the minutes of this meeting?")
    for code in (one, two):
        await server.api("POST", f"/api/events/{code}/close")
        status, body = await server.api("PUT", f"/api/events/{code}/series", {"series": "days"})
        assert status == 200, body
    status, body = await server.api("POST", f"/api/events/{two}/carry", {"from_event": one})
    assert (status, body["error"]["code"]) == (409, "closed"), body
    await server.api("POST", f"/api/events/{two}/open")
    status, body = await server.api("POST", f"/api/events/{two}/carry", {"from_event": one})
    assert status == 201 and len(body["data"]["carried"]) == 1
    await author.close()


async def test_a_closed_event_takes_no_new_receipt_address_but_forgets_one(mail_server, inbox):
    _, handler = inbox
    created = await mail_server.create_event("Closed assembly")
    code = created["event"]["code"]
    author = await joined(mail_server, code, "remote", name="Sam")
    other = await joined(mail_server, code, "remote")
    mod = await moderator(mail_server, created)
    asked = await author.ask("When will the new community diagnostic centre open?")
    await author.ok("receipt_set", {"email": EMAIL})
    await mail_server.api("POST", f"/api/events/{code}/close")

    reply = await other.call("receipt_set", {"email": "other@example.org"})
    assert reply["ok"] is False and reply["error"]["code"] == "closed", reply
    assert (await other.snapshot())["me"]["receipt_email"] is None
    await mod.act("dispose", await mod.question(asked["id"]), disposition="answered_in_writing", response="In March.")
    await handler.wait(1)
    assert handler.messages[0][0] == [EMAIL]
    assert await author.ok("receipt_delete") == {"deleted": True}
    assert (await author.snapshot())["me"]["receipt_email"] is None
    for client in (author, other, mod):
        await client.close()


async def test_closing_the_event_closes_its_open_polls_and_shows_results_kept_for_after(server):
    created = await server.create_event("Closing time")
    code = created["event"]["code"]
    voter = await joined(server, code)
    later = await create_poll(server, code, SPEC, visibility="after_close")
    await set_poll(server, code, later["id"], "open")
    await voter.ok("answer", {"poll_id": later["id"], "value": 0})
    assert (await voter.snapshot())["polls"][0]["results"] is None
    status, _ = await server.api("POST", f"/api/events/{code}/close")
    assert status == 200
    update = await voter.wait_for(lambda u: u["type"] == "poll" and u["poll"]["state"] == "closed")
    assert update["poll"]["results"]["all"]["counts"] == [1, 0]
    poll = (await voter.snapshot())["polls"][0]
    assert poll["state"] == "closed" and poll["results"]["responses"]["all"] == 1
    await voter.close()
