"""The participant page with JavaScript turned off, in a real browser: every form still works."""

from playwright.async_api import expect

from support import joined
from test_browser_qa import PHONE, collect_errors
from test_polls import KINDS, create_poll, set_poll


async def test_the_whole_flow_without_javascript(server, event, browser):
    code = event["code"]
    other = await joined(server, code, name="Sam")
    theirs = await other.ask("Will there be a second day?")
    single = await create_poll(server, code, KINDS["single"])
    ranking = await create_poll(server, code, KINDS["ranking"])
    for poll in (single, ranking):
        await set_poll(server, code, poll["id"], "open")

    context = await browser.new_context(**PHONE, java_script_enabled=False)
    page = await context.new_page()
    errors = collect_errors(page, allowed_status="status of 400")  # the refusals it is shown
    await page.goto(server.url)
    await page.get_by_label("Event code").fill(code.lower())
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{server.url}/e/{code}")
    await expect(page.locator("#questions .q-text")).to_have_text([theirs["text"]])

    await page.get_by_label("Your name (optional)").fill("Ana")
    await page.get_by_role("button", name="I'm watching online").click()
    await expect(page.locator("#me-summary")).to_have_text("Ana, online")

    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#ask-error")).to_contain_text("a question has 1 to 500 characters")
    await page.get_by_label("Ask a question").fill("Who chairs the panel?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#notice")).to_have_text("Your question has been sent.")
    await expect(page.locator("#mine-list")).to_contain_text("Who chairs the panel?")

    await page.get_by_role("button", name="Upvote: Will there be a second day? (0 votes)").click()
    button = page.get_by_role("button", name="Remove your vote: Will there be a second day? (1 vote)")
    await expect(button).to_have_attribute("aria-pressed", "true")

    card = page.locator("article.poll").filter(has_text="Which day suits you?")
    await card.get_by_label("Tue").check()
    await card.get_by_role("button", name="Send answer").click()
    await expect(page.locator("#notice")).to_contain_text("Your answer is saved")
    rank = page.locator("article.poll").filter(has_text="Rank the priorities")
    await rank.get_by_label("Cost").select_option("1")
    await rank.get_by_role("button", name="Send answer").click()
    await expect(rank.locator(".error")).to_have_text("Give each option its own place, from 1 to 3.")
    await rank.get_by_label("Access").select_option("3")
    await rank.get_by_role("button", name="Send answer").click()
    await expect(page.locator("#notice")).to_contain_text("Your answer is saved")
    answers = (await other.snapshot())["questions"]
    assert [q["votes"] for q in answers if q["id"] == theirs["id"]] == [1]
    assert errors == []
    await other.close()
