"""The participant page before an event starts, in a real browser, with and without scripts."""

import re
import time

import pytest
from playwright.async_api import expect

from axe import violations
from support import joined
from test_browser_organise import sign_in
from test_browser_qa import PHONE, collect_errors
from test_schedule import at


async def test_before_the_start_the_page_says_when_in_the_visitors_time_zone(server, browser):
    far = time.time() + 86400 * 30
    event = (await server.create_event(
        "Assembly", starts_at=at(far), ends_at=at(far + 3600),
        captions_url="https://captions.example.org/live",
        sign_language_url="https://bsl.example.org/live",
    ))["event"]
    context = await browser.new_context(**PHONE, timezone_id="America/New_York", locale="en-US")
    page = await context.new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{event['code']}")
    starts = page.locator("#starts-at")
    await expect(starts).to_contain_text(re.compile(r", \d\d:\d\d GMT-[45]$"))
    assert await starts.get_attribute("datetime") == at(far)
    await expect(page.locator("#advance-note")).to_have_text("Questions open when the event starts.")
    await expect(page.get_by_role("link", name="Add to your calendar (.ics)")).to_have_attribute(
        "href", f"/e/{event['code']}/event.ics"
    )
    await expect(page.get_by_role("link", name="Captions")).to_have_attribute(
        "href", "https://captions.example.org/live"
    )
    await expect(page.get_by_role("link", name="British Sign Language")).to_be_visible()
    await page.get_by_role("button", name="I'm watching online").click()
    await expect(page.locator("#me-summary")).to_contain_text("online")
    await expect(page.locator("#ask-form")).to_be_hidden()
    await page.screenshot(path="/tmp/schedule-360.png", full_page=True)
    assert await violations(page) == []
    assert errors == []
    await context.close()


async def test_without_scripts_the_page_shows_the_servers_time_zone(server, browser):
    far = time.time() + 86400 * 30
    event = (await server.create_event("Assembly", starts_at=at(far), advance_questions=True))["event"]
    context = await browser.new_context(**PHONE, java_script_enabled=False, timezone_id="Asia/Tokyo")
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{event['code']}")
    await expect(page.locator("#starts-at")).to_contain_text(re.compile(r", \d\d:\d\d (GMT|BST)$"))
    await expect(page.locator("#advance-note")).to_have_text("You can ask questions now, before it starts.")
    await page.get_by_role("button", name="I'm in the room").click()
    await page.get_by_label("Ask a question").fill("Will the minutes be published?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#notice")).to_have_text("Your question has been sent.")
    await expect(page.locator("#questions .q-text")).to_have_text(["Will the minutes be published?"])
    await context.close()


async def test_the_ask_box_appears_when_the_event_starts(server, browser):
    event = (await server.create_event("Assembly", starts_at=at(time.time() + 4)))["event"]
    someone = await joined(server, event["code"])
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{event['code']}")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.locator("#me-summary")).to_contain_text("in the room")
    await expect(page.locator("#ask-form")).to_be_hidden()
    await expect(page.get_by_label("Ask a question")).to_be_visible(timeout=15000)
    await expect(page.locator("#calendar-link")).to_have_count(0)
    await someone.close()
    await context.close()


async def test_the_public_record_marks_questions_asked_before_the_event(server, browser):
    event = (await server.create_event(
        "Assembly", starts_at=at(time.time() + 86400), advance_questions=True
    ))["event"]
    code = event["code"]
    early = await joined(server, code, "remote")
    await early.ask("Will the minutes be published?")
    await server.api("PATCH", f"/api/events/{code}", {"starts_at": at(time.time())})
    await early.ask("Who chairs the afternoon?")
    await server.api("POST", f"/api/events/{code}/close")
    page = await (await browser.new_context(**PHONE)).new_page()
    await page.goto(f"{server.url}/e/{code}/record")
    items = page.locator("#record-questions li")
    await expect(items).to_have_count(2)
    await expect(items.filter(has_text="minutes").locator(".meta")).to_contain_text("Asked before the event")
    await expect(items.filter(has_text="afternoon").locator(".meta")).not_to_contain_text("before the event")
    await early.close()


async def test_the_console_schedules_an_event_in_its_time_zone(server, browser):
    page = await sign_in(browser, server, {"width": 360, "height": 740})
    await page.get_by_label("Title").fill("Citizens' assembly, day two")
    await page.get_by_label("Starts").fill("2027-06-10T09:30")
    await page.get_by_label("Ends").fill("2027-06-10T08:00")
    await page.get_by_label("Captions address").fill("https://captions.example.org/day2")
    await page.get_by_role("button", name="Create the event").click()
    await expect(page.locator(".error-box")).to_contain_text("An event ends after it starts")
    await expect(page.get_by_label("Captions address")).to_have_value("https://captions.example.org/day2")
    await page.get_by_label("Ends").fill("2027-06-10T16:00")
    await page.get_by_label("Take questions before the start").check()
    await page.get_by_role("button", name="Create the event").click()
    code = await page.locator(".notice strong").inner_text()

    status, body = await server.api("GET", f"/api/events/{code}", token=None)
    assert body["data"]["starts_at"] == "2027-06-10T08:30:00Z"  # 09:30 in London in summer
    assert body["data"]["ends_at"] == "2027-06-10T15:00:00Z"
    assert body["data"]["advance_questions"] is True
    assert body["data"]["captions_url"] == "https://captions.example.org/day2"

    await page.goto(f"{server.url}/organise")
    await expect(page.locator(".event-list")).to_contain_text("Starts Thursday 10 June 2027, 09:30 BST")
    await page.goto(f"{server.url}/organise/events/{code}")
    await expect(page.get_by_label("Starts")).to_have_value("2027-06-10T09:30")
    await page.get_by_label("Starts").fill("")
    await page.get_by_label("Take questions before the start").uncheck()
    await page.get_by_label("British Sign Language stream address").fill("https://bsl.example.org/2")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_label("Starts")).to_have_value("")
    status, body = await server.api("GET", f"/api/events/{code}", token=None)
    assert body["data"]["starts_at"] is None and body["data"]["advance_questions"] is False
    assert body["data"]["sign_language_url"] == "https://bsl.example.org/2"
    assert body["data"]["ends_at"] == "2027-06-10T15:00:00Z"
    await page.screenshot(path="/tmp/console-schedule-360.png", full_page=True)
    assert await violations(page) == []


@pytest.mark.parametrize("scripts", [True, False])
async def test_the_welsh_page_names_the_day_and_month_in_welsh(server, browser, scripts):
    event = (await server.create_event("Cynulliad", starts_at="2030-12-10T09:30:00Z"))["event"]
    context = await browser.new_context(**PHONE, java_script_enabled=scripts, timezone_id="Europe/London")
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{event['code']}?lang=cy")
    await expect(page.locator("#schedule-title")).to_have_text("Yn dechrau Dydd Mawrth 10 Rhagfyr 2030, 09:30 GMT")
    await expect(page.get_by_role("link", name="Ychwanegu at eich calendr (.ics)")).to_be_visible()
    if scripts:
        assert await violations(page) == []
    await context.close()


async def test_moderators_see_which_questions_were_asked_before_the_event(server, browser):
    created = await server.create_event(
        "Assembly", starts_at=at(time.time() + 86400), advance_questions=True, moderation="pre"
    )
    asker = await joined(server, created["event"]["code"])
    await asker.ask("Asked in advance, waiting for review")
    page = await (await browser.new_context(**PHONE)).new_page()
    await page.goto(f"{server.url}/e/{created['event']['code']}/moderate")
    await page.get_by_label("Your pseudonym").fill("Robin")
    await page.get_by_label("Moderator secret").fill(created["moderator_secret"])
    await page.get_by_role("button", name="Sign in").click()
    queued = page.locator("#queue li").filter(has_text="Asked in advance, waiting for review")
    await expect(queued.locator(".flags")).to_contain_text("Asked before the event")
    await asker.close()
    await page.context.close()
