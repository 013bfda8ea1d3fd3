"""Asking under moderation: filters, modes, near-duplicates and what the author is told."""

import sqlite3

import pytest

from live.cli import main
from live.settings import Settings
from moderators import moderator
from support import ORGANISER_TOKEN, Client, joined, running_server


async def test_post_moderation_publishes_at_once(server, event):
    author = await joined(server, event["code"])
    reply = await author.ok("ask", {"text": "When will the survey results be published?"})
    assert reply["question"]["status"] == "published"
    assert reply["mine"]["status"] == "published"
    snapshot = await author.snapshot()
    assert snapshot["stage"] == {"mode": "post", "focus": None, "balance": False, "screen": "auto"}
    assert [q["id"] for q in snapshot["questions"]] == [reply["question"]["id"]]
    await author.close()


async def test_pre_moderation_holds_every_question_out_of_sight(server):
    event = (await server.create_event("Pre", moderation="pre"))["event"]
    author = await joined(server, event["code"])
    watcher = await Client(server, event["code"]).connect()
    start = (await watcher.snapshot())["seq"]
    reply = await author.ok("ask", {"text": "Why are clinics closing early on Fridays?"})
    assert reply["mine"]["status"] == "pending"
    notice = await author.wait_for(lambda m: True, among="mine")
    assert notice["question"]["status"] == "pending"
    snapshot = await watcher.snapshot()
    assert snapshot["questions"] == [] and snapshot["seq"] == start
    assert snapshot["stage"]["mode"] == "pre"
    assert watcher.updates == []
    mine = (await author.snapshot())["me"]["questions"]
    assert [(q["status"], q["text"]) for q in mine] == [
        ("pending", "Why are clinics closing early on Fridays?")
    ]
    await author.close()
    await watcher.close()


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Call me on 07700 900123 about the ward", "personal_data"),
        ("See https://example.org for the details please", "link"),
        ("WHY IS NOBODY LISTENING TO THE NURSES", "shouting"),
    ],
)
async def test_a_filter_holds_a_question_for_review(server, text, flag):
    created = await server.create_event()
    author = await joined(server, created["event"]["code"])
    reply = await author.ok("ask", {"text": text})
    assert reply["mine"]["status"] == "pending"
    assert (await author.snapshot())["questions"] == []
    mod = await moderator(server, created)
    assert (await mod.question(reply["question"]["id"]))["flags"] == [flag]
    await author.close()
    await mod.close()


async def test_the_events_blocked_terms_and_disabled_filters_apply(server, event):
    status, _ = await server.api(
        "PATCH",
        f"/api/events/{event['code']}",
        {"blocked_terms": ["Project Falcon"], "disabled_filters": ["link"]},
    )
    assert status == 200
    author = await joined(server, event["code"])
    held = await author.ok("ask", {"text": "What is the budget of project falcon?"})
    assert held["mine"]["status"] == "pending"
    link = await author.ok("ask", {"text": "Is https://nhs.uk the right place to look?"})
    assert link["mine"]["status"] == "published"
    status, body = await server.api(
        "PATCH", f"/api/events/{event['code']}", {"disabled_filters": ["no_such_filter"]}
    )
    assert status == 400 and body["error"]["code"] == "invalid"
    await author.close()


async def test_near_duplicate_offers_the_existing_question(server, event):
    first = await joined(server, event["code"])
    second = await joined(server, event["code"])
    original = await first.ask("How will the new hospital be funded?")
    refused = await second.call("ask", {"text": "How is the new hospital going to be funded?"})
    assert refused["ok"] is False and refused["error"]["code"] == "conflict"
    assert refused["error"]["details"]["duplicate_of"] == original
    assert len((await second.snapshot())["questions"]) == 1
    insisted = await second.ok(
        "ask", {"text": "How is the new hospital going to be funded?", "allow_duplicate": True}
    )
    assert insisted["question"]["status"] == "published"
    await first.close()
    await second.close()


async def test_flooding_is_rate_limited(tmp_path):
    settings = Settings(db=tmp_path / "f.db", organiser_token=ORGANISER_TOKEN, ask_limit=100)
    async with running_server(settings) as server:
        event = (await server.create_event())["event"]
        author = await joined(server, event["code"])
        topics = ["parking", "pharmacy", "dentists", "buses", "waiting lists"]
        for topic in topics:
            await author.ask(f"What is the plan for {topic}?")
        reply = await author.call("ask", {"text": "And what about the night shifts?"})
        assert reply["error"]["code"] == "rate_limited"
        assert len((await author.snapshot())["me"]["questions"]) == 5
        await author.close()


def test_the_cli_creates_a_pre_moderated_event(tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["event", "create", "--title", "Board meeting", "--moderation", "pre", "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert "Moderator secret (shown once)" in printed and "/screen#token=" in printed
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT moderation_mode FROM events").fetchone() == ("pre",)
