"""The participant page in a real browser: two phones, one asks, the other sees it and upvotes."""

from playwright.async_api import expect

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def collect_errors(page, allowed_status: str | None = None) -> list[str]:
    """Script errors and failed loads; a Socket.IO transport request that fails is retried by
    the client itself (a long-poll racing a closed session under load), so it is not one."""
    errors: list[str] = []

    def on_console(msg) -> None:
        url = (msg.location or {}).get("url", "")
        if msg.type != "error" or "/socket.io/" in url:
            return
        if allowed_status is not None and allowed_status in msg.text:
            return
        errors.append(msg.text)

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", on_console)
    return errors


async def open_participant(browser, server, code: str, attendance_label: str, name: str = ""):
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    if name:
        await page.get_by_label("Your name (optional)").fill(name)
    await page.get_by_role("button", name=attendance_label).click()
    await expect(page.get_by_label("Ask a question")).to_be_visible()
    return page, errors


async def test_two_participants_ask_and_upvote_live(server, event, browser):
    asker, asker_errors = await open_participant(browser, server, event["code"], "I'm in the room", "Priya")
    voter, voter_errors = await open_participant(browser, server, event["code"], "I'm watching online")

    text = "<b>How will our views reach the board?</b>"
    await asker.get_by_label("Ask a question").fill(text)
    await asker.get_by_role("button", name="Send").click()

    item = voter.locator("#questions li").filter(has_text=text)
    await expect(item).to_be_visible()
    await expect(item.locator(".q-text")).to_have_text(text)
    assert await voter.locator("#questions b").count() == 0
    await expect(item.locator(".author")).to_have_text("Priya")
    await expect(voter.locator("#announcer")).to_contain_text(text)

    await item.get_by_role("button", name=f"Upvote: {text} (0 votes)").click()
    await expect(item.locator(".vote")).to_have_attribute("aria-pressed", "true")
    mine = asker.locator("#questions li").filter(has_text=text)
    await expect(mine.locator(".count")).to_have_text("1")

    await voter.reload()
    await expect(voter.locator("#connection")).to_have_text("Connected")
    again = voter.locator("#questions li").filter(has_text=text)
    await expect(again.locator(".vote")).to_have_attribute("aria-pressed", "true")
    await expect(voter.get_by_label("Ask a question")).to_be_visible()
    await again.locator(".vote").click()
    await expect(mine.locator(".count")).to_have_text("0")

    assert asker_errors == [] and voter_errors == []


async def test_the_landing_page_finds_an_event_by_code(server, event, browser):
    page = await (await browser.new_context(**PHONE)).new_page()
    await page.goto(server.url)
    await page.get_by_label("Event code").fill(event["code"].lower())
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{server.url}/e/{event['code']}")
    await page.goto(server.url)
    await page.get_by_label("Event code").fill("ZZZZZZ")
    await page.get_by_role("button", name="Join").click()
    await expect(page.locator("#code-error")).to_contain_text("No event has the code ZZZZZZ")
