"""A poll in real browsers: opened by the organiser, answered on a phone, results live."""

from playwright.async_api import expect

from test_browser_moderation import LAPTOP, PROJECTOR, collect_errors
from test_browser_qa import open_participant
from test_polls import KINDS, create_poll, set_poll


async def test_participant_answers_a_poll_and_everyone_sees_the_results(server, event, browser):
    code = event["code"]
    poll = await create_poll(server, code, KINDS["single"])
    ranking = await create_poll(server, code, KINDS["ranking"])
    phone, phone_errors = await open_participant(browser, server, code, "I'm in the room")
    other, other_errors = await open_participant(browser, server, code, "I'm watching online")
    for page in (phone, other):
        await page.get_by_role("tab", name="Polls").click()

    await set_poll(server, code, poll["id"], "open")
    card = phone.locator("article.poll").filter(has_text="Which day suits you?")
    await expect(card).to_be_visible()
    await card.get_by_label("Tue").check()
    await card.get_by_role("button", name="Send answer").click()
    await expect(card.locator(".poll-status")).to_contain_text("Your answer is saved")

    seen = other.locator("article.poll").filter(has_text="Which day suits you?")
    await expect(seen.locator("table")).to_contain_text("Tue")
    await expect(seen.locator("table tr").filter(has_text="Tue").locator("td").first).to_have_text("1")
    await expect(seen.locator(".poll-results")).to_contain_text("1 answer (1 in the room, 0 online)")

    await card.get_by_label("Wed").check()
    await card.get_by_role("button", name="Change answer").click()
    await expect(seen.locator("table tr").filter(has_text="Wed").locator("td").first).to_have_text("1")
    await expect(seen.locator("table tr").filter(has_text="Tue").locator("td").first).to_have_text("0")

    await set_poll(server, code, ranking["id"], "open")
    rank_card = phone.locator("article.poll").filter(has_text="Rank the priorities")
    await rank_card.get_by_role("button", name="Move Cost up").click()
    await rank_card.get_by_role("button", name="Move Cost up").click()
    await rank_card.get_by_role("button", name="Send answer").click()
    await expect(rank_card.locator(".poll-status")).to_contain_text("Your answer is saved")
    top = other.locator("article.poll").filter(has_text="Rank the priorities").locator("table tr").nth(1)
    await expect(top).to_contain_text("Cost")

    await set_poll(server, code, poll["id"], "close")
    await expect(card).to_contain_text("Closed")
    await expect(card.get_by_role("button", name="Change answer")).to_have_count(0)
    assert phone_errors == [] and other_errors == []


async def test_moderator_opens_a_poll_and_the_screen_shows_hidden_results(server, browser):
    created = await server.create_event("Board meeting")
    code = created["event"]["code"]
    console = await (await browser.new_context(**LAPTOP)).new_page()
    console_errors = collect_errors(console)
    await console.goto(f"{server.url}/e/{code}/moderate")
    await console.get_by_label("Your pseudonym").fill("Robin")
    await console.get_by_label("Moderator secret").fill(created["moderator_secret"])
    await console.get_by_role("button", name="Sign in").click()
    await expect(console.locator("#me")).to_have_text("Robin")

    await console.get_by_text("Prepare a poll").click()
    await console.get_by_label("Poll question").fill("Which priority first?")
    await console.get_by_label("Options, one per line").fill("Access\nQuality\nCost")
    await console.get_by_label("Who sees the results").select_option("staff")
    await console.get_by_role("button", name="Save as draft").click()
    item = console.locator("#poll-admin-list li").filter(has_text="Which priority first?")
    await expect(item).to_contain_text("Draft")

    screen = await (await browser.new_context(**PROJECTOR)).new_page()
    screen_errors = collect_errors(screen)
    await screen.goto(f"{server.url}/e/{code}/screen#token={created['screen_token']}")
    await expect(screen.locator("#connection")).to_have_text("Live")
    await expect(screen.locator("#poll")).to_be_hidden()

    phone, phone_errors = await open_participant(browser, server, code, "I'm watching online")
    await phone.get_by_role("tab", name="Polls").click()
    await item.get_by_role("button", name="Open").click()
    card = phone.locator("article.poll").filter(has_text="Which priority first?")
    await card.get_by_label("Quality").check()
    await card.get_by_role("button", name="Send answer").click()
    await expect(card.locator(".poll-status")).to_contain_text("Your answer is saved")
    await expect(card).to_contain_text("Results will be shown later.")

    await expect(screen.locator("#poll-question")).to_have_text("Which priority first?")
    await expect(screen.locator("#poll table tr").filter(has_text="Quality").locator("td").first).to_have_text("1")
    await expect(screen.locator("#poll .bar-value").nth(1)).to_have_text("1")
    await expect(item.locator("table tr").filter(has_text="Quality").locator("td").first).to_have_text("1")
    await expect(card.locator("table")).to_have_count(0)

    await item.get_by_role("button", name="Close").click()
    await expect(item).to_contain_text("Closed")
    await expect(screen.locator("#poll")).to_be_hidden()
    await expect(card).to_contain_text("Closed")
    assert console_errors == [] and screen_errors == [] and phone_errors == []
