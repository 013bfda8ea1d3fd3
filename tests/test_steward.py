"""Stewards and moderators enter questions for people without a device; channels reach every count."""

import csv
import io
import json

import aiohttp
import pytest
import socketio
from playwright.async_api import expect
from yarl import URL

import axe

from live.services import steward as steward_service
from moderators import Moderator, moderator
from support import ORGANISER_TOKEN, Server, StoreSQL, joined, running_server
from test_browser_qa import collect_errors
from test_hardening_forms_and_headers import MALFORMED_FORMS

AUTH = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}
JSON = {"Accept": "application/json"}


class Steward:
    """A steward's browser: a cookie jar, the sign-in form and the entry form."""

    def __init__(self, server: Server, code: str) -> None:
        self.server = server
        self.code = code
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, secret: str, pseudonym: str = "Sam") -> aiohttp.ClientResponse:
        async with self.http.post(
            f"{self.server.url}/e/{self.code}/steward",
            data={"secret": secret, "pseudonym": pseudonym},
            allow_redirects=False,
        ) as res:
            await res.read()
            return res

    async def enter(self, text: str, *, accept_json: bool = True, **fields) -> tuple[int, dict | str]:
        form = {"text": text, "channel": "paper", "attendance": "in_room", **fields}
        async with self.http.post(
            f"{self.server.url}/e/{self.code}/steward/questions",
            data=form,
            headers=JSON if accept_json else {},
            allow_redirects=False,
        ) as res:
            if accept_json:
                return res.status, await res.json()
            return res.status, res.headers.get("Location", "")

    async def entries(self) -> tuple[int, dict]:
        async with self.http.get(f"{self.server.url}/api/events/{self.code}/steward/questions") as res:
            return res.status, await res.json()

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def steward(server):
    created = await server.create_event("Citizens' assembly")
    person = Steward(server, created["event"]["code"])
    yield created, person
    await person.close()


async def fetch(server, path: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + path, headers=AUTH) as res:
            assert res.status == 200, await res.text()
            return await res.text()


async def test_a_new_event_has_a_steward_secret_shown_once(server):
    created = await server.create_event("Assembly")
    assert len(created["steward_secret"]) >= 16
    assert created["event"]["links"]["steward"].endswith(f"/e/{created['event']['code']}/steward")
    status, body = await server.api("GET", "/api/events")
    assert status == 200 and created["steward_secret"] not in json.dumps(body)


async def test_a_steward_signs_in_with_the_secret_and_not_otherwise(steward):
    created, person = steward
    code = created["event"]["code"]
    wrong = await person.sign_in("not-the-secret")
    assert wrong.status == 303
    assert wrong.headers["Location"] == f"/e/{code}/steward?failed=forbidden"
    status, _ = await person.entries()
    assert status == 403

    moderator_secret = await person.sign_in(created["moderator_secret"])
    assert moderator_secret.headers["Location"].endswith("failed=forbidden")

    good = await person.sign_in(created["steward_secret"])
    assert good.status == 303 and good.headers["Location"] == f"/e/{code}/steward"
    cookie = good.headers["Set-Cookie"]
    assert f"live_steward_{code}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, body = await person.entries()
    assert status == 200, body
    assert body["data"]["me"] == {"pseudonym": "Sam"}
    assert body["data"]["questions"] == []


async def test_steward_sign_in_is_rate_limited(settings):
    limited = settings.model_copy(update={"signin_limit": 2})
    async with running_server(limited) as server:
        created = await server.create_event("Assembly")
        person = Steward(server, created["event"]["code"])
        try:
            for _ in range(2):
                assert (await person.sign_in("guess")).headers["Location"].endswith("failed=forbidden")
            refused = await person.sign_in(created["steward_secret"])
            assert "failed=rate_limited" in refused.headers["Location"]
            assert int(refused.headers["Retry-After"]) >= 1
        finally:
            await person.close()


async def test_an_event_from_before_stewards_has_none_until_an_organiser_sets_one(steward, server):
    created, person = steward
    code = created["event"]["code"]
    StoreSQL(server.settings).execute("UPDATE events SET steward_secret_hash = NULL WHERE code = ?", (code,))
    assert (await person.sign_in(created["steward_secret"])).headers["Location"].endswith("failed=forbidden")
    status, body = await server.api("POST", f"/api/events/{code}/steward-secret")
    assert status == 200
    assert (await person.sign_in(body["data"]["steward_secret"])).headers["Location"] == f"/e/{code}/steward"


async def test_a_steward_cannot_moderate(steward, server):
    created, person = steward
    await person.sign_in(created["steward_secret"])
    code = created["event"]["code"]
    cookie = person.http.cookie_jar.filter_cookies(URL(server.url))[f"live_steward_{code}"].value
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Moderator(server, code, f"live_mod_{code}={cookie}").connect()


async def test_an_entered_question_goes_through_the_filters_and_the_queue(steward, server):
    created, person = steward
    await person.sign_in(created["steward_secret"], "Sam")
    mod = await moderator(server, created, "Robin")

    status, body = await person.enter(
        "Will the bus to the hospital run on Sundays?", channel="phone", attendance="remote",
        name="Mrs Okafor", show_name="on",
    )
    assert status == 200, body
    entered = body["data"]["question"]
    assert entered["status"] == "published"
    assert (entered["channel"], entered["attendance"], entered["author_name"]) == ("phone", "remote", "Mrs Okafor")

    status, body = await person.enter("Call me on 07700 900123 about the ward")
    held_by_filter = body["data"]["question"]
    assert status == 200 and held_by_filter["status"] == "pending"

    status, body = await person.enter("Will the bus to the hospital run on Sunday?", name="Mr Lee")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert body["error"]["details"]["duplicate_of"]["id"] == entered["id"]
    status, body = await person.enter(
        "Will the bus to the hospital run on Sunday?", name="Mr Lee", allow_duplicate="on"
    )
    assert status == 200 and body["data"]["question"]["author_name"] is None  # anonymous by default

    await mod.ok("mode", {"mode": "pre"})
    status, body = await person.enter("When is the next meeting?", channel="sms")
    assert status == 200 and body["data"]["question"]["status"] == "pending"

    status, body = await person.entries()
    listed = body["data"]["questions"]
    assert [q["status"] for q in listed] == ["published", "pending", "published", "pending"]
    assert [q["channel"] for q in listed] == ["phone", "paper", "paper", "sms"]

    snapshot = await mod.ok("snapshot")
    held = next(q for q in snapshot["questions"] if q["text"] == "When is the next meeting?")
    assert held["channel"] == "sms"
    flagged = next(q for q in snapshot["questions"] if q["id"] == held_by_filter["id"])
    assert flagged["flags"] == ["personal_data"]
    entries = [e for e in snapshot["log"] if e["action"] == "enter"]
    assert len(entries) == 4 and {e["moderator"] for e in entries} == {"Sam"}
    assert entries[0]["details"] == {"channel": "sms", "by": "steward"}
    await mod.close()


async def test_bad_entries_get_a_clear_error(steward):
    created, person = steward
    await person.sign_in(created["steward_secret"])
    for fields in ({"channel": "device"}, {"channel": "fax"}, {"attendance": "moon"}):
        status, body = await person.enter("A fine question about the budget", **fields)
        assert status == 400 and body["error"]["code"] == "invalid", (fields, body)
    status, body = await person.enter("")
    assert status == 400 and body["error"]["code"] == "invalid"
    status, location = await person.enter("", accept_json=False)
    assert status == 303 and location.endswith("/steward?failed=invalid")


@pytest.mark.parametrize("content_type, body", MALFORMED_FORMS.values(), ids=MALFORMED_FORMS)
async def test_hostile_form_bodies_get_a_clear_answer(steward, content_type, body, caplog):
    created, person = steward
    code = created["event"]["code"]
    await person.sign_in(created["steward_secret"])
    url = f"{person.server.url}/e/{code}/steward"
    for path, accept in (("", {}), ("/questions", {}), ("/questions", JSON)):
        async with person.http.post(
            url + path, data=body, headers={"Content-Type": content_type, **accept},
            allow_redirects=False,
        ) as res:
            if accept:
                assert res.status == 400 and (await res.json())["error"]["code"] == "invalid"
            else:
                assert res.status == 303 and res.headers["Location"] == f"/e/{code}/steward?failed=invalid"
    assert "Traceback" not in caplog.text


async def test_an_oversized_entry_or_an_unknown_event_is_refused_without_a_fault(steward, caplog):
    created, person = steward
    await person.sign_in(created["steward_secret"])
    status, body = await person.enter("x" * 100_000)
    assert status == 400 and "larger than" in body["error"]["message"]
    status, body = await person.enter("x" * 3_000)
    assert status == 400 and body["error"]["code"] == "invalid"
    unknown = Steward(person.server, "NOPE42")
    try:
        assert (await unknown.sign_in("guess")).status == 404
        status, body = await unknown.enter("Is anyone there?")
        assert status == 404 and body["error"]["code"] == "not_found"
        async with unknown.http.get(f"{person.server.url}/e/NOPE42/steward") as res:
            assert res.status == 404
    finally:
        await unknown.close()
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


async def test_the_form_works_without_javascript(steward):
    created, person = steward
    code = created["event"]["code"]
    status, location = await person.enter("Signed out entry", accept_json=False)
    assert status == 303 and location == f"/e/{code}/steward?failed=forbidden"
    await person.sign_in(created["steward_secret"])
    status, location = await person.enter("How are carers involved?", accept_json=False)
    assert status == 303 and location.startswith(f"/e/{code}/steward?entered=")


async def test_steward_entries_are_limited_per_session(steward, monkeypatch):
    monkeypatch.setattr(steward_service, "ENTRY_LIMIT", 2)
    created, person = steward
    await person.sign_in(created["steward_secret"])
    for text in ("First question about parking", "Second question about lighting"):
        assert (await person.enter(text))[0] == 200
    status, body = await person.enter("Third question about benches")
    assert status == 429 and body["error"]["code"] == "rate_limited"


async def test_a_closed_event_refuses_entries(steward, server):
    created, person = steward
    code = created["event"]["code"]
    await person.sign_in(created["steward_secret"])
    mod = await moderator(server, created)
    assert (await server.api("POST", f"/api/events/{code}/close"))[0] == 200
    status, body = await person.enter("Too late for this one?")
    assert status == 409 and body["error"]["code"] == "closed"
    reply = await mod.call("enter", {"text": "Too late?", "channel": "paper", "attendance": "in_room"})
    assert reply["ok"] is False and reply["error"]["code"] == "closed"
    snapshot = await mod.ok("snapshot")
    assert snapshot["questions"] == [] and snapshot["participants"] == []
    await mod.close()


async def test_a_moderator_enters_a_question_from_the_console(server):
    created = await server.create_event("Assembly", moderation="pre")
    mod = await moderator(server, created, "Robin")
    data = await mod.ok(
        "enter",
        {"text": "Can the minutes come in large print?", "channel": "paper",
         "attendance": "in_room", "name": "Ada", "anonymous": False},
    )
    question = data["question"]
    assert (question["status"], question["channel"], question["author_name"]) == ("pending", "paper", "Ada")
    log = await mod.wait_for("log", lambda m: m["entry"]["action"] == "enter")
    assert log["entry"]["moderator"] == "Robin" and log["entry"]["details"]["by"] == "moderator"
    bad = await mod.call("enter", {"text": "x y z", "channel": "device", "attendance": "in_room"})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"
    await mod.close()


async def test_organisers_set_and_rotate_the_steward_secret(steward, server):
    created, person = steward
    code = created["event"]["code"]
    await person.sign_in(created["steward_secret"])
    assert (await person.entries())[0] == 200
    status, _ = await server.api("POST", f"/api/events/{code}/steward-secret", token="wrong")
    assert status == 403
    status, body = await server.api("POST", f"/api/events/{code}/steward-secret")
    assert status == 200, body
    fresh = body["data"]["steward_secret"]
    assert fresh != created["steward_secret"]
    assert (await person.entries())[0] == 403  # rotating ends the old sessions
    assert (await person.sign_in(created["steward_secret"])).headers["Location"].endswith("failed=forbidden")
    assert (await person.sign_in(fresh)).headers["Location"] == f"/e/{code}/steward"
    assert (await person.entries())[0] == 200


async def test_channels_in_the_balance_record_report_and_exports(steward, server):
    created, person = steward
    code = created["event"]["code"]
    await person.sign_in(created["steward_secret"])
    asker = await joined(server, code, "remote")
    await asker.ask("What happens to the library in the plan?")
    await person.enter("Is there money for the youth club?", channel="paper")
    await person.enter("Will the park get more bins?", channel="phone", attendance="remote")
    await person.enter("Who decides the road closures?", channel="sms", attendance="remote")
    await person.enter("Are the toilets accessible at the new hall?", channel="steward")

    status, body = await server.api("GET", f"/api/events/{code}/balance")
    channels = body["data"]["channels"]
    assert {c: channels[c]["questions"] for c in channels} == {
        "device": 1, "paper": 1, "phone": 1, "sms": 1, "steward": 1,
    }
    assert channels["paper"]["published"] == 1
    assert body["data"]["remote"]["questions"] == 3

    status, body = await server.api("GET", f"/api/events/{code}/record", token=None)
    assert body["data"]["received_by_channel"] == {"device": 1, "paper": 1, "phone": 1, "sms": 1, "steward": 1}
    status, body = await server.api("GET", f"/api/events/{code}/report", token=None)
    assert body["data"]["balance"]["channels"]["sms"]["questions"] == 1

    exported = json.loads(await fetch(server, f"/api/events/{code}/export.json"))
    questions = exported["events"][0]["questions"]
    assert sorted(q["channel"] for q in questions) == ["device", "paper", "phone", "sms", "steward"]
    rows = list(csv.DictReader(io.StringIO(await fetch(server, f"/api/events/{code}/export.csv"))))
    assert {r["text"]: r["channel"] for r in rows}["Will the park get more bins?"] == "phone"
    await asker.close()


PHONE = {"viewport": {"width": 360, "height": 740}}
#: What the page answers on purpose: 403 while signed out (the list), 409 for a near-duplicate.
EXPECTED_REFUSALS = ("status of 403", "status of 409")


class PageErrors:
    """Script errors and failed loads on a page, less the refusals the steward page expects."""

    def __init__(self, page) -> None:
        self._all = collect_errors(page)

    def unexpected(self) -> list[str]:
        return [e for e in self._all if not any(r in e for r in EXPECTED_REFUSALS)]


async def signed_in_page(browser, server, created: dict, viewport: dict = PHONE):
    page = await (await browser.new_context(**viewport)).new_page()
    errors = PageErrors(page)
    await page.goto(f"{server.url}/e/{created['event']['code']}/steward")
    await page.get_by_label("Your pseudonym").fill("Sam")
    await page.get_by_label("Steward secret").fill(created["steward_secret"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#me")).to_have_text("Sam")
    return page, errors


async def test_a_steward_enters_questions_through_the_page_on_a_phone(server, browser):
    created = await server.create_event("Citizens' assembly", moderation="pre")
    code = created["event"]["code"]
    page = await (await browser.new_context(**PHONE)).new_page()
    errors = PageErrors(page)
    await page.goto(f"{server.url}/e/{code}/steward")
    await expect(page.locator("#entry")).to_be_hidden()
    await page.get_by_label("Your pseudonym").fill("Sam")
    await page.get_by_label("Steward secret").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#login-error")).to_contain_text("not right")
    assert await page.locator("#login-error").get_attribute("role") == "alert"
    await page.get_by_label("Your pseudonym").fill("Sam")
    await page.get_by_label("Steward secret").fill(created["steward_secret"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#me")).to_have_text("Sam")
    await expect(page.locator("#event-title")).to_have_text("Citizens' assembly")

    text = "Will the bus to the hospital run on Sundays?"
    await page.get_by_label("Their question").fill(text)
    await page.get_by_label("By phone").check()
    await page.get_by_label("Watching online").check()
    await page.get_by_label("Their name (optional)").fill("Mrs Okafor")
    await page.get_by_label("Show this name with the question").check()
    await page.get_by_role("button", name="Enter the question").click()
    entered = page.locator("#mine-list li").filter(has_text=text)
    await expect(entered.locator(".q-status")).to_have_text("Waiting for review")
    await expect(entered.locator(".q-meta")).to_have_text("By phone · online · Mrs Okafor")
    await expect(page.locator("#notice")).to_have_text("Question entered: Waiting for review.")
    assert await page.locator("#notice").get_attribute("role") == "status"
    await expect(page.get_by_label("Their question")).to_be_focused()
    await expect(page.get_by_label("Their question")).to_have_value("")
    await expect(page.get_by_label("By phone")).to_be_checked()  # the next one likely came the same way
    await expect(page.get_by_label("Watching online")).to_be_checked()

    mod = await moderator(server, created, "Robin")
    held = next(q for q in (await mod.ok("snapshot"))["questions"] if q["text"] == text)
    assert (held["channel"], held["attendance"], held["author_name"]) == ("phone", "remote", "Mrs Okafor")
    await mod.act("approve", held)
    await mod.close()

    again = "Will the bus to the hospital run on Sunday?"
    await page.get_by_label("Their question").fill(again)
    await page.get_by_label("On paper").check()
    await page.get_by_role("button", name="Enter the question").click()
    await expect(page.locator("#duplicate-text")).to_have_text(text)
    await expect(page.get_by_label("Their question")).to_have_value(again)  # nothing lost
    await expect(page.get_by_role("button", name="Send anyway")).to_be_focused()
    await page.get_by_role("button", name="Send anyway").click()
    await expect(page.locator("#mine-list li")).to_have_count(2)
    await expect(page.locator("#duplicate-offer")).to_be_hidden()

    await page.reload()
    await expect(entered.locator(".q-status")).to_have_text("Published")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

    rows = list(csv.DictReader(io.StringIO(await fetch(server, f"/api/events/{code}/export.csv"))))
    assert sorted((r["text"], r["channel"], r["attendance"]) for r in rows) == [
        (again, "paper", "remote"), (text, "phone", "remote"),
    ]
    log = list(csv.DictReader(io.StringIO(
        await fetch(server, f"/api/events/{code}/export.csv?table=moderation_log")
    )))
    assert [r["moderator"] for r in log if r["action"] == "enter"] == ["Sam", "Sam"]

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#notice")).to_have_text("You are signed out.")
    await expect(page.get_by_label("Steward secret")).to_be_visible()
    assert errors.unexpected() == []


async def test_the_entry_form_posts_without_javascript(server, browser):
    created = await server.create_event("Assembly")
    code = created["event"]["code"]
    context = await browser.new_context(java_script_enabled=False, **PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{code}/steward")
    await page.get_by_label("Your pseudonym").fill("Sam")
    await page.get_by_label("Steward secret").fill(created["steward_secret"])
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Their question").fill("Is the car park free on meeting days?")
    await page.get_by_label("By SMS").check()
    await page.get_by_role("button", name="Enter the question").click()
    assert f"/e/{code}/steward?entered=" in page.url
    status, body = await server.api("GET", f"/api/events/{code}/balance")
    assert body["data"]["channels"]["sms"]["questions"] == 1


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_steward_page_has_no_violations(server, browser, width):
    created = await server.create_event("Citizens' assembly")
    viewport = {"viewport": {"width": width, "height": 800}}
    page = await (await browser.new_context(**viewport)).new_page()
    await page.goto(f"{server.url}/e/{created['event']['code']}/steward")
    await page.get_by_label("Your pseudonym").fill("Sam")
    await page.get_by_label("Steward secret").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#login-error")).to_contain_text("not right")
    assert await axe.violations(page) == []  # the sign-in form, with its error
    page, _ = await signed_in_page(browser, server, created, viewport)
    for text in ("Will the bus run on Sundays?", "Call me on 07700 900123 about the ward"):
        await page.get_by_label("Their question").fill(text)
        await page.get_by_role("button", name="Enter the question").click()
        await expect(page.locator("#mine-list li").filter(has_text=text)).to_have_count(1)
    await page.get_by_label("Their question").fill("Will the bus run on Sunday?")
    await page.get_by_role("button", name="Enter the question").click()
    await expect(page.locator("#duplicate-offer")).to_be_visible()
    assert await axe.violations(page) == []


async def test_the_printable_report_splits_questions_by_channel(server, browser, steward):
    created, person = steward
    code = created["event"]["code"]
    await person.sign_in(created["steward_secret"])
    asker = await joined(server, code, "remote")
    await asker.ask("What happens to the library in the plan?")
    await person.enter("Is there money for the youth club?", channel="paper")
    await person.enter("Will the park get more bins?", channel="paper", attendance="remote")
    await person.enter("Who decides the road closures?", channel="sms", attendance="remote")
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    errors = collect_errors(page)
    await page.goto(f"{server.url}/e/{code}/report")
    table = page.get_by_role("table", name="Questions by channel")
    await expect(table.locator("tbody tr")).to_have_count(3)
    rows = [await r.inner_text() for r in await table.locator("tbody tr").all()]
    assert [r.split("\t") for r in rows] == [
        ["Own device", "1", "1", "0"], ["On paper", "2", "2", "0"], ["By SMS", "1", "1", "0"],
    ]
    assert errors == []
    await asker.close()
