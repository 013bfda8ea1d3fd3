"""The printable report for the board in a real browser: figures, dispositions, public poll results."""

from playwright.async_api import expect

from support import joined
from test_browser_moderation import LAPTOP, collect_errors
from test_polls import create_poll, set_poll


async def test_the_report_page_shows_the_event_for_the_board_and_prints_cleanly(server, browser):
    created = await server.create_event("Citizens' assembly")
    code = created["event"]["code"]
    room = await joined(server, code, "in_room", name="Ana")
    online = await joined(server, code, "remote")
    first = await room.ask("When will the community diagnostic centre open?")
    await online.ask("How are remote participants' views weighed?")
    await online.ok("upvote", {"question_id": first["id"]})
    status, _ = await server.api(
        "POST",
        f"/api/events/{code}/questions/{first['id']}/disposition",
        {"disposition": "answered_in_writing", "response": "It opens in March."},
    )
    assert status == 200
    spec = {"kind": "single", "question": "Was today useful?", "options": ["Yes", "No"]}
    poll = await create_poll(server, code, spec)
    hidden = await create_poll(server, code, {**spec, "question": "Staff eyes only?"}, visibility="staff")
    for p in (poll, hidden):
        await set_poll(server, code, p["id"], "open")
    await room.ok("answer", {"poll_id": poll["id"], "value": 0})
    await online.ok("answer", {"poll_id": poll["id"], "value": 1})
    await online.ok("answer", {"poll_id": hidden["id"], "value": 1})
    for p in (poll, hidden):
        await set_poll(server, code, p["id"], "close")
    await server.api("POST", f"/api/events/{code}/close")

    page = await (await browser.new_context(**LAPTOP)).new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{code}/report")
    figures = {
        "received": "2", "published": "2", "answered": "1", "votes": "1",
        "in_room": "1", "remote": "1", "poll_answers": "3",
    }
    for key, value in figures.items():
        await expect(page.locator(f"#headline dd[data-figure={key}]")).to_have_text(value)
    top = page.locator("#top-questions li")
    await expect(top).to_have_count(2)
    await expect(top.first.locator(".disposition")).to_have_text("Answered in writing")
    await expect(top.first.locator(".response")).to_have_text("It opens in March.")
    polls = page.locator("#report-polls .poll")
    await expect(polls).to_have_count(1)
    await expect(polls.first).to_contain_text("Was today useful?")
    await expect(polls.first.locator("table")).to_contain_text("Yes")
    await expect(polls.first.locator(".responses")).to_have_text("2 answers (1 in the room, 1 online)")
    await expect(page.locator("#balance-rows tr[data-row=votes] td")).to_have_text(["0", "1"])
    await expect(page.locator("#moderation dd[data-figure=withheld]")).to_have_text("0")
    await expect(page.locator("#print")).to_be_visible()

    await page.emulate_media(media="print")
    await expect(page.locator("#print")).to_be_hidden()
    await expect(page.locator("#record-link")).to_be_hidden()
    assert errors == []
    for client in (room, online):
        await client.close()


async def test_the_record_page_links_to_the_report(server, browser):
    code = (await server.create_event("Development day 1"))["event"]["code"]
    page = await (await browser.new_context(**LAPTOP)).new_page()
    await page.goto(f"{server.url}/e/{code}/record")
    await page.get_by_role("link", name="Printable report for the board").click()
    await expect(page).to_have_url(f"{server.url}/e/{code}/report")
    await expect(page.locator("#report-title")).to_have_text("Report: Development day 1")
