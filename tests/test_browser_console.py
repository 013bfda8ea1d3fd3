"""The moderator console in a real browser: it fits a phone, its dialog and focus behave, its log reads as sentences."""

import pytest
from playwright.async_api import expect

import axe
from moderators import moderator
from support import joined
from test_browser_moderation import collect_errors
from test_polls import create_poll, set_poll

LONG = ("Will the board publish https://example.org/a-very-long-address-without-any-break-in-it-at-all "
        "and explain why the clinic closes early? ") * 3

#: Every element within the viewport's width, except inside a labelled region that scrolls itself.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
    .filter((el) => !el.closest('.hidden, .sr-only, [role=region][tabindex]') && el.getClientRects().length)
    .filter((el) => { const r = el.getBoundingClientRect(); return r.left < -1 || r.right > innerWidth + 1; })
    .map((el) => `${el.tagName}#${el.id}.${el.className}: ${Math.round(el.getBoundingClientRect().right)}`)"""


async def sign_in(browser, server, created, width: int, height: int = 740, name: str = "Robin"):
    page = await (await browser.new_context(viewport={"width": width, "height": height})).new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{created['event']['code']}/moderate")
    await page.get_by_label("Your pseudonym").fill(name)
    await page.get_by_label("Moderator secret").fill(created["moderator_secret"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#me")).to_have_text(name)
    return page, errors


async def focused(page) -> str:
    """What has focus: a card by its question number, a button by its accessible name, or the body."""
    return await page.evaluate("""() => {
        const el = document.activeElement;
        if (el === document.body) return 'body';
        if (el.matches('li[data-id]')) return `card #${el.dataset.id} in ${el.parentElement.id}`;
        return `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') || el.textContent.trim()}`;
    }""")


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_console_fits_a_phone_and_a_laptop(server, browser, width):
    created = await server.create_event("Citizens' assembly on the future of the clinic", moderation="pre")
    code = created["event"]["code"]
    author = await joined(server, code, "in_room", "Priya")
    first = await author.ask(LONG)
    await author.ask("When will the minutes be published?")
    mod = await moderator(server, created)
    await mod.act("approve", await mod.question(first["id"]))
    poll = await create_poll(server, code, {"kind": "single", "question": "Which proposal first? " * 5,
                                            "options": ["Widen the pavements between the market and the station",
                                                        "Plant trees"]})
    await set_poll(server, code, poll["id"], "open")
    page, errors = await sign_in(browser, server, created, width, 740 if width == 360 else 800)
    await expect(page.locator("#queue li")).to_have_count(1)
    await expect(page.locator("#poll-admin-list li")).to_have_count(1)
    await page.screenshot(path=f"/tmp/console-{width}.png", full_page=True)
    assert await page.evaluate(TOO_WIDE) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    for section in ("Review queue", "Published", "Polls", "Moderation log"):
        summary = page.locator("summary").filter(has_text=section)
        await summary.click()
        await expect(summary.locator("xpath=..")).not_to_have_attribute("open", "")
        await summary.click()
    await author.close()
    await mod.close()
    assert errors == []


async def test_the_reject_dialog_and_focus_after_every_action(server, browser):
    created = await server.create_event("Focus", moderation="pre")
    code = created["event"]["code"]
    author = await joined(server, code, "in_room", "Lee")
    texts = ["Why do buses stop at seven?", "Who maintains the park?", "When is the next meeting?"]
    ids = [(await author.ask(t))["id"] for t in texts]
    page, errors = await sign_in(browser, server, created, 1280, 800)
    await expect(page.locator("#queue li")).to_have_count(3)

    reject = page.get_by_role("button", name=f"Reject: {texts[0]}")
    await reject.click()
    dialog = page.get_by_role("dialog", name="Reject this question")
    await expect(dialog).to_be_visible()
    assert await dialog.get_attribute("aria-modal") == "true"
    assert await page.evaluate("!!document.activeElement.closest('dialog')")
    backdrop = await page.evaluate("getComputedStyle(document.querySelector('dialog'), '::backdrop').backgroundColor")
    assert backdrop not in ("", "transparent", "rgba(0, 0, 0, 0)"), backdrop
    assert await axe.violations(page) == []
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await focused(page) == f"button Reject: {texts[0]}"

    await reject.click()
    await page.get_by_label("Note to the author (optional)").fill("Please ask the transport board.")
    await page.get_by_label("Note to the author (optional)").press("Escape")
    await expect(dialog).to_be_hidden()
    await reject.click()
    await page.get_by_label("Reason (the author sees it)").select_option("off_topic")
    await dialog.get_by_role("button", name="Reject").click()
    await expect(page.locator("#queue li")).to_have_count(2)
    assert await focused(page) == f"card #{ids[1]} in queue"

    await page.get_by_role("button", name=f"Approve: {texts[1]}").click()
    await expect(page.locator("#queue li")).to_have_count(1)
    assert await focused(page) == f"card #{ids[2]} in queue"
    await page.keyboard.press("a")
    await expect(page.locator("#queue li")).to_have_count(0)
    assert await focused(page) == f"card #{ids[2]} in published"

    await page.get_by_role("button", name=f"On screen: {texts[2]}").click()
    await expect(page.get_by_role("button", name=f"Off screen: {texts[2]}")).to_be_visible()
    assert await focused(page) == f"card #{ids[2]} in published"
    other = await joined(server, code, "remote")
    await other.ok("upvote", {"question_id": ids[2]})
    await expect(page.locator(f"#published li[data-id='{ids[2]}'] .votes")).to_have_text("▲ 1")
    assert await focused(page) == f"card #{ids[2]} in published"

    news = page.locator("#queue-news")
    assert await news.get_attribute("role") == "status"
    await author.ask("Can the library open on Sundays?")
    await expect(news).to_have_text("New question to review: Can the library open on Sundays?")

    await create_poll(server, code, {"kind": "single", "question": "Was today useful?", "options": ["Yes", "No"]})
    await page.reload()
    await page.get_by_role("button", name="Open: Was today useful?").click()
    await expect(page.get_by_role("button", name="Close: Was today useful?")).to_be_focused()
    for client in (author, other):
        await client.close()
    assert errors == []


async def test_the_log_reads_as_sentences_and_the_console_sets_the_screen_mode(server, browser):
    created = await server.create_event("Sentences", moderation="pre")
    code = created["event"]["code"]
    author = await joined(server, code, "in_room", "Lee")
    question = await author.ask("What will happen to the clinic on Mill Lane?")
    page, errors = await sign_in(browser, server, created, 1280, 800)
    await page.get_by_role("button", name=f"Approve: {question['text']}").click()
    priya = await moderator(server, created, "Priya")
    await priya.act("dispose", await priya.question(question["id"]), disposition="referred",
                    referred_to="Healthwatch")
    poll = await create_poll(server, code, {"kind": "single", "question": "Was today useful?", "options": ["Yes", "No"]})
    await set_poll(server, code, poll["id"], "open")

    screen = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    await screen.goto(f"{server.url}/e/{code}/screen#token={created['screen_token']}")
    await expect(screen.locator("main")).to_have_attribute("data-show", "poll")
    await page.get_by_label("The question and the poll side by side").check()
    await expect(screen.locator("main")).to_have_attribute("data-show", "focus-poll")
    await page.get_by_label("Only the question in focus").check()
    await expect(screen.locator("main")).to_have_attribute("data-show", "focus")

    log = page.locator("#log li .sentence")
    await expect(log.first).to_have_text("Robin set the big screen to show only the question in focus")
    sentences = await log.all_text_contents()
    assert sentences[1:] == [
        "Robin set the big screen to show the question and the poll side by side",
        f"Priya referred #{question['id']} to Healthwatch",
        "Priya signed in",
        f"Robin approved #{question['id']}",
        "Robin signed in",
    ]
    await priya.close()
    await author.close()
    assert errors == []


async def test_a_moderator_enters_a_question_for_someone_without_a_device(server, browser):
    created = await server.create_event("Citizens' assembly")
    page, errors = await sign_in(browser, server, created, 360)
    await page.get_by_text("Enter a question for someone without a device").click()
    assert await page.evaluate(TOO_WIDE) == []
    assert await axe.violations(page) == []
    await page.get_by_label("Their question").fill("Can the clinic open on Saturdays?")
    await page.get_by_label("How it reached you").select_option("phone")
    await page.get_by_label("Watching online").check()
    await page.get_by_label("Their name (optional)").fill("Mrs Jones")
    await page.get_by_role("button", name="Enter the question").click()
    await expect(page.locator("#enter-done")).to_contain_text("Can the clinic open on Saturdays?")
    assert await page.get_by_label("Their question").input_value() == ""
    assert await page.evaluate("document.activeElement.id") == "enter-text"
    card = page.locator("#published li").filter(has_text="Can the clinic open on Saturdays?")
    await expect(card).to_contain_text("By phone")
    await expect(page.locator("#log li").first).to_contain_text("Robin entered #1, which came by phone")

    await page.get_by_label("Their question").fill("Could the clinic open on Saturday?")
    await page.get_by_role("button", name="Enter the question").click()
    await expect(page.locator("#enter-error")).to_contain_text("very similar")
    await page.get_by_role("button", name="Enter it anyway").click()
    await expect(page.locator("#published li")).to_have_count(2)
    await expect(page.get_by_role("button", name="Enter it anyway")).to_be_hidden()
    await page.locator("#enter-panel").screenshot(path="/tmp/console-enter-360.png")
    mod = await moderator(server, created)
    entered = await mod.question(1)
    assert (entered["channel"], entered["attendance"], entered["author_name"]) == ("phone", "remote", None)
    await mod.close()
    assert errors == []


async def open_dialog(page, action: str, text: str, title: str):
    """Open an action's dialog from its card's button; it is modal, named with the question, holds focus."""
    opener = page.get_by_role("button", name=f"{action}: {text}")
    await opener.click()
    dialog = page.get_by_role("dialog", name=f"{title} {text}")
    await expect(dialog).to_be_visible()
    assert await dialog.get_attribute("aria-modal") == "true"
    assert await page.evaluate("!!document.activeElement.closest('dialog[open]')")
    return opener, dialog


async def escape_returns_focus(page, dialog, action: str, text: str) -> None:
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await focused(page) == f"button {action}: {text}"


async def test_the_edit_dialog_replaces_the_prompt(server, browser):
    created = await server.create_event("Edit", moderation="pre")
    author = await joined(server, created["event"]["code"], "in_room", "Lee")
    asked = await author.ask("Why do the busses stop at seven?")
    page, errors = await sign_in(browser, server, created, 360)
    await expect(page.locator("#queue li")).to_have_count(1)
    page.on("dialog", lambda d: errors.append(f"window dialog: {d.message}"))

    opener, dialog = await open_dialog(page, "Edit", asked["text"], "Edit this question")
    field = dialog.get_by_label("New wording (the original is kept in the log)")
    await expect(field).to_be_focused()
    await expect(field).to_have_value(asked["text"])
    assert await axe.violations(page) == []
    await escape_returns_focus(page, dialog, "Edit", asked["text"])

    await opener.click()
    await field.fill("   ")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("alert")).not_to_be_empty()
    await expect(dialog).to_be_visible()
    await expect(field).to_have_attribute("aria-invalid", "true")
    await field.fill("Why do the buses stop at seven?")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(f"#queue li[data-id='{asked['id']}'] .q-text")).to_have_text(f"#{asked['id']} Why do the buses stop at seven?")
    assert await focused(page) == f"card #{asked['id']} in queue"
    await author.close()
    assert errors == []


async def test_the_merge_dialog_replaces_the_prompt(server, browser):
    created = await server.create_event("Merge")
    author = await joined(server, created["event"]["code"], "in_room", "Lee")
    kept = await author.ask("When is the next meeting?")
    merged = await author.ask("When do we meet next?", allow_duplicate=True)
    last = await author.ask("Who maintains the park?")
    page, errors = await sign_in(browser, server, created, 1280, 800)
    await expect(page.locator("#published li")).to_have_count(3)
    page.on("dialog", lambda d: errors.append(f"window dialog: {d.message}"))

    opener, dialog = await open_dialog(page, "Merge…", merged["text"], "Merge this question into another")
    field = dialog.get_by_label("Number of the question to merge it into")
    await expect(field).to_be_focused()
    targets = await page.locator("#merge-targets option").evaluate_all("(os) => os.map((o) => o.label)")
    assert f"#{kept['id']}: {kept['text']}" in targets and not any(merged["text"] in t for t in targets)
    assert await axe.violations(page) == []
    await escape_returns_focus(page, dialog, "Merge…", merged["text"])

    await opener.click()
    await field.fill("the first one")
    await dialog.get_by_role("button", name="Merge").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Give the number of a question, such as 12.")
    await field.fill("999999")
    await dialog.get_by_role("button", name="Merge").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("999999")
    await expect(dialog).to_be_visible()
    await field.fill(str(kept["id"]))
    await dialog.get_by_role("button", name="Merge").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#published li")).to_have_count(2)
    assert await focused(page) in (f"card #{kept['id']} in published", f"card #{last['id']} in published")
    await author.close()
    assert errors == []


async def test_the_label_dialog_replaces_the_prompt(server, browser):
    created = await server.create_event("Label")
    code = created["event"]["code"]
    author = await joined(server, code, "in_room", "Lee")
    asked = await author.ask("Will the bus lane on the high street stay?")
    page, errors = await sign_in(browser, server, created, 360)
    await expect(page.locator("#published li")).to_have_count(1)
    page.on("dialog", lambda d: errors.append(f"window dialog: {d.message}"))

    opener, dialog = await open_dialog(page, "Label", asked["text"], "Label this question")
    field = dialog.get_by_label("Topic (empty to remove the label)")
    await expect(field).to_be_focused()
    assert await axe.violations(page) == []
    await escape_returns_focus(page, dialog, "Label", asked["text"])

    await opener.click()
    await field.fill("Transport " * 5)
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("alert")).not_to_be_empty()
    await expect(dialog).to_be_visible()
    await field.fill("Transport")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    assert await focused(page) == f"card #{asked['id']} in published"
    mod = await moderator(server, created)
    assert (await mod.question(asked["id"]))["topic"] == "Transport"
    await opener.click()
    await expect(field).to_have_value("Transport")
    await page.keyboard.press("Escape")
    for client in (author, mod):
        await client.close()
    assert errors == []
