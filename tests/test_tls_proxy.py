"""docs/DEPLOY.md's nginx, terminating TLS with a throwaway certificate in front of a real server,
and a real browser connecting through it over https:// and wss://, and over long-polling."""

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import async_playwright, expect

from conftest import CHROMIUM, CHROMIUM_ARGS
from live.app import SIO
from support import Server, free_port, running_server

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "DEPLOY.md"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
OPENSSL = shutil.which("openssl")
HOSTNAME = "live.test"
DOCUMENTED_HOST = "live.example.org"


def require(exe: str | None, package: str) -> None:
    """Skip without the program locally; CI (.ci/run) installs it, so there it must be present."""
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(f"{package} is required in CI: .ci/run installs the Debian package")
        pytest.skip(f"{package} is not installed (apt-get install {package})")


def swap(text: str, pattern: str, replacement: str) -> str:
    """Replace what the documented example must contain, failing loudly if the page changed."""
    changed, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count, f"docs/DEPLOY.md's nginx example no longer has {pattern!r}"
    return changed


def documented_site(live_port: int, http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """DEPLOY.md's nginx example, pointed at this test's server, ports and certificate."""
    blocks = re.findall(r"```nginx\n(.+?)```", DEPLOY.read_text(), re.S)
    assert len(blocks) == 1, "docs/DEPLOY.md should have exactly one nginx example"
    site = blocks[0]
    site = swap(site, r"^([ \t]*ssl_certificate)\s+\S+;", rf"\1 {cert};")
    site = swap(site, r"^([ \t]*ssl_certificate_key)\s+\S+;", rf"\1 {key};")
    site = swap(site, r"^([ \t]*listen) 443 ssl;", rf"\1 127.0.0.1:{https_port} ssl;")
    site = swap(site, r"^([ \t]*listen) 80;", rf"\1 127.0.0.1:{http_port};")
    site = swap(site, r"^([ \t]*server_name) " + re.escape(DOCUMENTED_HOST) + ";", rf"\1 {HOSTNAME};")
    workers = re.findall(r"^[ \t]*server 127\.0\.0\.1:\d+ .*\n", site, flags=re.M)
    assert len(workers) > 1, "the example's upstream should name several workers"
    site = site.replace(workers[0], re.sub(r":\d+ ", f":{live_port} ", workers[0]), 1)
    for other in workers[1:]:  # one worker here: this test's server
        site = site.replace(other, "", 1)
    return site


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for the test's hostname, valid for a day."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={HOSTNAME}",
         "-addext", f"subjectAltName=DNS:{HOSTNAME}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def nginx_conf(directory: Path, site: str) -> Path:
    """A main nginx.conf with every path under the test's directory, around the documented site."""
    paths = "\n".join(
        f"    {name}_temp_path {directory / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"user {pwd.getpwuid(os.getuid()).pw_name};\n"
        "worker_processes 1;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'};\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "    access_log off;\n"
        f"{paths}\n"
        f"{site}\n"
        "}\n"
    )
    return conf


@contextlib.contextmanager
def running_nginx(directory: Path, conf: Path, port: int) -> Iterator[None]:
    """nginx in the foreground, stopped (by its own process id) when the test ends."""
    proc = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, (directory / "error.log").read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class Site:
    """The server, and the ports nginx serves it on."""

    server: Server
    https_port: int
    http_port: int

    @property
    def origin(self) -> str:
        """What a browser sends as Origin, and LIVE_PUBLIC_URL."""
        return f"https://{HOSTNAME}:{self.https_port}"


@pytest.fixture
async def site(settings, tmp_path) -> AsyncIterator[Site]:
    """The live server behind the documented nginx, configured as docs/DEPLOY.md says."""
    require(NGINX, "nginx")
    require(OPENSSL, "openssl")
    https_port, http_port = free_port(), free_port()
    configured = settings.model_copy(update={
        "port": free_port(),
        "public_url": f"https://{HOSTNAME}:{https_port}",
        "trusted_proxies": "127.0.0.1",
    })
    cert, key = self_signed(tmp_path)
    conf = nginx_conf(tmp_path, documented_site(configured.port, http_port, https_port, cert, key))
    async with running_server(configured, configured.port) as server:
        with running_nginx(tmp_path, conf, https_port):
            yield Site(server, https_port, http_port)


@pytest.fixture
async def tls_browser():
    """Chromium that accepts the throwaway certificate and resolves the test's hostname locally."""
    require(CHROMIUM, "chromium")
    args = [*CHROMIUM_ARGS, "--ignore-certificate-errors",
            f"--host-resolver-rules=MAP {HOSTNAME} 127.0.0.1"]
    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield instance
        finally:
            await instance.close()


async def join_in_browser(browser, site: Site, code: str, *, websocket: bool) -> list:
    """Open the participant page over https and join; the websockets the page opened."""
    context = await browser.new_context()
    if not websocket:  # as behind a proxy that blocks websockets: the client stays on polling
        await context.add_init_script("delete window.WebSocket;")
    page = await context.new_page()
    sockets: list = []
    page.on("websocket", lambda ws: sockets.append(ws))
    await page.goto(f"{site.origin}/e/{code}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    await page.get_by_role("button", name="I'm in the room").click()
    await expect(page.get_by_label("Ask a question")).to_be_visible()
    return sockets


async def settled(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for the client's upgrade to websocket, which follows its polling connect."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.02)


async def test_a_browser_connects_through_the_documented_tls_proxy(site, tls_browser):
    code = (await site.server.create_event("Behind nginx"))["event"]["code"]
    sessions = site.server.app[SIO].eio.sockets

    sockets = await join_in_browser(tls_browser, site, code, websocket=True)
    await settled(lambda: [s.upgraded for s in sessions.values()] == [True])
    assert [ws.url.split("?")[0] for ws in sockets] == [f"wss://{HOSTNAME}:{site.https_port}/socket.io/"]

    assert await join_in_browser(tls_browser, site, code, websocket=False) == []
    assert sorted(s.upgraded for s in sessions.values()) == [False, True]


async def test_the_tls_proxy_refuses_other_origins_and_redirects_plain_http(site):
    polling = f"https://127.0.0.1:{site.https_port}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(polling, headers={"Origin": site.origin}, ssl=False) as res:
            assert res.status == 200
        async with http.get(polling, headers={"Origin": "https://evil.example"}, ssl=False) as res:
            assert res.status == 400
        plain = f"http://127.0.0.1:{site.http_port}/e/CODE"
        async with http.get(plain, headers={"Host": HOSTNAME}, allow_redirects=False) as res:
            assert res.status == 301
            assert res.headers["Location"] == f"https://{HOSTNAME}/e/CODE"
