"""English and Welsh in a real browser: negotiation, the switch with and without scripts, `lang`
attributes, plurals and dates in the page's language, and axe-core on the Welsh page."""

import pytest
from playwright.async_api import expect

import axe
from support import joined
from test_accessibility import WIDTHS, busy  # noqa: F401 (a fixture)
from test_browser_qa import PHONE, collect_errors
from test_polls import KINDS, create_poll, set_poll

WELSH = {"locale": "cy-GB", "extra_http_headers": {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}}


async def test_a_welsh_browser_gets_welsh_and_english_stays_chosen_once_picked(server, event, browser):
    code = event["code"]
    author = await joined(server, code, name="Priya")
    await author.ask("Pryd bydd y cofnodion yn cael eu cyhoeddi?")
    context = await browser.new_context(**PHONE, **WELSH)
    page = await context.new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.locator("#connection")).to_have_text("Wedi cysylltu")  # a script's string
    vote = page.get_by_role("button", name="Pleidleisio dros: Pryd bydd y cofnodion yn cael eu cyhoeddi? (Dim pleidleisiau)")
    await expect(vote).to_be_visible()
    await page.get_by_role("button", name="Rydw i yn yr ystafell").click()
    await vote.click()
    await expect(page.get_by_role("button", name="Tynnu eich pleidlais yn ôl: Pryd bydd y cofnodion yn cael eu cyhoeddi? (1 bleidlais)")).to_be_visible()

    english = page.get_by_role("link", name="English")
    await expect(english).to_have_attribute("lang", "en")
    await expect(english).to_have_attribute("hreflang", "en")
    await english.click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#connection")).to_have_text("Connected")
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name="Ask a question")).to_be_visible()
    welsh = page.get_by_role("link", name="Cymraeg")
    await expect(welsh).to_have_attribute("lang", "cy")
    await expect(welsh).to_have_attribute("hreflang", "cy")
    # A question is the person's own words: it is not claimed to be in the page's language.
    assert await page.locator("#questions .q-text").first.get_attribute("lang") is None
    assert errors == []
    await context.close()
    await author.close()


async def test_the_switch_works_without_javascript_and_holds_on_every_page(server, event, browser):
    context = await browser.new_context(**PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{event['code']}?sort=recent")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.get_by_role("link", name="Cymraeg").click()
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page).to_have_url(f"{server.url}/e/{event['code']}?sort=recent&lang=cy")
    await expect(page.get_by_role("heading", name="Ymuno â'r sgwrs")).to_be_visible()
    await page.goto(server.url)
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await page.get_by_label("Cod y digwyddiad").fill("nope42")
    await page.get_by_role("button", name="Ymuno").click()
    await expect(page.get_by_role("heading")).to_have_text("Nid oes digwyddiad gyda'r cod NOPE42")
    await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_welsh_participant_page_has_no_violations(server, busy, browser, width):  # noqa: F811
    context = await browser.new_context(viewport={"width": width, "height": 800}, **WELSH)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{busy['event']['code']}")
    await expect(page.locator("#connection")).to_have_text("Wedi cysylltu")
    assert await axe.violations(page) == []
    await page.get_by_role("button", name="Rydw i'n gwylio ar-lein").click()
    await page.get_by_role("tab", name="Pleidleisiau").click()
    await expect(page.get_by_role("button", name="Anfon ateb")).to_be_visible()
    assert await axe.violations(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await context.close()


@pytest.mark.parametrize("path", ["/", "/e/{code}/record", "/e/{code}/report", "/e/NOPE42"])
async def test_the_other_welsh_audience_pages_have_no_violations(server, busy, browser, path):  # noqa: F811
    context = await browser.new_context(viewport={"width": 360, "height": 800}, **WELSH)
    page = await context.new_page()
    await page.goto(server.url + path.format(code=busy["event"]["code"]))
    await page.wait_for_load_state("networkidle")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    assert await axe.violations(page) == []
    await context.close()


async def test_the_record_gives_dates_and_counts_in_welsh(server, event, browser):
    code = event["code"]
    author = await joined(server, code, name="Priya")
    question = await author.ask("Pwy fydd yn ateb am y gyllideb?")
    status, _ = await server.api("POST", f"/api/events/{code}/questions/{question['id']}/disposition",
                                 {"disposition": "referred", "referred_to": "Y Cabinet", "due_date": "2026-05-01"})
    assert status == 200
    context = await browser.new_context(**WELSH)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{code}/record")
    item = page.locator("#record-questions li").filter(has_text="Pwy fydd yn ateb am y gyllideb?")
    await expect(item).to_contain_text("Wedi'i gyfeirio at Y Cabinet (ymateb erbyn 1 Mai 2026)")
    await expect(item).to_contain_text("Dim pleidleisiau")
    await expect(page.locator("#questions-shown")).to_have_text("1 o 1 cwestiwn")
    await context.close()
    await author.close()


async def test_without_javascript_focus_returns_to_the_vote_and_the_answer_after_the_reload(server, event, browser):
    code = event["code"]
    other = await joined(server, code, name="Sam")
    await other.ask("Will there be a second day?")
    await other.ask("Who chairs the panel?")
    poll = await create_poll(server, code, KINDS["single"])
    await set_poll(server, code, poll["id"], "open")
    context = await browser.new_context(**PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{code}")
    await page.get_by_role("button", name="I'm in the room").click()
    await page.get_by_role("button", name="Upvote: Who chairs the panel? (0 votes)").click()
    focused = page.locator(":focus")
    await expect(focused).to_have_accessible_name("Remove your vote: Who chairs the panel? (1 vote)")
    await page.get_by_role("button", name="Remove your vote: Who chairs the panel? (1 vote)").click()
    await expect(focused).to_have_accessible_name("Upvote: Who chairs the panel? (0 votes)")
    card = page.locator("article.poll").filter(has_text="Which day suits you?")
    await card.get_by_label("Tue").check()
    await card.get_by_role("button", name="Send answer").click()
    await expect(page.locator("#notice")).to_contain_text("Your answer is saved")
    await expect(focused).to_have_text("Change answer")
    assert await page.evaluate("document.activeElement.closest('article').id") == f"poll-{poll['id']}"
    await context.close()
    await other.close()
