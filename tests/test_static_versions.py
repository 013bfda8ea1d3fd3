"""Static files under versioned URLs cached for a year; pages and unversioned URLs revalidate."""

import re
import shutil
from pathlib import Path

import aiohttp

from live.transport import http as live_http
from support import running_server

STATIC = Path(__file__).resolve().parents[1] / "live" / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_REF = re.compile(r'(?:src|href)="(/static/[^"]*)"')


async def page_refs(session: aiohttp.ClientSession, url: str) -> list[str]:
    """The static URLs an HTML document refers to, after checking the document revalidates."""
    async with session.get(url) as res:
        assert res.content_type == "text/html", url
        assert "no-cache" in res.headers["Cache-Control"], url
        return STATIC_REF.findall(await res.text())


async def test_every_page_refers_to_static_files_by_versioned_urls(server, event):
    code = event["code"]
    pages = ["/", f"/e/{code}", f"/e/{code}/moderate", f"/e/{code}/record", f"/e/{code}/screen",
             f"/e/{code}/steward", f"/e/{code}/report", "/e/NOPE22", "/e/NOPE22/moderate",
             "/e?code=NOPE22"]
    async with aiohttp.ClientSession() as session:
        for page in pages:
            refs = await page_refs(session, server.url + page)
            assert refs, page
            for ref in refs:
                assert re.fullmatch(r"/static/[\w./-]+\?v=[0-9a-f]{16}", ref), (page, ref)
                async with session.get(server.url + ref) as res:
                    assert res.status == 200, ref
                    assert res.headers["Cache-Control"] == IMMUTABLE, ref


async def test_an_unversioned_or_stale_url_is_served_but_revalidates(server):
    async with aiohttp.ClientSession() as session:
        for ref in ("/static/js/event.js", "/static/js/event.js?v=0123456789abcdef"):
            async with session.get(server.url + ref) as res:
                assert res.status == 200
                assert res.headers["Cache-Control"] == "no-cache", ref


async def test_a_changed_file_gets_a_new_url_and_the_old_one_stops_being_immutable(
    settings, tmp_path, monkeypatch
):
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    monkeypatch.setattr(live_http, "STATIC_DIR", static)
    async with running_server(settings) as server, aiohttp.ClientSession() as session:
        before = [r for r in await page_refs(session, server.url + "/") if r.startswith("/static/js/index.js")]
        script = static / "js" / "index.js"
        script.write_text(script.read_text() + "\nwindow.changed = true;\n")
        after = [r for r in await page_refs(session, server.url + "/") if r.startswith("/static/js/index.js")]
        assert len(before) == len(after) == 1 and before != after
        async with session.get(server.url + after[0]) as res:
            assert res.headers["Cache-Control"] == IMMUTABLE
            assert (await res.text()).endswith("window.changed=true;")  # served minified
        async with session.get(server.url + before[0]) as res:
            assert res.headers["Cache-Control"] == "no-cache"
