"""The audience pages in each language: complete tables, plurals, and the language each visit gets."""

import json
import re
from html import unescape
from pathlib import Path

import aiohttp
import pytest

from live import strings
from support import joined

#: Placeholders a translation may leave out: the protocol's English message, which it may put in
#: its own words instead of quoting.
OPTIONAL = {"message"}
#: A key with one of these names would be read as the dict's method by a template's `S.key`.
DICT_METHODS = set(dir(dict))


def placeholders(value) -> set[str]:
    forms = value.values() if strings.is_plural(value) else [value]
    return {name for form in forms for name in strings.PLACEHOLDER.findall(form)}


def problems(reference: dict, table: dict, code: str, where: str = "") -> list[str]:
    """Where a language's table differs from English's: keys, placeholders, plural forms."""
    found = []
    for key in reference.keys() - table.keys():
        found.append(f"{code}: {where}{key} is missing")
    for key in table.keys() - reference.keys():
        found.append(f"{code}: {where}{key} is not in English")
    for key in reference.keys() & table.keys():
        ours, theirs, path = reference[key], table[key], f"{where}{key}"
        if key in DICT_METHODS:
            found.append(f"{path}: a key named like a dict method")
        if strings.is_plural(ours) != strings.is_plural(theirs):
            found.append(f"{code}: {path} is a plural in one table only")
        elif strings.is_plural(theirs):
            if set(theirs) != strings.categories(code):
                found.append(f"{code}: {path} has forms {sorted(theirs)}, not {sorted(strings.categories(code))}")
        elif isinstance(ours, dict) != isinstance(theirs, dict):
            found.append(f"{code}: {path} is a section in one table only")
        elif isinstance(ours, dict):
            found.extend(problems(ours, theirs, code, f"{path}."))
            continue
        elif isinstance(ours, list):
            if not (isinstance(theirs, list) and len(theirs) == len(ours) and all(isinstance(x, str) for x in theirs)):
                found.append(f"{code}: {path} is not a list of {len(ours)} strings")
            continue
        elif not isinstance(theirs, str):
            found.append(f"{code}: {path} is not text")
            continue
        if placeholders(theirs) - placeholders(ours) or (placeholders(ours) - OPTIONAL) - placeholders(theirs):
            found.append(f"{code}: {path} has {sorted(placeholders(theirs))}, English {sorted(placeholders(ours))}")
    return found


@pytest.mark.parametrize("code", list(strings.LANGUAGES))
def test_every_language_has_every_key_and_placeholder_english_has(code):
    english = strings.STRINGS[strings.DEFAULT]
    assert problems(english, strings.STRINGS[code], code) == []


def test_the_check_finds_a_missing_key_an_extra_key_a_changed_placeholder_and_a_missing_form():
    english = {"event": {"a": "A {n}", "b": "B", "votes": {"one": "{count} vote", "other": "{count} votes"}}}
    broken = {"event": {"a": "A {m}", "c": "C", "votes": {"one": "{count} bleidlais", "other": "{count} pleidlais"}}}
    found = problems(english, broken, "cy")
    assert len(found) == 4, found
    assert any("b is missing" in p for p in found)
    assert any("c is not in English" in p for p in found)
    assert any("event.a has" in p for p in found)
    assert any("event.votes has forms" in p for p in found)


def test_welsh_counts_have_all_six_plural_forms_and_english_two():
    assert strings.categories("cy") == {"zero", "one", "two", "few", "many", "other"}
    assert strings.categories("en") == {"one", "other"}
    votes = strings.STRINGS["cy"]["event"]["votes"]
    said = [strings.plural("cy", votes, n) for n in (0, 1, 2, 3, 6, 7)]
    assert said == ["Dim pleidleisiau", "1 bleidlais", "2 bleidlais", "3 pleidlais", "6 pleidlais", "7 pleidlais"]
    assert strings.plural("en", strings.STRINGS["en"]["event"]["votes"], 1) == "1 vote"


@pytest.mark.parametrize("asked, kept, header, chosen", [
    (None, None, "", "en"),
    (None, None, "cy", "cy"),
    (None, None, "cy-GB,cy;q=0.9,en-GB;q=0.8,en;q=0.7", "cy"),
    (None, None, "en-GB,en;q=0.9,cy;q=0.8", "en"),
    (None, None, "fr-FR, cy;q=0.5", "cy"),
    (None, None, "cy;q=0, en;q=0.1", "en"),
    (None, None, "CY", "cy"),
    (None, "cy", "en", "cy"),
    ("en", "cy", "cy", "en"),
    ("fr", None, "cy", "cy"),
    ("<script>", "../../etc", "q=;;,,;cy;q=x, *;q=1", "en"),
    (None, None, "cy;q=0.5," * 5000, "cy"),
])
def test_the_query_then_the_cookie_then_accept_language_choose(asked, kept, header, chosen):
    assert strings.negotiate(asked, kept, header) == chosen


@pytest.fixture
async def http():
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    yield session
    await session.close()


async def fetch(http, url: str, status: int = 200, **headers) -> str:
    async with http.get(url, headers=headers) as res:
        assert res.status == status, await res.text()
        assert "Accept-Language" in res.headers.get("Vary", "")
        return await res.text()


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)">', html).group(1)


def switch(html: str) -> list[tuple[str, str, str, str]]:
    """The language switch's links: (href, lang, hreflang, text)."""
    nav = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', html).group(1)
    return [(unescape(h), lang, ref, text) for h, lang, ref, text in re.findall(
        r'<a href="([^"]*)" lang="([^"]*)" hreflang="([^"]*)">([^<]*)</a>', nav)]


@pytest.mark.parametrize("path, english, welsh", [
    ("/", "Join an event", "Ymuno â digwyddiad"),
    ("/e/{code}", "Join the conversation", "Ymuno â'r sgwrs"),
    ("/e/{code}/record", "Moderation record", "Cofnod cymedroli"),
    ("/e/{code}/report", "Print or save as PDF", "Argraffu neu gadw fel PDF"),
    ("/e/{code}/screen", "Now answering", "Yn cael ei ateb nawr"),
    ("/e/NOPE42", "No event has the code NOPE42", "Nid oes digwyddiad gyda'r cod NOPE42"),
    ("/e?code=nope42", "No event has the code NOPE42", "Nid oes digwyddiad gyda'r cod NOPE42"),
])
async def test_every_audience_page_speaks_welsh_to_a_browser_that_asks_for_it(server, http, path, english, welsh):
    created = await server.create_event("Assembly")
    url = server.url + path.format(code=created["event"]["code"])
    status = 404 if "NOPE" in path.upper() else 200
    html = unescape(await fetch(http, url, status, **{"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}))
    assert html_lang(html) == "cy"
    assert welsh in html and english not in html
    [(href, lang, hreflang, text)] = switch(html)
    assert (lang, hreflang, text) == ("en", "en", "English")
    html = unescape(await fetch(http, server.url + href, status, **{"Accept-Language": "cy"}))
    assert html_lang(html) == "en" and english in html
    assert switch(html)[0][1:] == ("cy", "cy", "Cymraeg")


async def test_a_chosen_language_is_kept_by_a_cookie_over_accept_language(server, http):
    created = await server.create_event("Assembly")
    url = f"{server.url}/e/{created['event']['code']}"
    welsh = {"Accept-Language": "cy"}
    async with http.get(f"{url}?lang=en&sort=recent", headers=welsh) as res:
        cookie = res.cookies["lang"]
        assert cookie.value == "en" and cookie["httponly"] and cookie["samesite"] == "Lax"
        assert int(cookie["max-age"]) > 365 * 24 * 3600
        html = await res.text()
    assert html_lang(html) == "en"
    assert switch(html)[0][0] == f"/e/{created['event']['code']}?sort=recent&lang=cy"
    assert html_lang(await fetch(http, url, **welsh)) == "en"
    assert html_lang(await fetch(http, f"{server.url}/", **welsh)) == "en"
    assert html_lang(await fetch(http, f"{url}?lang=cy")) == "cy"
    assert html_lang(await fetch(http, url)) == "cy"


@pytest.mark.parametrize("lang", ["xx", "", "cy-GB", "<b>", "en" * 2000, "%00"])
async def test_an_unknown_language_falls_back_and_sets_nothing(server, http, lang):
    async with http.get(f"{server.url}/", params={"lang": lang}) as res:
        assert res.status == 200
        assert "lang" not in res.cookies
        assert html_lang(await res.text()) == "en"


async def test_the_participant_page_in_welsh_counts_votes_with_welsh_plurals(server, http):
    created = await server.create_event("Assembly")
    code = created["event"]["code"]
    author = await joined(server, code, name="Priya")
    voters = [await joined(server, code) for _ in range(3)]
    asked = {0: "Pryd bydd y cofnodion yn cael eu cyhoeddi?", 1: "A fydd dolen sain yn yr ystafell?",
             2: "Pwy sy'n cadeirio'r panel heddiw?", 3: "Sut cafodd aelodau'r cynulliad eu dewis?"}
    for n, text in asked.items():
        question = await author.ask(text)
        for voter in voters[:n]:
            await voter.ok("upvote", {"question_id": question["id"]})
    html = unescape(await fetch(http, f"{server.url}/e/{code}?lang=cy"))
    for label in ("Dim pleidleisiau", "1 bleidlais", "2 bleidlais", "3 pleidlais"):
        assert f"({label})</span>" in html, label
    for client in (author, *voters):
        await client.close()


async def test_a_refusal_on_the_welsh_page_is_in_welsh(server, http):
    created = await server.create_event("Assembly")
    code = created["event"]["code"]
    html = await fetch(http, f"{server.url}/e/{code}?lang=cy")
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    async with http.post(f"{server.url}/e/{code}/join", data={"csrf": csrf, "name": ""}) as res:
        assert res.status == 400
        page = unescape(await res.text())
    assert "Dewiswch a ydych yn yr ystafell neu'n gwylio ar-lein." in page
    assert html_lang(page) == "cy"
    async with http.post(f"{server.url}/e/{code}/join", data={"csrf": csrf, "attendance": "in_room"},
                         allow_redirects=False) as res:
        assert res.status == 303
    async with http.post(f"{server.url}/e/{code}/ask", data={"csrf": csrf, "text": ""}) as res:
        assert res.status == 400
        page = unescape(await res.text())
    error = re.search(r'id="ask-error"[^>]*>([^<]*)<', page).group(1)
    assert error == strings.STRINGS["cy"]["event"]["errors"]["invalid"]


async def test_script_strings_are_the_page_section_of_its_language_in_the_page(server, http):
    created = await server.create_event("Assembly </script><script>alert(1)</script>")
    html = await fetch(http, f"{server.url}/e/{created['event']['code']}/screen?lang=cy")
    island = re.search(r'<script type="application/json" id="live-strings">(.*?)</script>', html, re.S)
    assert json.loads(island.group(1)) == strings.STRINGS["cy"]["screen"]
    assert "/js/strings/" not in html


#: Each page's scripts, which read its section's strings as `S.key`.
SCRIPTS = {
    "index": ["index.js"],
    "event": ["event.js", "polls.js", "poll-results.js"],
    "screen": ["screen.js", "poll-results.js"],
    "record": ["record.js"],
    "report": ["report.js", "poll-results.js"],
}
JS = Path(__file__).resolve().parents[1] / "live" / "static" / "js"


@pytest.mark.parametrize("section", list(SCRIPTS))
async def test_each_page_gives_its_scripts_every_string_they_read_and_no_template_only_ones(server, http, section):
    created = await server.create_event("Assembly")
    path = {"index": "/", "event": "/e/{code}"}.get(section, f"/e/{{code}}/{section}")
    html = await fetch(http, server.url + path.format(code=created["event"]["code"]))
    island = json.loads(re.search(r'<script type="application/json" id="live-strings">(.*?)</script>', html, re.S)[1])
    read = {key for name in SCRIPTS[section] for key in re.findall(r"\bS\.(\w+)", (JS / name).read_text())}
    assert read - island.keys() == set()
    assert "html" not in island
