"""Bad form bodies get the page's own answer; streamed responses carry the security headers."""

import aiohttp
import pytest

from support import ORGANISER_TOKEN

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")

MALFORMED_FORMS = {
    "boundary never closed": (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="secret"\r\n\r\nabc',
    ),
    "no boundary": ("multipart/form-data", b"secret=abc&pseudonym=Mod"),
    "garbage parts": ("multipart/form-data; boundary=xyz", b"--xyz\r\n\x00\xff\r\n\r\n--xyz--"),
    "part without a name": (
        "multipart/form-data; boundary=xyz",
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--xyz--\r\n",
    ),
    "unknown transfer encoding": (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="secret"\r\n'
        b"Content-Transfer-Encoding: rot13\r\n\r\nabc\r\n--xyz--\r\n",
    ),
    "boundary too long": ("multipart/form-data; boundary=" + "b" * 100, b"--" + b"b" * 100),
}


@pytest.mark.parametrize("content_type, body", MALFORMED_FORMS.values(), ids=MALFORMED_FORMS)
async def test_a_malformed_sign_in_form_is_sent_back_to_the_form(server, event, content_type, body):
    code = event["code"]
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.url}/e/{code}/moderate", data=body,
            headers={"Content-Type": content_type}, allow_redirects=False,
        ) as res:
            assert res.status == 303, await res.text()
            assert res.headers["Location"] == f"/e/{code}/moderate?failed=invalid"


@pytest.mark.parametrize("path", ["export.json", "export.csv?table=questions"])
async def test_a_streamed_export_carries_the_security_headers(server, event, path):
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{server.url}/api/events/{event['code']}/{path}",
            headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"},
        ) as res:
            assert res.status == 200
            await res.read()
            assert res.headers.get("Content-Security-Policy", "").startswith("default-src 'none'")
            assert res.headers.get("X-Content-Type-Options") == "nosniff"
            assert res.headers.get("Referrer-Policy") == "no-referrer"
