"""axe-core finds no WCAG A/AA violation on any page, with real content on it, phone and laptop."""

import pytest
from playwright.async_api import expect

import axe
from moderators import moderator
from support import joined
from test_polls import create_poll, set_poll

WIDTHS = [320, 360, 1280]


@pytest.fixture
async def busy(server):
    """An event with published questions, one answered in writing, and an open poll."""
    created = await server.create_event("Citizens' assembly", description="Day one")
    code = created["event"]["code"]
    author = await joined(server, code, name="Priya")
    first = await author.ask("How will the assembly's recommendations be followed up?")
    await author.ask("When will the minutes be published?")
    poll = await create_poll(server, code, {"kind": "single", "question": "Was today useful?",
                                            "options": ["Yes", "No"]})
    await set_poll(server, code, poll["id"], "open")
    status, _ = await server.api("POST", f"/api/events/{code}/questions/{first['id']}/disposition",
                                 {"disposition": "answered_in_writing", "response": "In May."})
    assert status == 200
    yield created
    await author.close()


async def _page(browser, width: int):
    context = await browser.new_context(viewport={"width": width, "height": 800})
    return await context.new_page()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/", "/e/{code}", "/e/{code}/record", "/e/{code}/report", "/e/NOPE42"])
async def test_audience_pages_have_no_violations(server, busy, browser, width, path):
    page = await _page(browser, width)
    await page.goto(server.url + path.format(code=busy["event"]["code"]))
    await page.wait_for_load_state("networkidle")
    assert await axe.violations(page) == []


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_participant_page_has_no_violations_once_joined_in_either_view(server, busy, browser, width):
    page = await _page(browser, width)
    await page.goto(f"{server.url}/e/{busy['event']['code']}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    await page.get_by_role("tab", name="Polls").click()
    assert await axe.violations(page) == []  # the polls, not joined yet
    await page.get_by_role("button", name="I'm in the room").click()
    await page.get_by_label("Ask a question").fill("Is there a hearing loop?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#mine-list")).to_contain_text("Is there a hearing loop?")
    assert await axe.violations(page) == []  # the poll's form
    await page.get_by_role("tab", name="Questions").click()
    await expect(page.get_by_role("button", name="Withdraw", exact=True)).to_be_visible()
    assert await axe.violations(page) == []


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_moderator_console_has_no_violations(server, busy, browser, width):
    code = busy["event"]["code"]
    page = await _page(browser, width)
    await page.goto(f"{server.url}/e/{code}/moderate")
    assert await axe.violations(page) == []  # the sign-in form
    await page.get_by_label("Your pseudonym").fill("Robin")
    await page.get_by_label("Moderator secret").fill(busy["moderator_secret"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#me")).to_have_text("Robin")
    await page.wait_for_load_state("networkidle")
    assert await axe.violations(page) == []


@pytest.mark.parametrize("screen", ["auto", "both"])
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
async def test_the_big_screen_has_no_violations(server, busy, browser, size, screen):
    code = busy["event"]["code"]
    mod = await moderator(server, busy)
    first = (await mod.ok("snapshot"))["questions"][0]
    await mod.ok("focus", {"question_id": first["id"], "version": first["version"]})
    await mod.ok("screen_mode", {"screen": screen})
    await mod.close()
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{code}/screen#token={busy['screen_token']}")
    await expect(page.locator("#connection")).to_have_text("Live")
    await expect(page.locator("#poll")).to_be_visible()
    await expect(page.locator("#focus")).to_be_visible(visible=screen == "both")
    assert await axe.violations(page) == []
