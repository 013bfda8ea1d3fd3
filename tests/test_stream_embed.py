"""A known provider's stream plays in the participant page, with exactly its origin in the CSP."""

import re

import aiohttp
import pytest
from playwright.async_api import expect

import axe
from support import joined

CASES = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
     "frame-src", "https://www.youtube-nocookie.com", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ",
     "frame-src", "https://www.youtube-nocookie.com", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=share",
     "frame-src", "https://www.youtube-nocookie.com", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://vimeo.com/76979871", "frame-src", "https://player.vimeo.com",
     "https://player.vimeo.com/video/76979871"),
    ("https://vimeo.com/event/4147563", "frame-src", "https://vimeo.com",
     "https://vimeo.com/event/4147563/embed"),
    ("https://cdn.example.org:8443/live/council.m3u8", "media-src", "https://cdn.example.org:8443",
     "https://cdn.example.org:8443/live/council.m3u8"),
    ("https://media.example.org/day1.mp4", "media-src", "https://media.example.org",
     "https://media.example.org/day1.mp4"),
]
LINKS = [
    "https://www.twitch.tv/council",
    "http://www.youtube.com/watch?v=dQw4w9WgXcQ",  # http: a browser would refuse it in https
    "https://www.youtube.com/watch?v=not-an-id",
    "https://www.youtube-nocookie.com.evil.example/embed/dQw4w9WgXcQ",
    "https://evil.example/?u=https://vimeo.com/76979871",
    "http://media.example.org/day1.mp4",
]


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


async def fetch_page(server, code: str) -> tuple[str, dict[str, str]]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/e/{code}") as res:
            assert res.status == 200
            return await res.text(), directives(res.headers["Content-Security-Policy"])


@pytest.mark.parametrize(("url", "directive", "origin", "src"), CASES)
async def test_a_known_stream_plays_in_the_page_from_exactly_its_origin(
    server, url, directive, origin, src
):
    code = (await server.create_event("Assembly", stream_url=url))["event"]["code"]
    html, policy = await fetch_page(server, code)
    assert policy[directive] == origin
    other = {"frame-src", "media-src"} - {directive}
    assert not other & policy.keys()
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    element = "iframe" if directive == "frame-src" else "video"
    assert re.search(rf'<{element}[^>]* src="{re.escape(src)}"', html.replace("&amp;", "&")), html
    assert f'href="{url}"' in html.replace("&amp;", "&")  # the link stays beside the player


@pytest.mark.parametrize("url", LINKS)
async def test_any_other_stream_url_stays_a_link(server, url):
    code = (await server.create_event("Assembly", stream_url=url))["event"]["code"]
    html, policy = await fetch_page(server, code)
    assert not {"frame-src", "media-src"} & policy.keys()
    assert "<iframe" not in html and "<video" not in html
    assert f'href="{url}"' in html.replace("&amp;", "&")


async def test_the_policy_follows_the_stream_when_the_organiser_changes_it(server):
    code = (await server.create_event("Assembly"))["event"]["code"]
    _, policy = await fetch_page(server, code)
    assert "frame-src" not in policy
    status, _ = await server.api("PATCH", f"/api/events/{code}", {"stream_url": "https://vimeo.com/76979871"})
    assert status == 200
    _, policy = await fetch_page(server, code)
    assert policy["frame-src"] == "https://player.vimeo.com"


async def test_the_stream_sits_beside_the_questions_wide_and_above_them_collapsible_on_a_phone(
    server, browser
):
    created = await server.create_event("Assembly", stream_url="https://youtu.be/dQw4w9WgXcQ")
    code = created["event"]["code"]
    author = await joined(server, code, "remote")
    await author.ask("Will the recording be published after the meeting?")
    await author.close()
    refused: list[str] = []
    wide = await browser.new_page(viewport={"width": 1280, "height": 800})
    wide.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    await wide.goto(f"{server.url}/e/{code}")
    player = wide.locator("#stream iframe")
    await expect(player).to_be_visible()
    assert await player.get_attribute("title")
    stream_box = await wide.locator("#stream").bounding_box()
    questions_box = await wide.locator("#questions").bounding_box()
    assert stream_box["x"] + stream_box["width"] <= questions_box["x"]
    assert stream_box["width"] >= 480
    assert refused == []
    assert await axe.violations(wide) == []
    await wide.close()

    phone = await browser.new_page(viewport={"width": 360, "height": 740})
    await phone.goto(f"{server.url}/e/{code}")
    summary = phone.locator("#stream summary")
    player = phone.locator("#stream iframe")
    await expect(player).to_be_hidden()
    await summary.click()
    await expect(player).to_be_visible()
    stream_box = await phone.locator("#stream").bounding_box()
    questions_box = await phone.locator("#questions").bounding_box()
    assert stream_box["y"] + stream_box["height"] <= questions_box["y"]
    assert (await player.bounding_box())["width"] <= 360
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert await axe.violations(phone) == []
    await summary.click()
    await expect(player).to_be_hidden()
    await phone.close()
