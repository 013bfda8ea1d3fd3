"""The public record in a real browser: every published question, filtered and sorted, after the close."""

from playwright.async_api import expect

from moderators import moderator
from support import joined
from test_browser_moderation import LAPTOP, collect_errors

RESPONSE = "The <b>centre</b> opens in March.\nBooking starts in February."


async def test_the_record_page_lists_filters_and_sorts_published_questions(server, browser):
    created = await server.create_event("Development day 1")
    code = created["event"]["code"]
    room = await joined(server, code, "in_room", name="Ana")
    online = await joined(server, code, "remote")
    mod = await moderator(server, created)
    first = await room.ask("When will the community diagnostic centre open?")
    second = await online.ask("How are remote participants' views weighed?", anonymous=True)
    await online.ok("upvote", {"question_id": first["id"]})
    await mod.act("dispose", await mod.question(first["id"]), disposition="answered_in_writing", response=RESPONSE)
    await mod.act("dispose", await mod.question(second["id"]), disposition="referred", referred_to="The ICB board", due_date="2025-10-01")
    await server.api("POST", f"/api/events/{code}/close")

    page = await (await browser.new_context(**LAPTOP)).new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{code}/record")
    items = page.locator("#record-questions li")
    await expect(items).to_have_count(2)
    await expect(items.first).to_contain_text("When will the community diagnostic centre open?")
    await expect(items.first.locator(".response")).to_have_text(RESPONSE)
    await expect(items.first.locator(".meta")).to_contain_text("1 vote · In the room · Ana")
    await expect(items.nth(1)).to_contain_text("Referred to The ICB board (response due by 1 October 2025)")
    await expect(page.locator("#record-questions b")).to_have_count(0)

    await page.get_by_label("Sort by").select_option("newest")
    await expect(items.first).to_contain_text("remote participants")
    await page.get_by_label("Outcome").select_option("answered_in_writing")
    await expect(items).to_have_count(1)
    await page.get_by_label("Outcome").select_option("")
    await page.get_by_label("Asked from").select_option("remote")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Anonymous")
    await page.get_by_label("Contains").fill("nothing like this")
    await expect(page.locator("#questions-shown")).to_have_text("No published question matches.")
    assert errors == []
    for client in (room, online, mod):
        await client.close()
