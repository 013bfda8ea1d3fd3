"""The public record: counts, reasons and timing, and never the text of abusive or personal questions."""

import json

import aiohttp

from moderators import moderator
from support import joined

ABUSIVE = "Ward 7 staff are useless idiots and should be sacked"
PERSONAL = "Dr Jane Roe at 12 Elm Road treated my son badly"
OFF_TOPIC = "Who will win the football on Saturday?"


async def test_the_record_counts_everything_and_hides_harmful_text(server):
    created = await server.create_event("Open record", moderation="pre")
    code = created["event"]["code"]
    mod = await moderator(server, created)
    authors = [await joined(server, code) for _ in range(2)]
    decisions = [
        ("What is the plan for mental health services?", "approve", {}),
        ("How will the new ambulance hub reduce waits?", "answer", {}),
        (ABUSIVE, "reject", {"reason": "abusive"}),
        (PERSONAL, "reject", {"reason": "personal_data"}),
        (OFF_TOPIC, "reject", {"reason": "off_topic"}),
        ("When do the consultations close?", None, {}),
    ]
    for n, (text, action, extra) in enumerate(decisions):
        asked = await authors[n % 2].ok("ask", {"text": text, "allow_duplicate": True})
        if action is None:
            continue
        q = await mod.question(asked["question"]["id"])
        if action == "answer":
            q = await mod.act("approve", q)
        await mod.act(action, q, **extra)

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/events/{code.lower()}/record") as res:
            assert res.status == 200
            raw = await res.text()
        async with http.get(f"{server.url}/e/{code}/record") as page:
            assert page.status == 200 and "Moderation record" in await page.text()
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        async with http.get(f"{server.url}/api/events/NOPE99/record") as missing:
            assert missing.status == 404
    assert ABUSIVE not in raw and PERSONAL not in raw and "idiots" not in raw
    record = json.loads(raw)["data"]
    assert (record["received"], record["published"], record["answered"], record["pending"]) == (6, 2, 1, 1)
    assert record["withheld"] == 3
    assert record["withheld_by_reason"] == {
        "off_topic": 1, "abusive": 1, "personal_data": 1, "duplicate": 0, "spam": 0, "other": 0
    }
    assert record["median_seconds_to_decision"] is not None and record["median_seconds_to_decision"] >= 0
    shown = {q["reason"]: q["text"] for q in record["withheld_questions"]}
    assert shown == {"abusive": None, "personal_data": None, "off_topic": OFF_TOPIC}
    assert all(q["decided_at"] >= q["asked_at"] for q in record["withheld_questions"])
    for client in (mod, *authors):
        await client.close()


async def test_a_rejected_question_withdrawn_by_its_author_stays_withheld_on_the_record(server):
    created = await server.create_event("Withdrawn after rejection", moderation="pre")
    code = created["event"]["code"]
    mod = await moderator(server, created)
    author = await joined(server, code)
    asked = await author.ok("ask", {"text": OFF_TOPIC})
    await mod.act("reject", await mod.question(asked["question"]["id"]), reason="off_topic")
    withdrawn = await author.ok("withdraw", {"question_id": asked["question"]["id"]})
    assert withdrawn["question"]["status"] == "withdrawn"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/events/{code}/record") as res:
            record = (await res.json())["data"]
    assert (record["received"], record["withheld"], record["withdrawn_by_author"]) == (1, 1, 0)
    assert record["withheld_by_reason"]["off_topic"] == 1
    assert [q["text"] for q in record["withheld_questions"]] == [None]  # its author took it back
    for client in (mod, author):
        await client.close()
