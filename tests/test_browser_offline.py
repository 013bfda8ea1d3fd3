"""The participant page offline: what a person does is kept, shown as waiting, and sent once."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from playwright.async_api import expect

from support import Client, joined
from test_browser_qa import PHONE, open_participant
from test_polls import KINDS, create_poll, set_poll, staff_polls

WAITING = "Waiting to send"
#: Longer than the page's 10 s wait for an ack, far shorter than engine.io's 45 s ping timeout.
STALL_NOTICED = 20_000


class StallingLine:
    """A loopback TCP relay standing for the network, which can stop carrying bytes without closing."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.tasks: set[asyncio.Task] = set()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                await self.flowing.wait()
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        for task in (self._pump(reader, up_writer), self._pump(up_reader, writer)):
            self.tasks.add(asyncio.create_task(task))

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def questions(server, code: str) -> list[dict]:
    """The questions as a fresh participant's snapshot has them."""
    viewer = await Client(server, code).connect()
    try:
        return (await viewer.snapshot())["questions"]
    finally:
        await viewer.close()


async def test_a_question_vote_and_answer_made_offline_are_sent_once_on_reconnect(server, event, browser):
    code = event["code"]
    other = await joined(server, code)
    await other.ask("Will the minutes be published?")
    await other.close()
    poll = await create_poll(server, code, KINDS["single"])
    await set_poll(server, code, poll["id"], "open")
    page, errors = await open_participant(browser, server, code, "I'm in the room")
    connection = page.locator("#connection")

    await page.context.set_offline(True)
    await expect(connection).to_have_text("Reconnecting…")

    theirs = page.locator("#questions li").filter(has_text="Will the minutes be published?")
    await theirs.locator(".vote").click()
    await expect(theirs).to_contain_text(WAITING)
    await page.get_by_label("Ask a question").fill("Who chairs the next session?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#ask-form .waiting")).to_contain_text(f"{WAITING}: “Who chairs the next session?”")
    await expect(page.get_by_label("Ask a question")).to_have_value("")
    await page.get_by_role("tab", name="Polls").click()
    card = page.locator("article.poll").filter(has_text="Which day suits you?")
    await card.get_by_label("Tue").check()
    await card.get_by_role("button", name="Send answer").click()
    await expect(card).to_contain_text(WAITING)
    await expect(connection).to_have_text("Reconnecting…")

    await page.context.set_offline(False)
    await expect(connection).to_have_text("Connected")
    await expect(card.locator(".poll-status")).to_contain_text("Your answer is saved")
    await expect(page.get_by_text(WAITING)).to_have_count(0)
    await page.get_by_role("tab", name="Questions").click()
    await expect(theirs.locator(".vote")).to_have_attribute("aria-pressed", "true")

    stored = await questions(server, code)
    assert sorted(q["text"] for q in stored) == ["Who chairs the next session?", "Will the minutes be published?"]
    assert [q["votes"] for q in stored if q["text"] == "Will the minutes be published?"] == [1]
    results = (await staff_polls(server, code))[poll["id"]]["results"]
    assert results["responses"]["all"] == 1, results
    assert errors == []


async def test_a_question_asked_offline_survives_closing_the_page(server, event, browser):
    code = event["code"]
    page, _ = await open_participant(browser, server, code, "I'm watching online")
    context = page.context
    await context.set_offline(True)
    await expect(page.locator("#connection")).to_have_text("Reconnecting…")
    await page.get_by_label("Ask a question").fill("Can we hear from the youth panel?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#ask-form")).to_contain_text(WAITING)
    await page.close()

    await context.set_offline(False)
    again = await context.new_page()
    await again.goto(f"{server.url}/e/{code}")
    await expect(again.locator("#mine-list")).to_contain_text("Can we hear from the youth panel?")
    await expect(again.get_by_text(WAITING)).to_have_count(0)
    await again.reload()
    await expect(again.locator("#connection")).to_have_text("Connected")
    assert [q["text"] for q in await questions(server, code)] == ["Can we hear from the youth panel?"]


async def test_a_stalled_connection_shows_reconnecting_and_its_vote_lands_once(server, event, browser):
    code = event["code"]
    other = await joined(server, code)
    await other.ask("Is the budget final?")
    await other.close()
    line = StallingLine(int(server.url.rsplit(":", 1)[1]))
    async with line.serving() as url:
        context = await browser.new_context(**PHONE)
        page = await context.new_page()
        await page.goto(f"{url}/e/{code}")
        connection = page.locator("#connection")
        await expect(connection).to_have_text("Connected")
        await page.get_by_role("button", name="I'm watching online").click()
        await expect(page.get_by_label("Ask a question")).to_be_visible()

        line.flowing.clear()
        item = page.locator("#questions li").filter(has_text="Is the budget final?")
        await item.locator(".vote").click()
        await expect(item).to_contain_text(WAITING, timeout=STALL_NOTICED)
        await expect(connection).to_have_text("Reconnecting…")

        line.flowing.set()
        await expect(connection).to_have_text("Connected", timeout=STALL_NOTICED)
        await expect(item.locator(".vote")).to_have_attribute("aria-pressed", "true")
        await expect(page.get_by_text(WAITING)).to_have_count(0)
        await expect(page.get_by_text("You are offline")).to_have_count(0)
    assert [q["votes"] for q in await questions(server, code)] == [1]
