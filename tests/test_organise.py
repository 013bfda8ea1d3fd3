"""The organisers' console: named accounts, sign-in, sessions, CSRF, and its forms over real HTTP."""

import asyncio
import csv
import html
import io
import logging
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import get_args

import aiohttp
import pytest
import socketio

import moderators

from live.services import organisers
from live.transport import schemas
from live.transport.organise import FILTERS
from live.transport.organiser_session import ORGANISERS
from moderators import moderator
from support import Server, connect_refusal, joined, running_server

PASSWORD = re.compile(r"Password \(shown once, keep it safe\): (\S+)")


def live(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "live", *args, "--db", str(db)],
        capture_output=True, text=True, timeout=30, check=check,
    )


def add_organiser(db: Path, name: str) -> str:
    """Add an account from the shell, as an operator would; return the password it printed."""
    out = live("organiser", "add", name, db=db).stdout
    return PASSWORD.search(out).group(1)


def test_the_console_names_every_filter_the_api_takes():
    assert set(FILTERS) == set(get_args(schemas.FilterName))


def test_organiser_add_prints_a_strong_password_once_and_stores_only_its_hash(tmp_path):
    db = tmp_path / "cli.db"
    out = live("organiser", "add", "Priya Shah", db=db).stdout
    password = PASSWORD.search(out).group(1)
    assert len(password) >= 20 and "/organise" in out
    listing = live("organiser", "list", db=db).stdout
    assert "Priya Shah" in listing and password not in listing
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM organisers").fetchone()
    assert stored.startswith("$argon2id$") and password not in stored


def test_organiser_names_are_unique_whatever_their_case_and_removal_frees_them(tmp_path):
    db = tmp_path / "cli.db"
    add_organiser(db, "Priya")
    again = live("organiser", "add", "PRIYA", db=db, check=False)
    assert again.returncode == 2 and "already exists" in again.stdout
    assert live("organiser", "add", "  ", db=db, check=False).returncode == 2
    assert "Priya removed" in live("organiser", "remove", "priya", db=db).stdout
    assert "No organiser accounts yet" in live("organiser", "list", db=db).stdout
    gone = live("organiser", "remove", "Priya", db=db, check=False)
    assert gone.returncode == 2 and "No organiser is called" in gone.stdout
    add_organiser(db, "Priya")
    assert "Priya" in live("organiser", "list", db=db).stdout


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def priya(server) -> tuple[str, str]:
    """An organiser account, added through the service the `live organiser add` command uses."""
    _, password = await server.app[ORGANISERS].add("Priya")
    return "Priya", password


class Console:
    """One browser's worth of console: its own cookie jar, forms posted as a browser posts them."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str = "/organise") -> tuple[int, str]:
        async with self.http.get(self.server.url + path, allow_redirects=True) as res:
            text = await res.text()
        if found := CSRF.search(text):
            self.csrf = found.group(1)
        return res.status, text

    async def post(self, path: str, form: dict | list | None = None, csrf: bool = True,
                   follow: bool = True) -> tuple[int, str, aiohttp.ClientResponse]:
        fields = list(form.items()) if isinstance(form, dict) else list(form or [])
        if csrf:
            fields.append(("csrf", self.csrf))
        async with self.http.post(self.server.url + path, data=fields, allow_redirects=follow) as res:
            text = await res.text()
        if found := CSRF.search(text):
            self.csrf = found.group(1)
        return res.status, text, res

    async def sign_in(self, name: str, password: str) -> tuple[int, str, aiohttp.ClientResponse]:
        return await self.post("/organise/sign-in", {"name": name, "password": password},
                               csrf=False, follow=False)

    async def signed_in_as(self, name: str) -> bool:
        status, text = await self.get()
        return status == 200 and f"Signed in as <strong>{name}</strong>" in text

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def consoles(server):
    opened: list[Console] = []

    def open_console() -> Console:
        opened.append(Console(server))
        return opened[-1]

    yield open_console
    for console in opened:
        await console.close()


async def test_sign_in_gives_an_httponly_strict_session_cookie(server, priya, consoles):
    console = consoles()
    status, page = await console.get()
    assert status == 200 and 'action="/organise/sign-in"' in page
    status, _, res = await console.sign_in("priya", priya[1])
    assert status == 303 and res.headers["Location"] == "/organise"
    cookie = res.cookies["live_organiser"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert await console.signed_in_as("Priya")


async def test_the_session_cookie_is_secure_behind_an_https_public_url(settings, tmp_path):
    async with running_server(settings.model_copy(update={"public_url": "https://live.example"})) as srv:
        _, password = await srv.app[ORGANISERS].add("Priya")
        console = Console(srv)
        try:
            _, _, res = await console.sign_in("Priya", password)
        finally:
            await console.close()
    assert res.cookies["live_organiser"]["secure"]


async def test_a_wrong_password_or_name_is_refused_on_the_page_with_the_name_kept(server, priya, consoles):
    console = consoles()
    for name, password in (("Priya", "not-it"), ("Nobody", priya[1])):
        status, page, res = await console.sign_in(name, password)
        assert status == 403 and "do not match" in page and "live_organiser" not in res.cookies
        assert f'value="{name}"' in page
    status, page, _ = await console.sign_in("", "")
    assert status == 400 and "Give your name and password" in page
    async with console.http.post(server.url + "/organise/sign-in", data=b"--x\r\n",
                                 headers={"Content-Type": "multipart/form-data"}) as res:
        assert res.status == 400 and "could not be read" in await res.text()
    assert not await console.signed_in_as("Priya")


@pytest.mark.parametrize("limit", ["signin_event_limit", "signin_limit"])
async def test_sign_ins_are_rate_limited_per_account_and_per_address(settings, limit):
    limited = settings.model_copy(update={"signin_limit": 100, "signin_event_limit": 100, limit: 2})
    async with running_server(limited) as srv:
        _, password = await srv.app[ORGANISERS].add("Priya")
        await srv.app[ORGANISERS].add("Robin")
        console = Console(srv)
        try:
            # Per account: two wrong guesses at Priya; per address: one at each account.
            for name in ("Priya", "priya") if limit == "signin_event_limit" else ("Priya", "Robin"):
                assert (await console.sign_in(name, "wrong"))[0] == 403
            status, page, res = await console.sign_in("Priya", password)
            assert status == 429 and "Too many failed sign-ins" in page
            assert int(res.headers["Retry-After"]) > 0
            assert "live_organiser" not in res.cookies
        finally:
            await console.close()


async def test_signing_out_ends_one_session_and_everywhere_ends_all(server, priya, consoles):
    laptop, phone, tablet = consoles(), consoles(), consoles()
    for console in (laptop, phone, tablet):
        assert (await console.sign_in(*priya))[0] == 303
        assert await console.signed_in_as("Priya")
    status, page, _ = await laptop.post("/organise/sign-out")
    assert status == 200 and "You are signed out" in page
    assert not await laptop.signed_in_as("Priya") and await phone.signed_in_as("Priya")
    status, page, _ = await phone.post("/organise/sign-out-everywhere")
    assert "You are signed out" in page
    assert not await phone.signed_in_as("Priya") and not await tablet.signed_in_as("Priya")


async def test_removing_an_account_signs_it_out(server, priya, consoles):
    console = consoles()
    await console.sign_in(*priya)
    assert await console.signed_in_as("Priya")
    await server.app[ORGANISERS].remove("PRIYA")
    assert not await console.signed_in_as("Priya")
    assert (await console.sign_in(*priya))[0] == 403


async def test_a_session_ends_after_its_lifetime(server, priya, consoles, monkeypatch):
    console = consoles()
    await console.sign_in(*priya)
    assert await console.signed_in_as("Priya")
    monkeypatch.setattr(organisers, "SESSION_LIFETIME", 0)
    assert not await console.signed_in_as("Priya")


async def test_forms_without_this_sessions_csrf_token_are_refused(server, priya, consoles):
    mine, other = consoles(), consoles()
    for console in (mine, other):
        await console.sign_in(*priya)
        await console.signed_in_as("Priya")
    assert mine.csrf != other.csrf
    for token in (None, "", "forged", other.csrf):
        fields = [] if token is None else [("csrf", token)]
        status, page, _ = await mine.post("/organise/sign-out-everywhere", fields, csrf=False)
        assert status == 403 and "This form has expired" in page
    assert await mine.signed_in_as("Priya") and await other.signed_in_as("Priya")
    signed_out = consoles()
    status, page, _ = await signed_out.post("/organise/sign-out", csrf=False)
    assert status == 403 and "You are signed out" in page


@pytest.fixture
async def signed_in(server, priya, consoles) -> Console:
    console = consoles()
    await console.sign_in(*priya)
    assert await console.signed_in_as("Priya")
    return console


def field_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="[a-z]+" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


def textarea(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', page).group(1))


async def create_event(console: Console, **fields: str) -> tuple[str, str]:
    """Create an event through the console's form; its code and the page that showed its secrets."""
    form = {"title": "Assembly", "description": "", "stream_url": "", "code": "",
            "moderation": "post", **fields}
    status, page, _ = await console.post("/organise/events", form)
    assert status == 201, page
    return re.search(r'Join code <strong class="mono">(\w+)</strong>', page).group(1), page


async def test_an_event_created_in_the_console_is_the_one_the_api_sees(server, signed_in):
    code, page = await create_event(
        signed_in, title="Citizens' <assembly>", description="Day one", code="day2x",
        stream_url="https://stream.example/live", moderation="pre",
    )
    assert code == "DAY2X" and "Citizens&#39; &lt;assembly&gt;" in page
    assert re.search(r"Moderator secret</dt><dd><code>\S{12,}</code>", page)
    assert f"/e/{code}/screen#token=" in page and f"/e/{code}/moderate" in page
    status, body = await server.api("GET", f"/api/events/{code}")
    assert body["data"] == {"code": code, "title": "Citizens' <assembly>", "description": "Day one",
                            "stream_url": "https://stream.example/live", "state": "open",
                            "starts_at": None, "ends_at": None, "advance_questions": False,
                            "captions_url": None, "sign_language_url": None}
    status, listing = await signed_in.get()
    assert f'href="/organise/events/{code}"' in listing
    status, event_page = await signed_in.get(f"/organise/events/{code}")
    assert status == 200 and "Pre-moderation" in event_page and f"/e/{code}/moderate" in event_page


async def test_a_refused_event_form_says_why_beside_the_field_and_keeps_the_input(server, signed_in):
    status, page, _ = await signed_in.post("/organise/events", {
        "title": "  ", "description": "Kept <b>text</b>", "stream_url": "ftp://x", "code": "",
        "moderation": "post"})
    assert status == 400
    assert "A title cannot be empty." in page and "A livestream URL starts with https://" in page
    assert textarea(page, "description") == "Kept <b>text</b>"
    assert 'aria-invalid="true"' in page and field_value(page, "stream_url") == "ftp://x"
    await create_event(signed_in, code="TAKEN")
    status, page, _ = await signed_in.post("/organise/events", {"title": "Again", "code": "taken"})
    assert status == 409 and "already in use" in page and field_value(page, "title") == "Again"
    status, page, _ = await signed_in.post("/organise/events", {"title": "x", "moderation": "sometimes"})
    assert status == 400 and "Input should be &#39;pre&#39; or &#39;post&#39;" in page
    _, body = await server.api("GET", "/api/events")
    assert [e["code"] for e in body["data"]] == ["TAKEN"]


async def test_editing_an_event_changes_what_participants_and_filters_see(server, signed_in):
    code, _ = await create_event(signed_in)
    status, page, res = await signed_in.post(f"/organise/events/{code}", [
        ("title", "Renamed"), ("description", "New"), ("stream_url", ""),
        ("blocked_terms", "Project Falcon\n\n  falcon  \n"),
        *[("enabled_filters", name) for name in FILTERS if name != "link"],
    ], follow=False)
    assert status == 303 and res.headers["Location"] == f"/organise/events/{code}?done=saved#edit"
    _, body = await server.api("GET", f"/api/events/{code}")
    assert body["data"]["title"] == "Renamed" and body["data"]["stream_url"] is None
    _, page = await signed_in.get(res.headers["Location"])
    assert "Saved." in page and textarea(page, "blocked_terms") == "Project Falcon\nfalcon"
    assert 'value="link">' in page and 'value="offensive" checked>' in page
    author = await joined(server, code)
    try:
        held = await author.ask("What happened to Project Falcon?")
        linked = await author.ask("See https://example.org for the minutes")
    finally:
        await author.close()
    assert held["status"] == "pending" and linked["status"] == "published"
    status, page, _ = await signed_in.post(f"/organise/events/{code}", {"title": "", "description": "kept"})
    assert status == 400 and "A title cannot be empty." in page and textarea(page, "description") == "kept"


async def test_polls_of_every_kind_are_prepared_opened_and_closed_from_the_console(server, signed_in):
    code, _ = await create_event(signed_in)
    kinds = {"single": ["Yes", "No"], "multiple": ["A", "B", "C"], "rating": [],
             "word_cloud": [], "open_text": [], "ranking": ["Parks", "Roads"]}
    for kind, options in kinds.items():
        status, page, _ = await signed_in.post(f"/organise/events/{code}/polls", {
            "kind": kind, "question": f"A {kind} poll?", "options": "\n".join(options),
            "max_choices": "2", "scale_min": "1", "scale_max": "5", "max_entries": "3",
            "audience": "in_room" if kind == "rating" else "everyone", "visibility": "live"})
        assert status == 200 and "Poll prepared" in page, page
    _, body = await server.api("GET", f"/api/events/{code}/polls")
    polls = {p["kind"]: p for p in body["data"]}
    assert set(polls) == set(kinds) and {p["state"] for p in polls.values()} == {"draft"}
    assert polls["multiple"]["settings"]["max_choices"] == 2 and polls["rating"]["audience"] == "in_room"

    status, page, _ = await signed_in.post(f"/organise/events/{code}/polls", {
        "kind": "single", "question": "Only one option?", "options": "Yes", "max_choices": "many"})
    assert status == 400 and "A whole number." in page
    assert field_value(page, "question") == "Only one option?" and textarea(page, "options") == "Yes"
    status, page, _ = await signed_in.post(f"/organise/events/{code}/polls", {
        "kind": "single", "question": "Only one option?", "options": "Yes"})
    assert status == 400 and "option" in page and field_value(page, "question") == "Only one option?"

    single = polls["single"]["id"]
    await signed_in.get(f"/organise/events/{code}")
    assert (await signed_in.post(f"/organise/events/{code}/polls/{single}/open"))[0] == 200
    _, body = await server.api("GET", f"/api/events/{code}/polls")
    assert {p["id"]: p["state"] for p in body["data"]}[single] == "open"
    status, page, _ = await signed_in.post(f"/organise/events/{code}/polls/{single}/close")
    assert status == 200 and "Reopen poll: A single poll?" in page
    rating = polls["rating"]["id"]
    status, page, _ = await signed_in.post(f"/organise/events/{code}/polls/{rating}/close")
    assert status == 409 and "A draft poll cannot become closed." in page
    status, page, _ = await signed_in.post(f"/organise/events/{code}/polls/999999/open")
    assert status == 404


async def test_closing_and_reopening_an_event_from_the_console(server, signed_in):
    code, _ = await create_event(signed_in)
    status, page, _ = await signed_in.post(f"/organise/events/{code}/close")
    assert status == 200 and "The event is closed" in page and "Reopen the event" in page
    _, body = await server.api("GET", f"/api/events/{code}")
    assert body["data"]["state"] == "closed"
    status, page, _ = await signed_in.post(f"/organise/events/{code}", {"title": "Late edit"})
    assert status == 409 and "This event is closed" in page
    status, page, _ = await signed_in.post(f"/organise/events/{code}/open")
    assert status == 200 and "The event is open again." in page
    status, page = await signed_in.get("/organise/events/NOPE42")
    assert status == 404 and "No event has the code NOPE42" in page


async def test_console_forms_refuse_a_missing_csrf_token_and_change_nothing(server, signed_in):
    status, page, _ = await signed_in.post("/organise/events", {"title": "Forged"}, csrf=False)
    assert status == 403 and "This form has expired" in page
    _, body = await server.api("GET", "/api/events")
    assert body["data"] == []
    status, page = await Console(server).get("/organise/events/NOPE42")
    assert status == 200 and 'action="/organise/sign-in"' in page


SECRET = re.compile(r"<dt>Moderator secret</dt><dd><code>(\S+)</code>")
SCREEN_TOKEN = re.compile(r"<dt>Screen token</dt><dd><code>(\S+)</code>")


async def test_a_new_moderator_secret_signs_every_moderator_out_and_is_shown_once(server, signed_in):
    code, page = await create_event(signed_in)
    old = SECRET.search(page).group(1)
    mod = await moderator(server, {"event": {"code": code}, "moderator_secret": old}, "Robin")
    try:
        await signed_in.get(f"/organise/events/{code}")
        status, page, _ = await signed_in.post(f"/organise/events/{code}/moderator-secret")
        assert status == 200 and "every moderator was signed out" in page
        new = SECRET.search(page).group(1)
        assert new != old
        await asyncio.wait_for(mod.disconnected.wait(), 10)
    finally:
        await mod.close()
    refused = await moderators.sign_in(server, code, old)
    assert "failed=forbidden" in refused.headers["Location"]
    assert "live_mod_" in str((await moderators.sign_in(server, code, new)).cookies)
    _, again = await signed_in.get(f"/organise/events/{code}")
    assert new not in again


async def test_a_new_screen_token_closes_the_screens_opened_with_the_old_one(server, signed_in):
    code, page = await create_event(signed_in)
    old = SCREEN_TOKEN.search(page).group(1)
    sio = socketio.AsyncClient(reconnection=False)
    closed = asyncio.Event()
    sio.on("disconnect", closed.set, namespace="/screen")
    await sio.connect(server.url, auth={"event": code, "token": old}, namespaces=["/screen"],
                      transports=["websocket"], wait_timeout=5)
    await signed_in.get(f"/organise/events/{code}")
    status, page, _ = await signed_in.post(f"/organise/events/{code}/screen-token")
    new = SCREEN_TOKEN.search(page).group(1)
    assert status == 200 and new != old and f"/e/{code}/screen#token={new}" in page
    await asyncio.wait_for(closed.wait(), 5)
    assert (await connect_refusal(server, {"event": code, "token": old}))["code"] == "forbidden"
    screen = socketio.AsyncClient(reconnection=False)
    await screen.connect(server.url, auth={"event": code, "token": new}, namespaces=["/screen"],
                         transports=["websocket"], wait_timeout=5)
    await screen.disconnect()


async def test_the_poster_shows_the_title_qr_code_code_and_short_address(server, signed_in):
    code, _ = await create_event(signed_in, title="Town <hall>")
    status, page = await signed_in.get(f"/organise/events/{code}/poster")
    base = server.settings.base_url()
    assert status == 200 and "<h1>Town &lt;hall&gt;</h1>" in page
    assert f'src="/e/{code}/qr.svg"' in page and f'"poster-code">{code}<' in page
    assert f'"poster-address">{base.removeprefix("http://")}<' in page and f"{base}/e/{code}" in page


async def test_after_the_session_questions_get_outcomes_from_the_console(server, signed_in):
    code, _ = await create_event(signed_in)
    author = await joined(server, code, name="Sam")
    try:
        first = await author.ask("Will the minutes be published?")
        second = await author.ask("Who maintains the parks?")
        third = await author.ask("Why was the library closed?")
    finally:
        await author.close()
    await signed_in.get(f"/organise/events/{code}")
    await signed_in.post(f"/organise/events/{code}/close")
    status, page = await signed_in.get(f"/organise/events/{code}/after")
    assert status == 200 and "Without an outcome (3)" in page
    base = f"/organise/events/{code}/questions"

    status, page, _ = await signed_in.post(f"{base}/{first['id']}/disposition",
                                           {"disposition": "answered_in_writing", "response": ""})
    assert status == 400 and "needs a response" in page and "Without an outcome (3)" in page
    status, page, _ = await signed_in.post(f"{base}/{first['id']}/disposition",
                                           {"disposition": "answered_live", "stream_time": "soon"})
    assert status == 400 and "A time in the stream looks like 1:02:03" in page
    assert 'value="soon"' in page
    status, page, res = await signed_in.post(f"{base}/{first['id']}/disposition", {
        "disposition": "answered_in_writing", "response": "In May.\n\nOn the website."},
        follow=False)
    assert status == 303
    await signed_in.post(f"{base}/{second['id']}/disposition",
                         {"disposition": "referred", "referred_to": "Parks team", "due_date": "2026-06-01"})
    status, page, _ = await signed_in.post(f"{base}/{third['id']}/disposition",
                                           {"disposition": "answered_live", "stream_time": "1:02:03"})
    assert status == 200 and "Outcome saved." in page and "Without an outcome (0)" in page
    assert 'value="1:02:03"' in page
    _, body = await server.api("GET", f"/api/events/{code}/record/questions")
    outcomes = {q["id"]: q for q in body["data"]["questions"]}
    assert outcomes[first["id"]]["response"] == "In May.\n\nOn the website."
    assert outcomes[second["id"]]["referred_to"] == "Parks team"
    assert outcomes[third["id"]]["stream_time"] == 3723
    status, page, _ = await signed_in.post(f"{base}/{first['id']}/disposition",
                                           {"disposition": "open"})
    assert status == 400 and "cannot become open" in page
    status, page, _ = await signed_in.post(f"{base}/999999/disposition", {"disposition": "open"})
    assert status == 404


async def test_exports_open_with_a_console_session_as_with_the_organiser_token(server, signed_in):
    code, _ = await create_event(signed_in, title="Exported")
    _, page = await signed_in.get(f"/organise/events/{code}/after")
    assert f'href="/api/events/{code}/export.json"' in page
    for path in (f"/api/events/{code}/export.json", f"/api/events/{code}/export.csv?table=questions"):
        async with signed_in.http.get(server.url + path) as res:
            assert res.status == 200 and "attachment" in res.headers["Content-Disposition"]
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(server.url + path) as res:
                assert res.status == 403
        async with aiohttp.ClientSession(cookies={"live_organiser": "forged"}) as forged:
            async with forged.get(server.url + path) as res:
                assert res.status == 403
    status, _ = await server.api("GET", f"/api/events/{code}/export.json")
    assert status == 200


async def test_every_console_action_is_logged_with_the_organisers_name(server, signed_in, caplog):
    caplog.set_level(logging.INFO)
    code, _ = await create_event(signed_in)
    author = await joined(server, code)
    try:
        question = await author.ask("Is this logged?")
    finally:
        await author.close()
    await signed_in.get(f"/organise/events/{code}")
    actions = [
        (f"/organise/events/{code}", {"title": "Logged"}),
        (f"/organise/events/{code}/polls", {"kind": "rating", "question": "Useful?"}),
        (f"/organise/events/{code}/moderator-secret", {}),
        (f"/organise/events/{code}/screen-token", {}),
        (f"/organise/events/{code}/close", {}),
        (f"/organise/events/{code}/questions/{question['id']}/disposition",
         {"disposition": "answered_live"}),
        (f"/organise/events/{code}/open", {}),
    ]
    for path, form in actions:
        assert (await signed_in.post(path, form))[0] == 200
    _, body = await server.api("GET", f"/api/events/{code}/polls")
    poll = body["data"][0]["id"]
    for move in ("open", "close"):
        assert (await signed_in.post(f"/organise/events/{code}/polls/{poll}/{move}"))[0] == 200
    second, _ = await create_event(signed_in, title="Logged, day two")
    for path, form in ((f"/organise/events/{code}/series", {"series": "logged-days"}),
                       (f"/organise/events/{second}/series", {"series": "logged-days"}),
                       (f"/organise/events/{second}/carry", {"from_event": code})):
        assert (await signed_in.post(path, form))[0] == 200
    async with signed_in.http.get(f"{server.url}/api/events/{code}/export.csv?table=moderation_log") as res:
        log_csv = list(csv.DictReader(io.StringIO(await res.text())))
    status, _ = await server.api("GET", f"/api/events/{code}/export.json")
    said = [r.getMessage() for r in caplog.records if r.name.startswith("live.transport")]
    expected = [
        f"created event {code}", f"edited event {code}", f"prepared poll {poll} in event {code}",
        f"replaced the moderator secret of event {code}",
        f"replaced the screen token of event {code}", f"closed event {code}",
        f"gave question {question['id']} of {code} the outcome answered_live",
        f"reopened event {code}", f"opened poll {poll} in event {code}",
        f"closed poll {poll} in event {code}", f"downloaded {code}-moderation_log.csv",
        f"put event {code} in the series logged-days",
        f"carried 0 questions from event {code} into {second}",
    ]
    for what in expected:
        assert any(m.startswith(f"organiser 'Priya' {what}") for m in said), (what, said)
    assert any(m == f"organiser 'organiser' downloaded {code}.json" for m in said), said
    by = {row["action"]: row["moderator"] for row in log_csv}
    assert by["dispose"] == by["rotate_moderator_secret"] == by["rotate_screen_token"] == "Priya"


async def test_several_outcomes_series_and_carry_refuse_hostile_input_and_change_nothing(server, signed_in):
    code, _ = await create_event(signed_in, title="Day one")
    other, _ = await create_event(signed_in, title="Elsewhere")
    author = await joined(server, code)
    stranger = await joined(server, other)
    try:
        asked = [await author.ask(t) for t in ("Who maintains the parks?", "When do bins change?")]
        foreign = await stranger.ask("Is this another event's question?")
    finally:
        await author.close()
        await stranger.close()
    await signed_in.get(f"/organise/events/{code}/after")
    outcomes = f"/organise/events/{code}/outcomes"
    status, page, _ = await signed_in.post(outcomes, [
        ("question_id", "abc"), ("question_id", "9" * 40), ("question_id", "-1"),
        ("disposition", "answered_live")])
    assert status == 400 and "Tick at least one question" in page
    status, page, _ = await signed_in.post(outcomes, [
        ("question_id", str(asked[0]["id"])), ("disposition", "answered_in_writing"),
        ("response", "x" * 10_001)])
    assert status == 400 and "aria-invalid" in page
    status, page, _ = await signed_in.post(outcomes, [
        ("question_id", str(asked[0]["id"])), ("response", "x" * 1_000_000)])
    assert status == 413 and "Maximum request body size" in page
    status, page, _ = await signed_in.post(outcomes, [
        ("question_id", str(asked[0]["id"])), ("disposition", "nonsense\x00")])
    assert status == 400
    status, page, _ = await signed_in.post(outcomes, [
        *[("question_id", str(q["id"])) for q in asked], ("question_id", str(foreign["id"])),
        ("disposition", "answered_live")])
    assert status == 404 and f"No question {foreign['id']} in this event." in page
    assert 'value="{}" checked'.format(asked[1]["id"]) in page
    _, body = await server.api("GET", f"/api/events/{code}/record/questions")
    assert {q["disposition"] for q in body["data"]["questions"]} == {"open"}
    status, page, _ = await signed_in.post("/organise/events/NOPE42/outcomes", [
        ("question_id", str(asked[0]["id"])), ("disposition", "answered_live")])
    assert status == 404

    series = f"/organise/events/{code}/series"
    for name in ("x" * 10_000, "Capitals Not Allowed", "<script>", "a b"):
        status, page, _ = await signed_in.post(series, {"series": name})
        assert status == 400 and "aria-invalid" in page and "<script>" not in page.replace("&lt;script&gt;", "")
    carry = f"/organise/events/{code}/carry"
    for source, expected in (("", 400), ("x" * 500, 400), ("NOPE42", 404), (code, 400), (other, 400)):
        status, page, _ = await signed_in.post(carry, {"from_event": source})
        assert status == expected, (source, status)
    for path in ("record", "series"):
        status, _ = await signed_in.get(f"/organise/events/NOPE42/{path}")
        assert status == 404
    _, body = await server.api("GET", f"/api/events/{code}/record/questions")
    assert len(body["data"]["questions"]) == 2 and body["data"]["event"]["series"] is None
