"""The participant page without JavaScript: server-rendered, forms that post and redirect back."""

import re
from html import unescape

import aiohttp
import pytest
from yarl import URL

from support import Client, joined
from test_polls import KINDS, create_poll, set_poll


def cookie_name(code: str) -> str:
    return f"live_device_{code}"


class Browser:
    """A plain HTTP client that keeps cookies, like a browser with scripts turned off."""

    def __init__(self, server, code: str) -> None:
        self.server = server
        self.code = code
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.html = ""

    async def get(self, query: str = "") -> str:
        async with self.http.get(f"{self.server.url}/e/{self.code}{query}") as res:
            assert res.status == 200, await res.text()
            self.html = await res.text()
        return self.html

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.html)
        assert found, self.html
        return found.group(1)

    async def post(self, route: str, fields: dict | list, csrf: bool = True) -> tuple[int, str, str]:
        """Post a form as the page would; returns (status, Location, body)."""
        if not self.html:
            await self.get()
        data = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if csrf:
            data.append(("csrf", self.csrf()))
        async with self.http.post(
            f"{self.server.url}/e/{self.code}/{route}", data=data, allow_redirects=False
        ) as res:
            body = await res.text()
            return res.status, res.headers.get("Location", ""), body

    async def ok(self, route: str, fields: dict | list) -> str:
        status, location, body = await self.post(route, fields)
        assert status == 303, body
        assert location.startswith(f"/e/{self.code}"), location
        return await self.get(location[len(f"/e/{self.code}"):])

    def token(self) -> str:
        return self.http.cookie_jar.filter_cookies(URL(self.server.url))[cookie_name(self.code)].value

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def visitor(server, event):
    browser = Browser(server, event["code"])
    yield browser
    await browser.close()


async def test_the_page_is_server_rendered_with_the_questions(server, event, visitor):
    author = await joined(server, event["code"], name="Priya")
    await author.ask("<b>Is the budget final?</b>")
    await author.ask("When will the minutes be published?")
    html = await visitor.get()
    assert "&lt;b&gt;Is the budget final?&lt;/b&gt;" in html and "<b>Is" not in html
    assert "When will the minutes be published?" in html
    assert "Development day 1" in html
    assert re.search(r'id="empty" class="[^"]*\bhidden\b', html)
    recent = await visitor.get("?sort=recent")
    assert recent.index("When will the minutes") < recent.index("Is the budget final")
    await author.close()


async def test_the_device_cookie_is_httponly_and_samesite_lax(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/e/{event['code']}") as res:
            header = res.headers["Set-Cookie"]
    assert header.startswith(cookie_name(event["code"]) + "=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


async def test_join_ask_upvote_withdraw_without_javascript(server, event, visitor):
    other = await joined(server, event["code"], name="Sam")
    theirs = await other.ask("Will there be a second day?")
    html = await visitor.ok("join", {"attendance": "remote", "name": "Ana"})
    assert 'id="ask-form"' in html and "Ana, online" in html

    html = await visitor.ok("ask", {"text": "Who chairs the panel?", "op_id": "form-1"})
    assert "Your question has been sent." in html
    assert html.count('<p class="q-text">Who chairs the panel?</p>') == 2  # listed, and as yours

    html = await visitor.ok("vote", {"question_id": str(theirs["id"]), "vote": "up"})
    assert (await other.snapshot())["questions"][0]["votes"] == 1
    assert "Remove your vote: Will there be a second day? (1 vote)" in html
    await visitor.ok("vote", {"question_id": str(theirs["id"]), "vote": "down"})
    top = {q["id"]: q for q in (await other.snapshot())["questions"]}
    assert top[theirs["id"]]["votes"] == 0

    mine = next(q for q in (await other.snapshot())["questions"] if q["text"] == "Who chairs the panel?")
    html = await visitor.ok("withdraw", {"question_id": str(mine["id"])})
    assert [q["id"] for q in (await other.snapshot())["questions"]] == [theirs["id"]]
    await other.close()


async def test_the_same_op_id_posted_twice_asks_once(server, event, visitor):
    await visitor.ok("join", {"attendance": "in_room"})
    await visitor.ok("ask", {"text": "Is parking free?", "op_id": "same"})
    await visitor.ok("ask", {"text": "Is parking free?", "op_id": "same"})
    reader = await Client(server, event["code"]).connect()
    assert [q["text"] for q in (await reader.snapshot())["questions"]] == ["Is parking free?"]
    await reader.close()


ANSWERS = {
    "single": [("value", "1")],
    "multiple": [("value", "0"), ("value", "2")],
    "rating": [("value", "7")],
    "word_cloud": [("value", "care"), ("value", ""), ("value", "Staff")],
    "open_text": [("value", "More evening sessions")],
    "ranking": [("place-0", "3"), ("place-1", "1"), ("place-2", "2")],
}
STORED = {
    "single": 1, "multiple": [0, 2], "rating": 7, "word_cloud": ["care", "staff"],
    "open_text": "More evening sessions", "ranking": [1, 2, 0],
}


async def test_every_poll_kind_is_answered_by_form(server, event, visitor):
    code = event["code"]
    polls = {}
    for kind, spec in KINDS.items():
        polls[kind] = await create_poll(server, code, spec)
        await set_poll(server, code, polls[kind]["id"], "open")
    await visitor.ok("join", {"attendance": "in_room"})
    html = await visitor.get()
    for kind, spec in KINDS.items():
        assert unescape(spec["question"]) in unescape(html)
    for kind, fields in ANSWERS.items():
        html = await visitor.ok("answer", [("poll_id", str(polls[kind]["id"])), *fields])
        assert "Your answer is saved" in html, kind
    me = Client(server, code, token=visitor.token())
    await me.connect()
    answers = (await me.snapshot())["me"]["answers"]
    assert {kind: answers[str(polls[kind]["id"])]["value"] for kind in KINDS} == STORED
    await me.close()


async def test_an_error_is_shown_beside_its_form_with_the_text_kept(server, event, visitor):
    await visitor.ok("join", {"attendance": "in_room"})
    status, _, html = await visitor.post("ask", {"text": "x" * 600})
    assert status == 400
    error = re.search(r'id="ask-error"[^>]*>([^<]*)<', html).group(1)
    assert "a question has 1 to 500 characters" in unescape(error)
    assert "x" * 600 in html

    poll = await create_poll(server, event["code"], KINDS["multiple"])
    await set_poll(server, event["code"], poll["id"], "open")
    await visitor.get()
    status, _, html = await visitor.post(
        "answer", [("poll_id", str(poll["id"])), ("value", "0"), ("value", "1"), ("value", "2")]
    )
    assert status == 400
    assert re.search(rf'id="poll-{poll["id"]}-error"[^>]*>Choose at most 2 options\.<', html)
    assert len(re.findall(r'type="checkbox" name="value" value="\d" checked', html)) == 3


async def test_the_ask_rate_limit_is_the_socket_paths(server, event, visitor):
    await visitor.ok("join", {"attendance": "in_room"})
    topics = ["the budget", "parking", "the minutes", "childcare", "the venue", "accessibility"]
    for topic in topics[: server.settings.ask_limit]:
        await visitor.ok("ask", {"text": f"What is the plan for {topic}?"})
    status, _, html = await visitor.post("ask", {"text": "One more about the car park"})
    assert status == 429
    assert "please wait a moment" in html and "One more about the car park" in html


@pytest.mark.parametrize("fields", [{}, {"text": ""}, {"text": "   \n\t  "}, {"text": "\x01\x07\u200b\u202e"},
                                    {"text": "x" * 501}, {"text": "y" * 5000}, {"text": "ok", "extra": "1"},
                                    {"text": "fine", "anonymous": "maybe"}])
async def test_bad_questions_are_refused_and_nothing_is_stored(server, event, visitor, fields):
    await visitor.ok("join", {"attendance": "in_room"})
    status, _, html = await visitor.post("ask", fields)
    assert status == 400, html
    assert re.search(r'id="ask-error"[^>]*>[^<]+<', html)
    me = await Client(server, event["code"], token=visitor.token()).connect()
    assert (await me.snapshot())["me"]["questions"] == []
    await me.close()


@pytest.mark.parametrize("route", ["join", "ask", "vote", "withdraw", "answer"])
async def test_a_form_without_the_right_csrf_token_is_refused(server, event, visitor, route):
    await visitor.get()
    status, _, html = await visitor.post(route, {"attendance": "remote", "text": "hi"}, csrf=False)
    assert status == 403 and "This form has expired" in html
    status, _, html = await visitor.post(route, {"attendance": "remote", "csrf": "0" * 64}, csrf=False)
    assert status == 403 and "This form has expired" in html
    async with aiohttp.ClientSession() as stranger:  # the right token, but no cookie to match it
        async with stranger.post(f"{server.url}/e/{event['code']}/{route}",
                                 data={"attendance": "remote", "csrf": visitor.csrf()},
                                 allow_redirects=False) as res:
            assert res.status == 403 and "This form has expired" in await res.text()
    reader = await Client(server, event["code"]).connect()
    assert (await reader.snapshot())["questions"] == []
    await reader.close()


async def test_a_malformed_form_body_is_answered(server, event, visitor):
    await visitor.get()
    async with visitor.http.post(
        f"{server.url}/e/{event['code']}/ask", data=b"--xyz\r\n\x00\xff",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"}, allow_redirects=False,
    ) as res:
        assert res.status == 400 and "could not be read" in await res.text()


async def test_a_form_for_an_unknown_event_is_not_found(server, visitor):
    async with visitor.http.post(f"{server.url}/e/NOPE42/ask", data={"text": "hi"}) as res:
        assert res.status == 404


async def test_the_cookie_and_the_socket_are_one_device(server, event, visitor):
    await visitor.ok("join", {"attendance": "remote", "name": "Ana"})
    headers = {"Cookie": f"{cookie_name(event['code'])}={visitor.token()}"}
    client = Client(server, event["code"])
    await client.sio.connect(server.url, auth={"event": event["code"]}, headers=headers,
                             transports=["websocket"], wait_timeout=10)
    snapshot = await client.snapshot()
    assert snapshot["me"]["name"] == "Ana"
    await client.close()

    fresh = Browser(server, event["code"])
    await fresh.get()
    newcomer = Client(server, event["code"])
    await newcomer.sio.connect(
        server.url, auth={"event": event["code"]}, transports=["websocket"], wait_timeout=10,
        headers={"Cookie": f"{cookie_name(event['code'])}={fresh.token()}"},
    )
    joined_by_socket = await newcomer.ok("join", {"attendance": "in_room", "name": "Bo"})
    assert "token" not in joined_by_socket  # the cookie is the device; scripts never see it
    assert "Bo, in the room" in await fresh.get()
    await newcomer.close()
    await fresh.close()


async def test_the_landing_form_works_without_javascript(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url) as res:
            landing = await res.text()
        assert re.search(r'<form[^>]*action="/e"[^>]*method="get"', landing)
        async with http.get(f"{server.url}/e", params={"code": event["code"].lower()},
                            allow_redirects=False) as res:
            assert res.status == 303 and res.headers["Location"] == f"/e/{event['code']}"
        async with http.get(f"{server.url}/e", params={"code": "zz zz"}) as res:
            assert res.status == 404
            assert "No event has the code ZZZZ" in await res.text()
