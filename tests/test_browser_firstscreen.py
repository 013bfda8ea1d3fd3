"""The participant page's first screen on a phone: who, where and what to do, without scrolling."""

import asyncio
import re

import pytest
from playwright.async_api import expect

from support import joined
from test_browser_qa import PHONE, collect_errors
from test_polls import KINDS, create_poll, set_poll

IN_FIRST_VIEWPORT = """(el) => {
  const box = el.getBoundingClientRect();
  return window.scrollY === 0 && box.width > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


@pytest.fixture
async def busy(server, event):
    """An event with questions, a closed poll and an open one, as a person arriving finds it."""
    code = event["code"]
    author = await joined(server, code, name="Priya")
    for text in ("How will the assembly's recommendations be followed up by the board?",
                 "When will the minutes be published?", "Will there be a second day?"):
        await author.ask(text)
    done = await create_poll(server, code, KINDS["rating"])
    await set_poll(server, code, done["id"], "open")
    await set_poll(server, code, done["id"], "close")
    poll = await create_poll(server, code, KINDS["single"])
    await set_poll(server, code, poll["id"], "open")
    yield event
    await author.close()


async def phone(browser, *, scripts: bool):
    context = await browser.new_context(**PHONE, java_script_enabled=scripts)
    page = await context.new_page()
    return page, collect_errors(page)


async def in_first_viewport(locator) -> bool:
    return await locator.evaluate(IN_FIRST_VIEWPORT)


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "no-js"])
async def test_title_state_and_the_one_tap_join_then_the_ask_box_fill_the_first_screen(
        server, busy, browser, scripts):
    page, errors = await phone(browser, scripts=scripts)
    await page.goto(f"{server.url}/e/{busy['code']}")
    state = page.locator("#connection") if scripts else page.locator("#static-state")
    if scripts:
        await expect(state).to_have_text("Connected")
    else:
        await expect(state).to_have_text("Not live: reload for new questions")
    for shown in (page.locator("#event-title"), state, page.get_by_label("Your name (optional)"),
                  page.get_by_role("button", name="I'm in the room"),
                  page.get_by_role("button", name="I'm watching online")):
        assert await in_first_viewport(shown), await shown.evaluate("(el) => el.outerHTML")

    await page.get_by_role("button", name="I'm watching online").click()
    ask = page.get_by_label("Ask a question")
    await expect(ask).to_be_visible()
    for shown in (page.locator("#event-title"), state, ask, page.get_by_role("button", name="Send", exact=True)):
        assert await in_first_viewport(shown), await shown.evaluate("(el) => el.outerHTML")
    assert errors == []


async def test_enter_in_the_name_box_does_not_choose_for_the_person(server, event, browser):
    page, errors = await phone(browser, scripts=False)
    await page.goto(f"{server.url}/e/{event['code']}")
    await page.get_by_label("Your name (optional)").fill("Ana")
    await page.get_by_label("Your name (optional)").press("Enter")
    await expect(page.get_by_role("button", name="I'm in the room")).to_be_visible()
    await expect(page.get_by_label("Ask a question")).to_be_hidden()
    assert errors == []


async def test_questions_and_polls_are_two_tabs_and_an_open_poll_is_signalled(server, busy, browser):
    page, errors = await phone(browser, scripts=True)
    await page.goto(f"{server.url}/e/{busy['code']}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    tablist = page.get_by_role("tablist")
    questions_tab = tablist.get_by_role("tab", name="Questions")
    polls_tab = tablist.get_by_role("tab", name="Polls")
    await expect(polls_tab).to_have_accessible_name("Polls, 1 poll open")
    await expect(questions_tab).to_have_attribute("aria-selected", "true")
    await expect(polls_tab).to_have_attribute("aria-selected", "false")
    questions = page.get_by_role("tabpanel", name="Questions")
    await expect(questions).to_be_visible()
    await expect(page.locator("#polls-view")).to_be_hidden()
    assert await questions_tab.get_attribute("aria-controls") == "questions-view"
    assert await in_first_viewport(polls_tab)

    await polls_tab.click()
    await expect(polls_tab).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#questions-view")).to_be_hidden()
    cards = page.locator("#polls-view article.poll")
    await expect(cards.first).to_contain_text("Which day suits you?")
    await expect(cards.first).to_contain_text("Join above to answer")
    await polls_tab.press("ArrowLeft")
    await expect(questions_tab).to_be_focused()
    await expect(questions_tab).to_have_attribute("aria-selected", "true")

    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.get_by_label("Ask a question")).to_be_visible()
    await polls_tab.click()
    first = cards.first
    await expect(first.locator("form.poll-form")).to_be_visible()
    assert await first.evaluate("""(card) => card.querySelector('form.poll-form').compareDocumentPosition(
        card.querySelector('.poll-results-slot')) & Node.DOCUMENT_POSITION_FOLLOWING""")
    await first.get_by_label("Tue").check()
    await first.get_by_role("button", name="Send answer").click()
    await expect(first.locator(".poll-status")).to_contain_text("Your answer is saved")
    await expect(polls_tab).to_have_accessible_name("Polls")
    assert errors == []


async def test_without_scripts_both_views_are_on_the_page_behind_a_switcher(server, busy, browser):
    page, errors = await phone(browser, scripts=False)
    await page.goto(f"{server.url}/e/{busy['code']}")
    switcher = page.locator("#views")
    await expect(switcher.get_by_role("link", name="Polls, 1 poll open")).to_have_attribute("href", "#polls-view")
    await expect(switcher.get_by_role("link", name="Questions")).to_have_attribute("href", "#questions-view")
    assert await switcher.evaluate("(el) => getComputedStyle(el).position") == "sticky"
    await switcher.get_by_role("link", name="Polls, 1 poll open").click()
    await expect(page.locator("#polls-view article.poll").first).to_contain_text("Which day suits you?")
    await expect(page.locator("#polls-view article.poll").first).to_be_in_viewport()
    await expect(page.locator("#questions-view")).to_be_visible()
    assert errors == []


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "no-js"])
async def test_nothing_is_disabled_without_a_reason_beside_it(server, busy, browser, scripts):
    context = await browser.new_context(**PHONE, java_script_enabled=scripts)
    page = await context.new_page()
    errors = collect_errors(page, allowed_status="status of 403")  # the refusal it is shown
    await page.goto(f"{server.url}/e/{busy['code']}")
    if scripts:
        await expect(page.locator("#connection")).to_have_text("Connected")
    assert await page.locator("button:disabled:visible").count() == 0
    vote = page.get_by_role("button", name="Upvote: When will the minutes be published? (0 votes)")
    await vote.click()
    item = page.locator("#questions li").filter(has_text="When will the minutes be published?")
    await expect(item.locator(".error")).to_have_text("Join the event first.")

    await page.get_by_role("button", name="I'm watching online").click()
    await page.get_by_label("Ask a question").fill("Is there a hearing loop?")
    await page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator("#questions li").filter(has_text="Is there a hearing loop?")
    await expect(mine.locator(".vote")).to_be_disabled()
    disabled = page.locator("button:disabled:visible")
    await expect(disabled).to_have_count(1)
    await expect(mine.locator(".mine")).to_be_visible()
    await expect(mine.locator(".mine")).to_have_text("Your question")
    assert errors == []


async def test_the_script_takes_over_the_poll_controls_in_place_keeping_choices_and_focus(server, event, browser):
    code = event["code"]
    for kind in ("single", "ranking", "word_cloud"):
        poll = await create_poll(server, code, KINDS[kind])
        await set_poll(server, code, poll["id"], "open")
    page, errors = await phone(browser, scripts=True)
    await page.goto(f"{server.url}/e/{code}")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.get_by_label("Ask a question")).to_be_visible()

    held = asyncio.Event()

    async def hold(route) -> None:
        await held.wait()
        await route.continue_()

    await page.route(re.compile(r"/static/js/event\.js(\?|$)"), hold)  # versioned or not
    await page.goto(f"{server.url}/e/{code}?sort=top", wait_until="commit")
    single = page.locator("article.poll").filter(has_text="Which day suits you?")
    ranking = page.locator("article.poll").filter(has_text="Rank the priorities")
    cloud = page.locator("article.poll").filter(has_text="One word for the NHS")
    await single.get_by_label("Wed").check()
    await ranking.get_by_label("Cost").select_option("1")
    await ranking.get_by_label("Access").select_option("3")
    await cloud.get_by_label("Word or phrase 1").fill("waiting")
    await cloud.get_by_label("Word or phrase 2").fill("sta")
    await page.evaluate("document.activeElement.dataset.typedIn = 'yes'")
    held.set()

    await expect(page.locator("#connection")).to_have_text("Connected")
    await expect(page.locator("#poll-list .bars")).to_have_count(2)
    assert await page.evaluate("document.activeElement.dataset.typedIn") == "yes"
    await expect(page.get_by_role("tab", name="Polls")).to_have_attribute("aria-selected", "true")
    await page.keyboard.type("ffing")
    await expect(cloud.get_by_label("Word or phrase 2")).to_have_value("staffing")
    await expect(cloud.get_by_label("Word or phrase 1")).to_have_value("waiting")
    await expect(single.get_by_label("Wed")).to_be_checked()
    await expect(ranking.locator(".ranking li .option")).to_have_text(["Cost", "Quality", "Access"])

    for card in (single, ranking, cloud):
        await card.get_by_role("button", name="Send answer").click()
        await expect(card.locator(".poll-status")).to_contain_text("Your answer is saved")
    assert "done=" not in page.url  # answered over the socket, not by posting the form
    answers = await page.evaluate("""async (code) => (await (await fetch('/e/' + code)).text())""", code)
    assert answers.count(">Change answer</button>") == 3
    assert errors == []


FOCUSED = "() => document.activeElement === document.body ? 'body' : document.activeElement.outerHTML.slice(0, 120)"


async def focused_on(page, locator) -> bool:
    return await locator.evaluate("(el) => el === document.activeElement")


async def test_focus_never_falls_to_the_body_after_join_ask_vote_reorder_or_answer(server, busy, browser):
    code = busy["code"]
    page, errors = await phone(browser, scripts=True)
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.get_by_label("Ask a question")).to_be_focused()

    await page.get_by_label("Ask a question").fill("Is there a hearing loop?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#mine-list")).to_contain_text("Is there a hearing loop?")
    await expect(page.locator("#questions li").filter(has_text="Is there a hearing loop?")).to_have_count(1)
    await expect(page.get_by_label("Ask a question")).to_be_focused()

    last = page.locator("#questions li").filter(has_text="Will there be a second day?")
    await last.locator(".vote").click()  # the most voted goes to the top: the button moves
    await expect(page.locator("#questions li").first).to_contain_text("Will there be a second day?")
    await expect(last.locator(".vote")).to_have_attribute("aria-pressed", "true")
    assert await focused_on(page, last.locator(".vote")), await page.evaluate(FOCUSED)

    others = [await joined(server, code) for _ in range(2)]
    minutes = page.locator("#questions li").filter(has_text="When will the minutes be published?")
    minutes_id = int(await minutes.get_attribute("data-id"))
    await minutes.locator(".vote").focus()
    for other in others:  # someone else's votes move the question this person is on
        await other.ok("upvote", {"question_id": minutes_id})
    await expect(page.locator("#questions li").first).to_contain_text("When will the minutes be published?")
    assert await focused_on(page, minutes.locator(".vote")), await page.evaluate(FOCUSED)

    second = await create_poll(server, code, KINDS["multiple"])
    await set_poll(server, code, second["id"], "open")
    await page.get_by_role("tab", name="Polls").click()
    cards = page.locator("#polls-view article.poll")
    await expect(cards.first).to_contain_text("Which topics?")
    topics = cards.filter(has_text="Which topics?")
    await topics.get_by_label("Staffing").check()
    await topics.get_by_role("button", name="Send answer").click()
    await expect(topics.locator(".poll-status")).to_contain_text("Your answer is saved")
    await others[0].ok("answer", {"poll_id": second["id"], "value": [0]})  # an update re-sorts the polls
    await expect(cards.first).to_contain_text("Which day suits you?")
    assert await focused_on(page, topics.get_by_role("button", name="Change answer")), await page.evaluate(FOCUSED)
    for other in others:
        await other.close()
    assert errors == []


async def test_vote_buttons_are_named_with_the_question_and_its_count(server, busy, browser):
    code = busy["code"]
    page, errors = await phone(browser, scripts=True)
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    await page.get_by_role("button", name="I'm in the room").click()
    minutes = page.locator("#questions li").filter(has_text="When will the minutes be published?")
    vote = minutes.locator(".vote")
    await expect(vote).to_have_accessible_name("Upvote: When will the minutes be published? (0 votes)")
    others = [await joined(server, code) for _ in range(8)]
    for other in others:
        await other.ok("upvote", {"question_id": int(await minutes.get_attribute("data-id"))})
    await expect(vote).to_have_accessible_name("Upvote: When will the minutes be published? (8 votes)")
    await vote.click()
    await expect(vote).to_have_accessible_name("Remove your vote: When will the minutes be published? (9 votes)")
    for other in others:
        await other.close()
    assert errors == []


async def test_polls_and_your_questions_status_are_announced_in_one_polite_live_region(server, browser):
    from moderators import moderator

    created = await server.create_event("Board meeting", moderation="pre")
    code = created["event"]["code"]
    page, errors = await phone(browser, scripts=True)
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    assert await page.evaluate("[...document.querySelectorAll('[aria-live]')].map((el) => [el.id, el.getAttribute('aria-live')])") == [
        ["ask-counter", "off"], ["announcer", "polite"]]
    announcer = page.locator("#announcer")
    await page.get_by_role("button", name="I'm watching online").click()

    poll = await create_poll(server, code, KINDS["single"])
    await set_poll(server, code, poll["id"], "open")
    await expect(announcer).to_have_text("Poll open: Which day suits you?")
    await set_poll(server, code, poll["id"], "close")
    await expect(announcer).to_have_text("Poll closed: Which day suits you?")

    mod = await moderator(server, created)
    await page.get_by_label("Ask a question").fill("Who chairs the panel?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(announcer).to_have_text("Your question has been sent. A moderator will review it before it appears.")
    held = await mod.wait_for("question", lambda m: m["question"]["text"] == "Who chairs the panel?")
    await mod.act("approve", held["question"])
    await expect(announcer).to_have_text("Your question is now: Published")
    await mod.close()
    assert errors == []


TOO_SMALL = """() => [...document.querySelectorAll('button, a[href], input, select, textarea, [role=tab]')]
  .filter((el) => el.checkVisibility() && !el.closest('.sr-only'))
  .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 24 || box.height < 24)
  .map(([html, box]) => `${html}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


@pytest.mark.parametrize("width", [320, 360, 1280])
async def test_every_target_is_at_least_24_by_24_px(server, busy, browser, width):
    code = busy["code"]
    author = await joined(server, code, name="Sam")
    mine = await author.ask("A question of my own, to withdraw")
    status, _ = await server.api("POST", f"/api/events/{code}/questions/{mine['id']}/disposition",
                                 {"disposition": "answered_in_writing", "response": "In May."})
    assert status == 200
    await server.api("PATCH", f"/api/events/{code}", {"stream_url": "https://example.org/live"})
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    assert await page.evaluate(TOO_SMALL) == []
    await page.get_by_role("tab", name="Polls").click()
    assert await page.evaluate(TOO_SMALL) == []
    await page.get_by_role("button", name="I'm in the room").click()
    await page.get_by_label("Ask a question").fill("Is there a hearing loop?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.get_by_role("tab", name="Questions").click()
    await expect(page.get_by_role("button", name="Withdraw", exact=True)).to_be_visible()
    assert await page.evaluate(TOO_SMALL) == []
    await page.get_by_role("tab", name="Polls").click()
    await expect(page.locator("form.poll-form")).to_be_visible()
    assert await page.evaluate(TOO_SMALL) == []
    await author.close()


async def test_without_scripts_join_and_ask_land_in_the_ask_box(server, event, browser):
    page, errors = await phone(browser, scripts=False)
    await page.goto(f"{server.url}/e/{event['code']}")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.locator("#notice")).to_contain_text("You have joined")
    await expect(page.get_by_label("Ask a question")).to_be_focused()
    await page.keyboard.type("Who chairs the panel?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#notice")).to_have_text("Your question has been sent.")
    await expect(page.get_by_label("Ask a question")).to_be_focused()
    await expect(page.locator("#mine-list")).to_contain_text("Who chairs the panel?")
    assert errors == []


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "no-js"])
async def test_change_is_one_tap_too(server, event, browser, scripts):
    page, errors = await phone(browser, scripts=scripts)
    await page.goto(f"{server.url}/e/{event['code']}")
    if scripts:
        await expect(page.locator("#connection")).to_have_text("Connected")
    await page.get_by_label("Your name (optional)").fill("Ana")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.locator("#me-summary")).to_have_text("Ana, in the room")
    await page.get_by_role("link", name="Change").click()
    await expect(page.get_by_label("Your name (optional)")).to_have_value("Ana")
    await page.get_by_role("button", name="I'm watching online").click()
    await expect(page.locator("#me-summary")).to_have_text("Ana, online")
    assert errors == []
