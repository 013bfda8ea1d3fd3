"""An event announced ahead: its schedule, the links beside its stream, and questions in advance."""

import csv
import html
import io
import json
import time
from datetime import UTC, datetime

import aiohttp
import icalendar
import pytest

from support import ORGANISER_TOKEN, Client, joined
from test_organise import consoles, priya  # noqa: F401 (fixtures)

SOON = time.time() + 3 * 86400


def at(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_schedule_and_links_round_trip_and_reach_participants(server):
    created = await server.create_event(
        "Assembly", starts_at="2026-12-10T09:30:00+00:00", ends_at="2026-12-10T16:00:00Z",
        captions_url="https://captions.example.org/live", advance_questions=True,
    )
    event = created["event"]
    assert event["starts_at"] == "2026-12-10T09:30:00Z"
    assert event["ends_at"] == "2026-12-10T16:00:00Z"
    assert event["advance_questions"] is True
    assert event["captions_url"] == "https://captions.example.org/live"
    assert event["sign_language_url"] is None

    watcher = await Client(server, event["code"]).connect()
    status, body = await server.api(
        "PATCH", f"/api/events/{event['code']}",
        {"starts_at": "2026-12-10T10:00:00+01:00", "sign_language_url": "https://bsl.example.org/s"},
    )
    assert status == 200, body
    assert body["data"]["starts_at"] == "2026-12-10T09:00:00Z"
    msg = await watcher.wait_for(lambda m: m["type"] == "event")
    assert msg["event"]["sign_language_url"] == "https://bsl.example.org/s"
    status, body = await server.api(
        "PATCH", f"/api/events/{event['code']}", {"ends_at": None, "captions_url": None}
    )
    assert body["data"]["ends_at"] is None and body["data"]["captions_url"] is None
    assert body["data"]["starts_at"] == "2026-12-10T09:00:00Z"
    await watcher.close()


@pytest.mark.parametrize(
    "fields",
    [
        {"starts_at": "tomorrow"},
        {"starts_at": "2026-12-10T09:30:00"},
        {"starts_at": "1999-12-31T23:00:00Z"},
        {"starts_at": "2026-12-10T09:30:00Z", "ends_at": "2026-12-10T09:30:00Z"},
        {"starts_at": "2026-12-10T09:30:00Z", "ends_at": "2026-12-09T09:30:00Z"},
        {"starts_at": 1765359000},
        {"starts_at": "2" * 41},
        {"captions_url": "javascript:alert(1)"},
        {"captions_url": "https://"},
        {"sign_language_url": "https://example.org/" + "a" * 500},
        {"advance_questions": "yes"},
    ],
)
async def test_bad_schedules_and_links_are_refused(server, fields):
    status, body = await server.api("POST", "/api/events", {"title": "Assembly", **fields})
    assert status == 400 and body["error"]["code"] == "invalid", body


async def test_an_update_cannot_put_the_end_before_the_start(server):
    event = (await server.create_event("Assembly", starts_at="2026-12-10T09:30:00Z"))["event"]
    status, body = await server.api(
        "PATCH", f"/api/events/{event['code']}", {"ends_at": "2026-12-10T08:00:00Z"}
    )
    assert status == 400 and body["error"]["code"] == "invalid"
    assert "ends after it starts" in body["error"]["message"]
    status, body = await server.api("GET", f"/api/events/{event['code']}", token=None)
    assert body["data"]["ends_at"] is None


async def test_before_the_start_questions_wait_unless_allowed(server):
    event = (await server.create_event("Assembly", starts_at=at(SOON)))["event"]
    alice = await joined(server, event["code"], "remote")
    reply = await alice.call("ask", {"text": "Will the minutes be published?"})
    assert reply["ok"] is False and reply["error"]["code"] == "not_started"

    await server.api("PATCH", f"/api/events/{event['code']}", {"advance_questions": True})
    asked = await alice.ask("Will the minutes be published?")
    bob = await joined(server, event["code"], "in_room")
    await bob.ok("upvote", {"question_id": asked["id"]})

    await server.api("PATCH", f"/api/events/{event['code']}", {"advance_questions": False, "starts_at": at(time.time() - 60)})
    later = await alice.ask("And the slides?")
    assert later["id"] > asked["id"]
    await alice.close()
    await bob.close()


async def test_the_calendar_file_is_valid_icalendar(server):
    event = (await server.create_event(
        "Citizens' assembly, day 1", description="Health services; travel, and more",
        starts_at="2026-12-10T09:30:00Z", ends_at="2026-12-10T16:00:00Z",
    ))["event"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/e/{event['code'].lower()}/event.ics") as response:
            assert response.status == 200
            assert response.content_type == "text/calendar"
            assert f'filename="{event["code"]}.ics"' in response.headers["Content-Disposition"]
            body = await response.read()
        async with http.get(f"{server.url}/e/{event['code']}/event.ics") as again:
            body_again = await again.read()
        async with http.get(f"{server.url}/e/NOPE22/event.ics") as missing:
            assert missing.status == 404
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(body)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["summary"]) == "Citizens' assembly, day 1"
    assert entry.decoded("dtstart") == datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
    assert entry.decoded("dtend") == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert str(entry["url"]) == event["links"]["participant"]
    assert "Health services; travel, and more" in str(entry["description"])
    assert "dtstamp" in entry
    (entry_again,) = icalendar.Calendar.from_ical(body_again).walk("VEVENT")
    assert entry_again["uid"] == entry["uid"]


async def test_no_calendar_file_without_a_start(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/e/{event['code']}/event.ics") as response:
            assert response.status == 404
            assert "no scheduled start" in await response.text()


async def test_questions_asked_in_advance_are_marked_in_record_report_and_exports(server):
    event = (await server.create_event(
        "Assembly", starts_at=at(SOON), advance_questions=True
    ))["event"]
    code = event["code"]
    early = await joined(server, code, "remote")
    before = await early.ask("Will the minutes be published?")
    await server.api("PATCH", f"/api/events/{code}", {"starts_at": at(time.time() - 1)})
    during = await early.ask("Who chairs the afternoon?")

    status, body = await server.api("GET", f"/api/events/{code}/record/questions", token=None)
    marks = {q["id"]: q["asked_before_start"] for q in body["data"]["questions"]}
    assert marks == {before["id"]: True, during["id"]: False}
    status, body = await server.api("GET", f"/api/events/{code}/report", token=None)
    assert body["data"]["asked_before_start"] == 1

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}) as http:
        async with http.get(f"{server.url}/api/events/{code}/export.json") as response:
            exported = json.loads(await response.text())
        async with http.get(f"{server.url}/api/events/{code}/export.csv?table=questions") as response:
            rows = list(csv.DictReader(io.StringIO(await response.text())))
    (section,) = exported["events"]
    assert {q["id"]: q["asked_before_start"] for q in section["questions"]} == marks
    assert {int(r["id"]): r["asked_before_start"] for r in rows} == {
        before["id"]: "true", during["id"]: "false"
    }
    await early.close()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"starts_at": "next tuesday"}, "A scheduled time is a date and a time"),
        ({"ends_at": "2027-06-10T09:30+05:00"}, "A scheduled time is a date and a time"),
        ({"starts_at": "1066-10-14T09:00"}, "between 2000 and 2100"),
        ({"starts_at": "2027-06-10T09:30", "ends_at": "2027-06-10T09:00"}, "ends after it starts"),
        ({"captions_url": "ftp://example.org/c"}, "a web address starting with https://"),
        ({"starts_at": "9" * 5000}, "A scheduled time"),
    ],
)
async def test_the_console_refuses_schedules_it_cannot_read(server, priya, consoles, fields, says):
    console = consoles()
    await console.sign_in(*priya)
    await console.get()
    status, text, _ = await console.post("/organise/events", {"title": "Assembly", **fields})
    assert status == 400 and says in html.unescape(text)
    status, body = await server.api("GET", "/api/events")
    assert body["data"] == []


async def test_the_console_keeps_an_edit_that_puts_the_end_before_the_start(server, priya, consoles):
    console = consoles()
    await console.sign_in(*priya)
    event = (await server.create_event("Assembly", starts_at="2027-06-10T08:30:00Z"))["event"]
    await console.get(f"/organise/events/{event['code']}")
    status, text, _ = await console.post(
        f"/organise/events/{event['code']}",
        {"title": "Assembly", "starts_at": "2027-06-10T09:30", "ends_at": "2027-06-10T09:00"},
    )
    assert status == 400 and "ends after it starts" in text and 'value="2027-06-10T09:00"' in text
