"""Email receipts: authors leave an address, get the written response, and can take it back."""

import asyncio
import json
import time
from email import message_from_bytes, policy

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import expect

from moderators import moderator
from support import ORGANISER_TOKEN, free_port, joined, running_server
from test_browser_qa import open_participant

EMAIL = "sam.author@example.org"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    async def wait(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} messages, expected {count}"
            await asyncio.sleep(0.02)


@pytest.fixture
def inbox():
    """A real SMTP server on a free loopback port."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@pytest.fixture
async def mail_server(settings, inbox):
    port, _ = inbox
    http_port = free_port()
    # Links in mail point at the public URL; the test's browser opens the loopback address.
    configured = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "assembly@example.org",
                "public_url": "https://live.example.org", "port": http_port,
                "allowed_origins": f"http://127.0.0.1:{http_port}"}
    )
    async with running_server(configured, http_port) as srv:
        yield srv


async def _raw(server, path: str) -> str:
    headers = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}
    async with aiohttp.ClientSession() as http, http.get(server.url + path, headers=headers) as res:
        assert res.status == 200, path
        return await res.text()


async def test_authors_get_written_responses_by_email_until_they_delete_their_address(mail_server, inbox):
    _, handler = inbox
    created = await mail_server.create_event("Citizens' assembly")
    code = created["event"]["code"]
    author = await joined(mail_server, code, "remote", name="Sam")
    other = await joined(mail_server, code, "in_room")
    mod = await moderator(mail_server, created)
    assert (await author.snapshot())["receipts"] is True
    asked = await author.ask("When will the new community diagnostic centre open?")
    assert await author.ok("receipt_set", {"email": f"  {EMAIL} "}) == {"email": EMAIL}
    assert (await author.snapshot())["me"]["receipt_email"] == EMAIL

    q = await mod.question(asked["id"])
    response = "The centre opens in March.\n\nBooking starts in February."
    q = await mod.act("dispose", q, disposition="answered_in_writing", response=response)
    await handler.wait(1)
    recipients, message = handler.messages[0]
    assert recipients == [EMAIL]
    assert (message["To"], message["From"]) == (EMAIL, "assembly@example.org")
    body = message.get_content().replace("\r\n", "\n")
    assert asked["text"] in body and response in body
    assert f"https://live.example.org/e/{code}/record" in body

    # The address is the author's alone: never exported, never in anyone else's view.
    for path in [f"/api/events/{code}/export.json", f"/api/events/{code}/export.json?names=true"] + [
        f"/api/events/{code}/export.csv?table={t}"
        for t in ("questions", "polls", "moderation_log", "participation")
    ]:
        assert EMAIL not in await _raw(mail_server, path), path
    assert EMAIL not in json.dumps(await other.snapshot())
    assert EMAIL not in json.dumps(await mod.ok("snapshot"))
    assert EMAIL not in json.dumps(await mail_server.api("GET", f"/api/events/{code}/record/questions"))

    # A revised response is sent again; once the address is deleted, nothing more is sent.
    q = await mod.act("dispose", q, disposition="answered_in_writing", response="Opens in April.")
    await handler.wait(2)
    assert "Opens in April." in handler.messages[1][1].get_content()
    assert await author.ok("receipt_delete") == {"deleted": True}
    assert (await author.snapshot())["me"]["receipt_email"] is None
    await mod.act("dispose", q, disposition="answered_in_writing", response="Opens in May.")
    await asyncio.sleep(0.3)
    assert len(handler.messages) == 2
    for client in (author, other, mod):
        await client.close()


async def test_receipt_addresses_are_validated_and_need_a_participant(mail_server):
    code = (await mail_server.create_event())["event"]["code"]
    author = await joined(mail_server, code)
    for bad in ["not-an-email", "a@b", "two@@example.org", "sp ace@example.org", "", 42,
                "x" * 250 + "@example.org"]:
        refused = await author.call("receipt_set", {"email": bad})
        assert refused["error"]["code"] == "invalid", bad
    assert (await author.call("receipt_set", {"email": EMAIL, "extra": 1}))["error"]["code"] == "invalid"
    assert (await author.call("receipt_delete", {"email": EMAIL}))["error"]["code"] == "invalid"
    assert await author.ok("receipt_delete") == {"deleted": False}
    await author.close()


async def test_without_an_smtp_host_no_receipts_are_offered_or_kept(server):
    code = (await server.create_event())["event"]["code"]
    author = await joined(server, code)
    snapshot = await author.snapshot()
    assert snapshot["receipts"] is False and snapshot["me"]["receipt_email"] is None
    assert (await author.call("receipt_set", {"email": EMAIL}))["error"]["code"] == "invalid"
    await author.close()


async def test_a_broken_smtp_server_never_breaks_a_disposition(settings):
    broken = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    async with running_server(broken) as srv:
        created = await srv.create_event()
        code = created["event"]["code"]
        author = await joined(srv, code)
        asked = await author.ask("Who pays for the new centre?")
        await author.ok("receipt_set", {"email": EMAIL})
        status, body = await srv.api(
            "POST", f"/api/events/{code}/questions/{asked['id']}/disposition",
            {"disposition": "answered_in_writing", "response": "The ICB does."},
        )
        assert status == 200 and body["data"]["question"]["response"] == "The ICB does."
        await author.close()


async def test_the_participant_page_leaves_and_deletes_the_address(mail_server, browser):
    code = (await mail_server.create_event())["event"]["code"]
    page, errors = await open_participant(browser, mail_server, code, "I'm watching online")
    await page.get_by_label("Ask a question").fill("Will the minutes be published?")
    await page.get_by_role("button", name="Send").click()
    await page.get_by_label("Your email address").fill("not an address")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#receipt-error")).not_to_be_empty()
    await page.get_by_label("Your email address").fill(EMAIL)
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#receipt-current")).to_contain_text(EMAIL)
    await page.reload()
    await expect(page.locator("#receipt-current")).to_contain_text(EMAIL)
    await page.get_by_role("button", name="Delete my address").click()
    await expect(page.get_by_label("Your email address")).to_be_visible()
    await expect(page.locator("#receipt-current")).to_be_empty()
    assert errors == []


async def test_the_participant_page_hides_receipts_without_smtp(server, browser):
    code = (await server.create_event())["event"]["code"]
    page, errors = await open_participant(browser, server, code, "I'm in the room")
    await page.get_by_label("Ask a question").fill("Will the minutes be published?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#mine-section")).to_be_visible()
    await expect(page.locator("#receipt-form")).to_be_hidden()
    assert errors == []
