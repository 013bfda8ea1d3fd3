"""The console after the session, in a real browser: series and carry-over, one outcome for
several questions, and the preview of the public record."""

import json
import re

import aiohttp
from playwright.async_api import expect

from moderators import moderator
from support import ORGANISER_TOKEN, joined
from test_browser_organise import LAPTOP, PHONE, check, create_event, sign_in


async def log_of(server, code: str) -> list[dict]:
    """The event's moderation log, from its export."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/events/{code}/export.json",
                            headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}) as res:
            return json.loads(await res.text())["events"][0]["moderation_log"]


async def new_event(page, server, title: str) -> str:
    await page.goto(server.url + "/organise")
    return await create_event(page, title)


async def test_events_are_grouped_in_a_series_and_questions_carried_over_from_the_console(server, browser):
    page = await sign_in(browser, server, LAPTOP)
    first = await new_event(page, server, "Assembly, day one")
    second = await new_event(page, server, "Assembly, day two")
    author = await joined(server, first, name="Sam")
    try:
        kept = await author.ask("Will the minutes be published?")
        await author.ask("Who maintains the parks?")
    finally:
        await author.close()

    await page.goto(f"{server.url}/organise/events/{first}")
    await page.get_by_role("link", name="Series and carry-over").click()
    await expect(page.get_by_role("heading", name="Carry unanswered questions over")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("Put this event in a series first")
    await page.get_by_label("Series name").fill("Not a name!")
    await page.get_by_role("button", name="Save the series").click()
    await expect(page.get_by_label("Series name")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Series name")).to_have_value("Not a name!")
    await page.get_by_label("Series name").fill("assembly-2026")
    await page.get_by_role("button", name="Save the series").click()
    await expect(page.get_by_role("status")).to_have_text("Filed in the series assembly-2026.")
    await page.goto(f"{server.url}/organise/events/{first}")
    await page.get_by_role("button", name="Close the event").click()

    await page.goto(f"{server.url}/organise/events/{second}/series")
    await expect(page.locator("#known-series option")).to_have_attribute("value", "assembly-2026")
    await page.get_by_label("Series name").fill("assembly-2026")
    await page.get_by_role("button", name="Save the series").click()
    await expect(page.get_by_label(re.compile("Assembly, day one"))).to_be_checked()
    carry = page.get_by_role("button", name="Carry the unanswered questions into Assembly, day two")
    await carry.click()
    await expect(page.get_by_role("status")).to_have_text(f"Carried 2 questions over from {first}.")
    await carry.click()
    await expect(page.get_by_role("status")).to_have_text(f"Carried 0 questions over from {first}.")

    _, body = await server.api("GET", f"/api/events/{second}/record/questions")
    carried = body["data"]["questions"]
    assert sorted(q["text"] for q in carried) == ["Who maintains the parks?", "Will the minutes be published?"]
    assert {q["carried_from"] for q in carried} >= {kept["id"]}
    log = await log_of(server, second)
    assert [(e["action"], e["moderator"]) for e in log if e["action"] == "carry"] == [
        ("carry", "Priya Shah"), ("carry", "Priya Shah")]

    await page.goto(f"{server.url}/organise/events/{second}")
    await page.get_by_role("button", name="Close the event").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("The event is closed"))
    await page.goto(f"{server.url}/organise/events/{second}/series")
    await expect(page.locator("main")).to_contain_text("This event is closed, so no question can be carried into it")
    await page.get_by_label("Series name").fill("")
    await page.get_by_role("button", name="Save the series").click()
    await expect(page.get_by_role("status")).to_have_text("No longer in a series.")


async def test_several_questions_get_one_outcome_in_one_submit_without_javascript(server, browser):
    page = await sign_in(browser, server, PHONE, name="Robin Okafor", javascript=False)
    code = await new_event(page, server, "Town hall")
    author = await joined(server, code, name="Sam")
    try:
        asked = [await author.ask(text) for text in (
            "Who maintains the parks?", "When is the bin collection changing?",
            "Why was the library closed?")]
    finally:
        await author.close()
    await page.goto(f"{server.url}/organise/events/{code}")
    await page.get_by_role("button", name="Close the event").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("The event is closed"))
    await page.goto(f"{server.url}/organise/events/{code}/after")
    await page.locator("summary", has_text="Give several questions one outcome").click()
    bulk = page.locator("form[action$='/outcomes']")
    await bulk.get_by_role("button", name="Save the outcome for the questions ticked").click()
    await expect(page.get_by_role("alert")).to_have_text("Tick at least one question to give it this outcome.")

    await page.get_by_role("link", name="Select all").click()
    bulk = page.locator("form[action$='/outcomes']")
    for question in asked:
        await expect(bulk.get_by_label(question["text"])).to_be_checked()
    await bulk.get_by_label("Why was the library closed?").uncheck()
    await bulk.get_by_label("Referred to another body").check()
    await bulk.get_by_role("button", name="Save the outcome for the questions ticked").click()
    await expect(page.get_by_role("alert")).to_contain_text("needs the body it is referred to")
    bulk = page.locator("form[action$='/outcomes']")
    await expect(bulk.get_by_label("Who maintains the parks?")).to_be_checked()
    await expect(bulk.get_by_label("Why was the library closed?")).not_to_be_checked()
    await expect(bulk.get_by_label("Referred to another body")).to_be_checked()
    await bulk.get_by_label("Referred to", exact=True).fill("Parks and waste team")
    await bulk.get_by_role("button", name="Save the outcome for the questions ticked").click()
    await expect(page.get_by_role("status")).to_have_text("Outcome saved for 2 questions.")
    await expect(page.get_by_role("link", name="Without an outcome (1)")).to_be_visible()

    _, body = await server.api("GET", f"/api/events/{code}/record/questions")
    outcomes = {q["text"]: (q["disposition"], q["referred_to"]) for q in body["data"]["questions"]}
    assert outcomes == {
        "Who maintains the parks?": ("referred", "Parks and waste team"),
        "When is the bin collection changing?": ("referred", "Parks and waste team"),
        "Why was the library closed?": ("open", None),
    }
    disposed = [(e["question_id"], e["moderator"]) for e in await log_of(server, code)
                if e["action"] == "dispose"]
    assert sorted(disposed) == [(asked[0]["id"], "Robin Okafor"), (asked[1]["id"], "Robin Okafor")]

    await page.locator("summary", has_text="Give several questions one outcome").click()
    bulk = page.locator("form[action$='/outcomes']")
    await bulk.get_by_label("Why was the library closed?").check()
    await bulk.get_by_label("Answered live").check()
    await bulk.locator("input[name=csrf]").evaluate("(input) => { input.value = 'forged'; }")
    await bulk.get_by_role("button", name="Save the outcome for the questions ticked").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    _, body = await server.api("GET", f"/api/events/{code}/record/questions")
    assert [q["disposition"] for q in body["data"]["questions"]].count("open") == 1


ABUSIVE = "Ward 7 staff are useless idiots and should be sacked"
OFF_TOPIC = "Who will win the football on Saturday?"


async def test_the_preview_shows_what_the_public_record_shows(server, browser):
    page = await sign_in(browser, server, LAPTOP)
    code = await new_event(page, server, "Health board")
    secret = await page.locator(".secret code").first.inner_text()
    mod = await moderator(server, {"event": {"code": code}, "moderator_secret": secret})
    author = await joined(server, code, attendance="remote", name="Sam")
    try:
        answered = await author.ask("What is the plan for mental health services?")
        await author.ask("How will the new ambulance hub reduce waits?")
        for text, reason in ((ABUSIVE, "abusive"), (OFF_TOPIC, "off_topic")):
            asked = await author.ask(text, allow_duplicate=True)
            await mod.act("reject", await mod.question(asked["id"]), reason=reason)
    finally:
        await author.close()
        await mod.close()
    await page.goto(f"{server.url}/organise/events/{code}/after")
    item = page.locator(f"#q-{answered['id']}")
    await item.get_by_label("Answered in writing").check()
    await item.get_by_label("Written response, or the reason for declining").fill("A new crisis line opens in May.")
    await item.get_by_role("button", name=re.compile("^Save the outcome")).click()

    await page.get_by_role("link", name="Preview the public record").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Preview of the public record")
    preview = await figures(page)
    questions = await page.locator("#record-questions li").evaluate_all(
        "(items) => items.map((li) => [li.dataset.id, li.dataset.disposition])")
    assert preview["withheld"] == "2" and preview["abusive"] == "1" and preview["off_topic"] == "1"
    await expect(page.locator("main")).to_contain_text("Not shown (abusive)")
    await expect(page.locator("main")).to_contain_text(OFF_TOPIC)
    await expect(page.locator("main")).not_to_contain_text("idiots")
    await expect(page.locator("main")).to_contain_text("A new crisis line opens in May.")

    public = await (await browser.new_context(viewport=LAPTOP)).new_page()
    await public.goto(f"{server.url}/e/{code}/record")
    await expect(public.locator("#record-questions li")).to_have_count(2)
    assert await figures(public) == preview
    assert await public.locator("#record-questions li").evaluate_all(
        "(items) => items.map((li) => [li.dataset.id, li.dataset.disposition])") == questions
    assert await public.locator("#withheld-rows td:last-child").all_inner_texts() == \
        await page.locator("tbody td:last-child").all_inner_texts()
    await page.set_viewport_size(PHONE)
    await check(page, "preview with withheld questions", PHONE["width"])


async def figures(page) -> dict:
    """Every figure and withheld-by-reason count on a record page, by its key."""
    return await page.locator("#counts dd").evaluate_all(
        "(dds) => Object.fromEntries(dds.map((dd) => [dd.dataset.figure || dd.dataset.reason, dd.textContent.trim()]))")
