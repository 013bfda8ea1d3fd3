"""A moderator approves in a real browser; the question appears for participants and on the big screen."""

from playwright.async_api import expect

from test_browser_qa import collect_errors as browser_errors
from test_browser_qa import open_participant

LAPTOP = {"viewport": {"width": 1280, "height": 900}}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}


def collect_errors(page) -> list[str]:
    """The console's wrong-secret sign-in answers 403 on purpose; anything else is an error."""
    return browser_errors(page, allowed_status="403")


async def test_moderator_approves_and_puts_a_question_on_screen(server, browser, tmp_path):
    created = await server.create_event("Citizens' assembly", moderation="pre")
    code = created["event"]["code"]

    console = await (await browser.new_context(**LAPTOP)).new_page()
    console_errors = collect_errors(console)
    await console.goto(f"{server.url}/e/{code}/moderate")
    await console.get_by_label("Moderator secret").fill("wrong")
    await console.get_by_label("Your pseudonym").fill("Robin")
    await console.get_by_role("button", name="Sign in").click()
    await expect(console.locator("#login-error")).to_contain_text("not right")
    await console.get_by_label("Your pseudonym").fill("Robin")
    await console.get_by_label("Moderator secret").fill(created["moderator_secret"])
    await console.get_by_role("button", name="Sign in").click()
    await expect(console.locator("#me")).to_have_text("Robin")

    phone, phone_errors = await open_participant(browser, server, code, "I'm in the room", "Priya")
    text = "How will the assembly's <i>recommendations</i> be followed up?"
    await phone.get_by_label("Ask a question").fill(text)
    await phone.get_by_role("button", name="Send").click()
    mine = phone.locator("#mine-list li").filter(has_text=text)
    await expect(mine.locator(".q-status")).to_have_text("Pending review")
    await expect(phone.locator("#questions li")).to_have_count(0)

    queued = console.locator("#queue li").filter(has_text=text)
    await expect(queued).to_contain_text("1 asked")
    await console.keyboard.press("j")
    await expect(queued).to_have_class("selected")
    await console.keyboard.press("a")
    await expect(console.locator("#queue li")).to_have_count(0)

    shown = phone.locator("#questions li").filter(has_text=text)
    await expect(shown.locator(".q-text")).to_have_text(text)
    await expect(mine.locator(".q-status")).to_have_text("Published")

    screen = await (await browser.new_context(**PROJECTOR)).new_page()
    screen_errors = collect_errors(screen)
    await screen.goto(f"{server.url}/e/{code}/screen#token={created['screen_token']}")
    await expect(screen.locator("#connection")).to_have_text("Live")
    assert "#token" not in screen.url
    await expect(screen.locator("#top-list li")).to_have_text(["0 ▲" + text])
    assert await screen.locator("#qr").evaluate("img => img.complete && img.naturalWidth > 0")

    await console.locator("#published li").filter(has_text=text).get_by_role("button", name="On screen").click()
    await expect(screen.locator("#focus-text")).to_have_text(text)
    await expect(screen.locator("#focus-meta")).to_have_text("Priya, in the room")
    await screen.screenshot(path=tmp_path / "screen.png")

    await console.locator("#published li").filter(has_text=text).get_by_role("button", name="Answered").click()
    await expect(shown.locator(".answered")).to_be_visible()
    await expect(mine.locator(".q-status")).to_have_text("Answered")

    second = "Staff on ward 3 are all useless"
    await phone.get_by_label("Ask a question").fill(second)
    await phone.get_by_role("button", name="Send").click()
    held = console.locator("#queue li").filter(has_text=second)
    await held.get_by_role("button", name="Reject").click()
    await console.get_by_label("Reason (the author sees it)").select_option("abusive")
    await console.locator("#reject-form").get_by_role("button", name="Reject").click()
    await expect(phone.locator("#mine-list li").filter(has_text=second).locator(".q-status")).to_have_text("Rejected: abusive")

    record = await (await browser.new_context(**LAPTOP)).new_page()
    await record.goto(f"{server.url}/e/{code}/record")
    await expect(record.locator('dd[data-reason="abusive"]')).to_have_text("1")
    await expect(record.locator("#withheld-rows")).to_contain_text("Not shown (abusive)")
    assert second not in await record.content()
    assert console_errors == [] and phone_errors == [] and screen_errors == []
