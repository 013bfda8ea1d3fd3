"""Every text response is compressed for a client that accepts it: a poor line carries a quarter of
the bytes. Static files, compressed once, come in brotli where the client takes it."""

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import aiohttp
import brotli
from multidict import CIMultiDict

from support import ORGANISER_TOKEN, Client

STATIC = Path(__file__).resolve().parents[1] / "live" / "static"
GZIP = {"Accept-Encoding": "gzip"}
AUTH = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}


async def raw_get(url: str, headers: dict[str, str]) -> tuple[int, CIMultiDict[str], bytes]:
    """The response as it crossed the wire: status, headers and the still-encoded body."""
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(url, headers=headers) as res:
            return res.status, res.headers.copy(), await res.read()


async def test_pages_api_replies_and_static_files_are_gzipped(server):
    description = "A long description, long enough to be worth compressing. " * 8
    code = (await server.create_event("Assembly", description=description))["event"]["code"]
    for path, headers in [
        ("/", GZIP),
        (f"/e/{code}", GZIP),
        ("/e/NOPE22", GZIP),
        (f"/e/{code}/moderate", GZIP),
        (f"/api/events/{code}", GZIP),
        ("/api/events", {**GZIP, **AUTH}),
        ("/static/js/event.js", GZIP),
        ("/static/css/live.css", GZIP),
        ("/static/vendor/socket.io-client/socket.io.min.js", GZIP),
        ("/static/favicon.svg", GZIP),
        ("/favicon.ico", GZIP),
    ]:
        status, sent, body = await raw_get(server.url + path, headers)
        assert status in (200, 404), path
        assert sent.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in sent.get("Vary", ""), path
        assert "Content-Security-Policy" in sent, path
        plain = gzip.decompress(body)
        assert len(body) < len(plain), path
        if path.startswith("/api/"):
            assert json.loads(plain)["ok"] is True


async def test_a_static_file_arrives_whole_compressed_or_not(server):
    script = STATIC / "vendor" / "socket.io-client" / "socket.io.min.js"
    url = server.url + "/static/vendor/socket.io-client/socket.io.min.js"
    _, sent, body = await raw_get(url, GZIP)
    assert gzip.decompress(body) == script.read_bytes()
    assert sent["Content-Type"].startswith("text/javascript")
    _, sent, body = await raw_get(url, {"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in sent
    assert body == script.read_bytes()


async def test_static_files_come_in_brotli_to_a_client_that_takes_it(server):
    url = server.url + "/static/js/event.js"
    _, _, plain = await raw_get(url, {"Accept-Encoding": "identity"})
    _, sent, body = await raw_get(url, {"Accept-Encoding": "gzip, deflate, br"})
    assert sent["Content-Encoding"] == "br"
    assert brotli.decompress(body) == plain
    _, sent, body = await raw_get(url, {"Accept-Encoding": "br;q=0, gzip"})
    assert sent["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain


async def test_a_client_that_does_not_accept_gzip_gets_plain_bytes(server, event):
    for path in ("/", f"/e/{event['code']}"):
        status, sent, body = await raw_get(server.url + path, {"Accept-Encoding": "identity"})
        assert status == 200
        assert "Content-Encoding" not in sent, path
        assert body.lstrip().lower().startswith(b"<!doctype html>"), path
    _, sent, body = await raw_get(server.url + "/static/favicon.svg", {"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in sent
    assert body == (STATIC / "favicon.svg").read_bytes()


async def test_static_files_stay_inside_the_static_folder(server):
    for path in ("/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml",
                 "/static/js/../../live/app.py", "/static/js", "/static/nothing.js"):
        status, _, _ = await raw_get(server.url + path, GZIP)
        assert status in (403, 404), path


async def test_long_polling_and_the_streamed_export_still_work(server, event):
    client = await Client(server, event["code"], transport="polling").connect()
    try:
        await client.join("remote")
        question = await client.ask("Will the minutes be published in plain language?")
        assert question["id"]
    finally:
        await client.close()
    export = f"/api/events/{event['code']}/export.csv"
    status, sent, body = await raw_get(server.url + export, {**GZIP, **AUTH})
    assert status == 200
    text = gzip.decompress(body) if sent.get("Content-Encoding") == "gzip" else body
    assert b"Will the minutes be published in plain language?" in text


async def test_a_static_file_revalidates_without_its_bytes(server):
    url = server.url + "/static/js/event.js"
    _, sent, _ = await raw_get(url, GZIP)
    status, again, body = await raw_get(url, {**GZIP, "If-None-Match": sent["ETag"]})
    assert status == 304 and body == b""
    assert again["ETag"] == sent["ETag"]


async def test_scripts_and_styles_are_served_minified_and_still_valid(server, tmp_path):
    """Comments and indentation help the people who read the source, not the phones that load it."""
    for name in ("js/event.js", "js/polls.js", "css/live.css"):
        source = (STATIC / name).read_bytes()
        _, sent, body = await raw_get(f"{server.url}/static/{name}", {"Accept-Encoding": "identity"})
        assert len(body) < 0.9 * len(source), name
        assert b"/*" not in body, name
        if name.endswith(".js") and shutil.which("node"):
            served = tmp_path / Path(name).name
            served.write_bytes(body)
            assert subprocess.run(["node", "--check", str(served)]).returncode == 0, name
    vendored = STATIC / "vendor" / "socket.io-client" / "socket.io.min.js"
    _, _, body = await raw_get(server.url + "/static/vendor/socket.io-client/socket.io.min.js",
                               {"Accept-Encoding": "identity"})
    assert body == vendored.read_bytes()  # already minified by its authors: served as shipped
