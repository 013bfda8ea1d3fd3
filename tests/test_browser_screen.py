"""The big screen in a real browser: the longest question and a ten-option poll fit, whole, at 720p and 1080p."""

import pytest
from playwright.async_api import expect

from live.domain.polls import OPEN_TEXT_MAX, OPTION_MAX, POLL_QUESTION_MAX, WORD_ENTRY_MAX
from live.transport.schemas import QUESTION_MAX
from moderators import moderator
from support import joined
from test_browser_qa import collect_errors
from test_polls import create_poll, set_poll

SIZES = [(1280, 720), (1920, 1080)]
#: The smallest type the screen may use for the question in focus, as a share of the screen's height.
MIN_FOCUS_TYPE = 0.033

SENTENCE = "Why does the new timetable for the number 12 bus leave the estate without a service after seven? "
LONGEST = (SENTENCE * 6)[:QUESTION_MAX - 1] + "?"
POLL_QUESTION = ("Which of these proposals for the high street should the council fund first, given the "
                 "budget agreed in March and what residents told the consultation? ") * 2
TOPICS = ["the library's opening hours on Sundays and bank holidays", "potholes on Mill Lane near the primary school",
          "the cost of parking permits for carers who visit every day", "street lighting in the park after the closure",
          "the recycling collection that moved to fortnightly without notice",
          "damp in the council flats on Tower Road that tenants reported last winter"]
OPTIONS = [(f"Option {n}: widen the pavements, plant trees and add benches between the market and the "
            f"station, with lighting")[: OPTION_MAX - 10 * (n % 3)] for n in range(1, 11)]

#: Every box on the screen holds its content: nothing scrolls, nothing leaves the viewport.
OVERFLOWING = """() => {
    const bad = [];
    const view = {w: innerWidth, h: innerHeight};
    for (const el of document.querySelectorAll('body, body *')) {
        const style = getComputedStyle(el);
        if (el.closest('.hidden, .sr-only') || style.display === 'inline' || style.display === 'none') continue;
        const clamped = style.webkitLineClamp !== 'none' || style.textOverflow === 'ellipsis';
        const name = el.id || el.className || el.tagName;
        if (!clamped && el.scrollHeight > el.clientHeight + 1) bad.push(`${name}: ${el.scrollHeight} > ${el.clientHeight}`);
        if (!clamped && el.scrollWidth > el.clientWidth + 1) bad.push(`${name}: wide ${el.scrollWidth} > ${el.clientWidth}`);
        const r = el.getBoundingClientRect();
        if (r.width && (r.left < -1 || r.top < -1 || r.right > view.w + 1 || r.bottom > view.h + 1)) {
            bad.push(`${name} outside the viewport: ${JSON.stringify(r)}`);
        }
    }
    return bad;
}"""


async def focus(mod, question_id: int) -> None:
    seen = await mod.question(question_id)
    await mod.ok("focus", {"question_id": seen["id"], "version": seen["version"]})


@pytest.fixture
async def crowded(server):
    """An event with the longest question in focus, long top questions, and an answered ten-option poll."""
    created = await server.create_event("Citizens' assembly on transport and the high street")
    code = created["event"]["code"]
    mod = await moderator(server, created, "Priya")
    author = await joined(server, code, "in_room", "Lee")
    longest = await author.ask(LONGEST)
    for topic in TOPICS:
        asker = await joined(server, code, "remote")
        await asker.ask(f"What is the council doing about {topic}, and when will residents hear back from "
                        f"the officers who promised an answer at the last meeting in the town hall?")
        await asker.close()
    await focus(mod, longest["id"])
    poll = await create_poll(server, code, {"kind": "single", "question": POLL_QUESTION[:POLL_QUESTION_MAX],
                                            "options": OPTIONS})
    await set_poll(server, code, poll["id"], "open")
    await author.ok("answer", {"poll_id": poll["id"], "value": 3})
    yield created, mod, poll
    await author.close()
    await mod.close()


async def open_screen(browser, server, created, size):
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = await context.new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{created['event']['code']}/screen#token={created['screen_token']}")
    await expect(page.locator("#connection")).to_have_text("Live")
    return page, errors


@pytest.mark.parametrize("size", SIZES)
async def test_the_longest_question_and_a_ten_option_poll_fit_in_every_mode(server, browser, crowded, size, tmp_path):
    created, mod, poll = crowded
    page, errors = await open_screen(browser, server, created, size)
    shows = {"auto": ["poll"], "poll": ["poll"], "focus": ["focus"], "both": ["focus", "poll"]}
    for mode, visible in shows.items():
        await mod.ok("screen_mode", {"screen": mode})
        await expect(page.locator("main")).to_have_attribute("data-show", "-".join(visible))
        for section in ("focus", "poll"):
            await expect(page.locator(f"#{section}")).to_be_visible(visible=section in visible)
        if "focus" in visible:
            await expect(page.locator("#focus-text")).to_have_text(LONGEST)
            size_px = await page.locator("#focus-text").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
            assert size_px >= MIN_FOCUS_TYPE * size[1] - 0.5, (mode, size_px)
        if "poll" in visible:
            await expect(page.locator("#poll-question")).to_have_text(POLL_QUESTION[:POLL_QUESTION_MAX])
            await expect(page.locator("#poll .bar-row")).to_have_count(10)
        await page.screenshot(path=f"/tmp/screen-{size[0]}x{size[1]}-{mode}.png")
        assert await page.evaluate(OVERFLOWING) == [], mode
    top = page.locator("#top-list .top-text")
    for i in range(await top.count()):
        clamp = await top.nth(i).evaluate("el => [getComputedStyle(el).webkitLineClamp, el.scrollHeight > el.clientHeight]")
        assert clamp[0] != "none", clamp
    assert errors == []


async def test_the_screen_announces_what_changes_for_the_room_not_every_count(server, browser):
    created = await server.create_event("Announcements")
    code = created["event"]["code"]
    mod = await moderator(server, created)
    author = await joined(server, code, "in_room")
    voter = await joined(server, code, "remote")
    page, errors = await open_screen(browser, server, created, SIZES[0])
    announce = page.locator("#announce")
    await expect(announce).to_have_attribute("aria-live", "polite")
    assert await page.locator("[aria-live]").count() == 1

    question = await author.ask("Will the library open on Sundays?")
    await focus(mod, question["id"])
    await expect(announce).to_have_text("Now answering: Will the library open on Sundays?")
    other = await author.ask("Can the car park stay open later on market days?")
    await voter.ok("upvote", {"question_id": other["id"]})
    await expect(page.locator("#top-list li")).to_have_text(["1 ▲Can the car park stay open later on market days?"])
    await expect(announce).to_have_text("Now answering: Will the library open on Sundays?")

    poll = await create_poll(server, code, {"kind": "single", "question": "Was today useful?", "options": ["Yes", "No"]})
    await set_poll(server, code, poll["id"], "open")
    await expect(announce).to_have_text("Poll open: Was today useful?")
    await voter.ok("answer", {"poll_id": poll["id"], "value": 0})
    await expect(page.locator("#poll .responses")).to_contain_text("1 answer:")
    await expect(announce).to_have_text("Poll open: Was today useful?")
    await set_poll(server, code, poll["id"], "close")
    await expect(announce).to_have_text("Poll closed: Was today useful? Final results: Yes 1, No 0.")
    for client in (author, voter, mod):
        await client.close()
    assert errors == []


ANSWER = ("The buses after seven matter most to shift workers at the hospital and to carers, so keep the "
          "number 12 running every half hour until midnight, and tell us the timetable before it changes. ")


@pytest.fixture
async def wordy(server):
    """An event with the longest question in focus and two open polls, one answered in many long
    sentences, one in many long distinct words."""
    created = await server.create_event("Citizens' assembly on transport and the high street")
    code = created["event"]["code"]
    mod = await moderator(server, created, "Priya")
    author = await joined(server, code, "in_room", "Lee")
    await focus(mod, (await author.ask(LONGEST))["id"])
    polls = {
        "open_text": await create_poll(server, code, {"kind": "open_text", "question": POLL_QUESTION[:POLL_QUESTION_MAX]}),
        "word_cloud": await create_poll(server, code, {"kind": "word_cloud", "question": POLL_QUESTION[:POLL_QUESTION_MAX],
                                                       "max_entries": 10}),
    }
    for poll in polls.values():
        await set_poll(server, code, poll["id"], "open")
    for n in range(24):
        person = await joined(server, code, "remote")
        await person.ok("answer", {"poll_id": polls["open_text"]["id"],
                                   "value": f"{n}: {ANSWER}"[:OPEN_TEXT_MAX]})
        if n < 6:
            words = [f"{chr(97 + n)}{m:02d}-crosstownexpressservicelongword"[:WORD_ENTRY_MAX] for m in range(10)]
            await person.ok("answer", {"poll_id": polls["word_cloud"]["id"], "value": words})
        await person.close()
    yield created, mod, polls
    await author.close()
    await mod.close()


@pytest.mark.parametrize("size", SIZES)
async def test_open_text_and_word_cloud_results_fit_with_many_long_answers(server, browser, wordy, size):
    created, mod, polls = wordy
    code = created["event"]["code"]
    page, errors = await open_screen(browser, server, created, size)
    for kind, item in (("word_cloud", "#poll .cloud-word"), ("open_text", "#poll .answers li")):
        await set_poll(server, code, polls[kind]["id"], "close")
        await set_poll(server, code, polls[kind]["id"], "open")
        for mode, visible in (("poll", "poll"), ("both", "focus-poll")):
            await mod.ok("screen_mode", {"screen": mode})
            await expect(page.locator("main")).to_have_attribute("data-show", visible)
            await expect(page.locator("#poll-question")).to_have_text(POLL_QUESTION[:POLL_QUESTION_MAX])
            await expect(page.locator(item).first).to_be_visible()
            await page.screenshot(path=f"/tmp/screen-{kind}-{size[0]}x{size[1]}-{mode}.png")
            assert (bad := await page.evaluate(OVERFLOWING)) == [], (kind, mode, bad)
            if mode == "both":
                await expect(page.locator("#focus-text")).to_have_text(LONGEST)
    newest = page.locator("#poll .answers li").last
    await expect(newest).to_contain_text("23: ")
    assert errors == []
