"""The organisers' console in a real browser: a whole day without curl, the poster, phone widths
and accessibility."""

import csv
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

import axe
from live.transport.organiser_session import ORGANISERS
from support import joined, running_server

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
#: Elements wider than the viewport, and how far the page scrolls sideways: both must be none.
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className);
    return {wide, scroll: document.documentElement.scrollWidth - width};
}"""


async def sign_in(
    browser, server, viewport: dict, name: str = "Priya Shah", password: str = "",
    javascript: bool = True,
):
    """A new browser context signed in to the console by typing, as an organiser would (to a
    new account unless given a password)."""
    if not password:
        _, password = await server.app[ORGANISERS].add(name)
    context = await browser.new_context(
        viewport=viewport, accept_downloads=True, java_script_enabled=javascript
    )
    page = await context.new_page()
    await page.goto(server.url + "/organise")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Password").press("Enter")
    await expect(page.locator(".console-bar")).to_contain_text(f"Signed in as {name}")
    return page


async def create_event(page, title: str) -> str:
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Description").fill("Ask the panel; vote for what matters to you.")
    await page.get_by_role("button", name="Create the event").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Event created: {title}")
    return await page.locator(".notice strong").inner_text()


async def download(page, link_name: str) -> str:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=link_name, exact=True).click()
    return Path(await (await info.value).path()).read_text()


async def test_an_organisers_day_through_the_console_alone(server, browser):
    page = await sign_in(browser, server, LAPTOP)
    code = await create_event(page, "Citizens' assembly, day one")
    await expect(page.locator(".secret code").first).to_have_text(re.compile(r"\S{12,}"))
    await page.get_by_role("link", name=re.compile("Continue to the event")).click()

    await page.get_by_label("Kind of poll").select_option("single")
    await page.get_by_label("Question", exact=True).fill("Was today useful?")
    await page.get_by_label("Options, one per line").fill("Yes\nNo\nPartly")
    await page.get_by_role("button", name="Prepare the poll").click()
    await expect(page.get_by_role("status")).to_contain_text("Poll prepared")
    await page.get_by_role("button", name="Open poll: Was today useful?").click()
    # The button posts a form: the reload below must not cut into the page that answers it.
    await expect(page.get_by_role("button", name="Close poll: Was today useful?")).to_be_visible()
    voter = await joined(server, code, name="Sam")
    try:
        await voter.ok("answer", {"poll_id": (await voter.snapshot())["polls"][0]["id"], "value": 2})
        question = await voter.ask("Will the minutes be published online?")
    finally:
        await voter.close()
    await page.reload()
    await expect(page.locator(".poll-list")).to_contain_text("1 answer")
    await page.get_by_role("button", name="Close poll: Was today useful?").click()
    await expect(page.get_by_role("button", name="Reopen poll: Was today useful?")).to_be_visible()

    await page.get_by_role("button", name="Close the event").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("The event is closed"))
    await page.get_by_role("link", name="After the session: outcomes and exports").click()
    item = page.locator(f"#q-{question['id']}")
    await expect(item).to_contain_text("Will the minutes be published online?")
    await item.get_by_label("Answered in writing").check()
    await item.get_by_label("Written response, or the reason for declining").fill("Yes, in May.")
    await item.get_by_role("button", name=re.compile("^Save the outcome")).click()
    await expect(page.get_by_role("status")).to_have_text("Outcome saved.")
    await expect(page.get_by_role("link", name="Without an outcome (0)")).to_be_visible()

    rows = list(csv.DictReader((await download(page, "Questions (CSV)")).splitlines()))
    assert [(r["text"], r["disposition"], r["response"]) for r in rows] == [
        ("Will the minutes be published online?", "answered_in_writing", "Yes, in May.")]
    assert rows[0]["author_name"] == ""
    polls = list(csv.DictReader((await download(page, "Polls (CSV)")).splitlines()))
    assert {r["item"]: r["all"] for r in polls if r["item"]}["Partly"] == "1"
    export = json.loads(await download(page, "Everything with names (JSON)"))
    assert export["names_included"] is True
    (event,) = export["events"]
    assert event["code"] == code and event["state"] == "closed"
    assert event["questions"][0]["author_name"] == "Sam"
    assert event["polls"][0]["question"] == "Was today useful?"
    assert any(e["moderator"] == "Priya Shah" and e["action"] == "dispose"
               for e in event["moderation_log"])


async def check(page, where: str, width: int) -> None:
    """No axe-core violation, and at a phone's width nothing wider than the screen."""
    await page.wait_for_load_state("networkidle")
    assert await axe.violations(page) == [], where
    if width == PHONE["width"]:
        overflow = await page.evaluate(OVERFLOW)
        assert overflow == {"wide": [], "scroll": 0}, (where, overflow)


#: A long public address, as a council's would be: every link the console prints must still fit.
LONG_URL = "http://questions-and-polls.citizens-assembly.example-borough-council.gov.uk:8080"


@pytest.fixture
async def long_named_server(settings):
    async with running_server(settings.model_copy(update={"public_url": LONG_URL})) as srv:
        yield srv


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_every_console_page_is_accessible_and_fits_a_phone(long_named_server, browser, viewport):
    server = long_named_server
    width = viewport["width"]
    context = await browser.new_context(viewport=viewport)
    anonymous = await context.new_page()
    await anonymous.goto(server.url + "/organise")
    await check(anonymous, "sign-in", width)
    await server.app[ORGANISERS].add("Priya Shah")
    await anonymous.get_by_label("Your name").fill("Priya Shah")
    await anonymous.get_by_label("Password").fill("not the password")
    await anonymous.get_by_role("button", name="Sign in").click()
    await expect(anonymous.get_by_role("alert")).to_contain_text("do not match")
    await expect(anonymous.get_by_label("Your name")).to_have_value("Priya Shah")
    await check(anonymous, "sign-in refused", width)
    await context.close()

    page = await sign_in(browser, server, viewport, "Robin Okafor")
    await page.get_by_role("button", name="Create the event").click()
    await expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    await check(page, "events with an error", width)
    title = "Citizens' assembly on the future of the high street and the town centre, day one"
    code = await create_event(page, title)
    await check(page, "event created", width)
    author = await joined(server, code, name="Sam")
    try:
        await author.ask("Will the minutes of today's assembly be published, and where can people "
                         "who could not come read them before the next session in March?")
        await author.ask("https://example.org/averyveryveryveryveryverylongaddresswithoutanyspaces")
    finally:
        await author.close()
    await page.get_by_role("link", name=re.compile("Continue to the event")).click()
    await page.get_by_label("Question", exact=True).fill("Which should the council fund first?")
    await page.get_by_label("Options, one per line").fill("Parks\nRoads\nLibraries")
    await page.get_by_role("button", name="Prepare the poll").click()
    await check(page, "event", width)
    await page.get_by_label("Options, one per line").fill("Only one")
    await page.get_by_label("Question", exact=True).fill("A poll with one option?")
    await page.get_by_role("button", name="Prepare the poll").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await check(page, "event with a refused poll", width)
    await page.get_by_role("button", name="New moderator secret").click()
    await check(page, "new moderator secret", width)
    await page.goto(f"{server.url}/organise/events/{code}/after?select=all")
    await check(page, "after the session, several at once", width)
    await page.get_by_role("button", name="Save the outcome for the questions ticked").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await check(page, "after the session, several at once refused", width)
    await page.goto(f"{server.url}/organise/events/{code}/after")
    await check(page, "after the session", width)
    await page.goto(f"{server.url}/organise/events/{code}/record")
    await check(page, "preview of the record", width)
    await page.goto(f"{server.url}/organise/events/{code}/series")
    await check(page, "series", width)
    await page.get_by_label("Series name").fill("citizens-assembly-on-the-high-street-2026")
    await page.get_by_role("button", name="Save the series").click()
    await check(page, "series, filed", width)
    await page.goto(f"{server.url}/organise/events/{code}/poster")
    await check(page, "poster", width)
    await page.goto(f"{server.url}/organise/events/NOPE42")
    await check(page, "no such event", width)


async def test_the_skip_link_and_focus_lead_to_the_content(server, browser):
    page = await sign_in(browser, server, PHONE)
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Your events")).to_be_focused()


async def test_the_poster_prints_on_one_a4_page(server, browser, tmp_path):
    page = await sign_in(browser, server, LAPTOP)
    code = await create_event(page, "Town hall meeting on the new library")
    await page.goto(f"{server.url}/organise/events/{code}/poster")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Town hall meeting on the new library")
    await expect(page.locator(".poster-code")).to_have_text(code)
    await expect(page.locator(".poster-address")).to_have_text(server.settings.base_url().split("://")[1])
    await expect(page.get_by_role("navigation", name="Poster")).to_be_hidden()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert await qr.evaluate("(img) => img.complete && img.naturalWidth > 0")
    box = await page.locator("main").bounding_box()
    assert abs(box["width"] - 210 * 96 / 25.4) < 2 and abs(box["height"] - 297 * 96 / 25.4) < 2
    pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


async def test_signing_out_everywhere_ends_the_other_browsers_session(server, browser):
    _, password = await server.app[ORGANISERS].add("Priya Shah")
    laptop = await sign_in(browser, server, LAPTOP, "Priya Shah", password)
    phone = await sign_in(browser, server, PHONE, "Priya Shah", password)
    await laptop.get_by_role("button", name="Sign out everywhere").click()
    await expect(laptop.get_by_role("status")).to_have_text("You are signed out.")
    await phone.reload()
    await expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(phone.locator(".console-bar")).not_to_contain_text("Signed in")


async def test_sign_in_is_refused_for_a_while_after_failed_guesses(settings, browser):
    async with running_server(settings.model_copy(update={"signin_event_limit": 2})) as server:
        _, password = await server.app[ORGANISERS].add("Priya Shah")
        page = await (await browser.new_context(viewport=PHONE)).new_page()
        await page.goto(server.url + "/organise")
        for guess in ("guess one", "guess two", password):
            await page.get_by_label("Your name").fill("Priya Shah")
            await page.get_by_label("Password").fill(guess)
            await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
        await expect(page.locator(".console-bar")).not_to_contain_text("Signed in")
