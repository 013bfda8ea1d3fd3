"""Static files, compressed once in memory and re-read only when they change: a poor line gets a
quarter of the bytes, and the server compresses each file once rather than for every visitor."""

import asyncio
import gzip
import hashlib
import mimetypes
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from aiohttp import hdrs, web

#: The strongest levels: each file is compressed once, so their cost does not matter.
GZIP_LEVEL = 9
BROTLI_QUALITY = 11
#: Content codings for static files, the smallest first.
COMPRESSORS = {
    "br": lambda body: brotli.compress(body, quality=BROTLI_QUALITY),
    "gzip": lambda body: gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
}
FALLBACK_TYPE = "application/octet-stream"
#: Hex digits of a file's SHA-256 that name its content: 64 bits tell versions apart.
DIGEST_LENGTH = 16
#: The query parameter that carries a file's digest in its versioned URL.
VERSION = "v"
PREFIX = "/static/"
#: A versioned URL names exactly these bytes, so a browser keeps them without asking again.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: A reference to a static file in one of the static HTML pages.
STATIC_REFERENCE = re.compile(r'(?P<attr>(?:src|href)=")/static/(?P<name>[^"?#]+)"')
REFUSED = re.compile(r"q=0(\.0{0,3})?")


def accepted_codings(request: web.BaseRequest) -> frozenset[str]:
    """The content codings the client's Accept-Encoding takes (any but those given q=0)."""
    codings = set()
    for item in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower().split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name and not any(REFUSED.fullmatch(p.replace(" ", "")) for p in params):
            codings.add(name)
    return frozenset(codings)


@dataclass(frozen=True)
class Asset:
    """One static file as served: its bytes, their digest, and their compressed forms."""

    body: bytes
    digest: str
    content_type: str
    charset: str | None
    stamp: tuple[int, int]  # (mtime_ns, size) of the file these bytes were read from
    encoded: dict[str, bytes | None] = field(default_factory=dict)  # None: no smaller

    def compress(self, coding: str) -> bytes | None:
        """The body in this coding, made on first use, or None when it would not be smaller."""
        if coding not in self.encoded:
            data = COMPRESSORS[coding](self.body)
            self.encoded[coding] = data if len(data) < len(self.body) else None
        return self.encoded[coding]


class StaticFiles:
    """The static folder: each file read and compressed on first use, again after it changes.

    The cache holds at most one entry per file in the folder, so it is bounded by the folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, Asset] = {}

    def get(self, name: str) -> Asset | None:
        """The file at this path inside the folder, or None for anything else."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            return None
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        cached = self._cache.get(path)
        if cached is None or cached.stamp != stamp:
            cached = self._cache[path] = _read(path, stamp)
        return cached

    def url(self, name: str) -> str:
        """The file's URL with its digest: it changes when the file does (a template global)."""
        asset = self.get(name)
        if asset is None:
            raise LookupError(f"No static file {name}")
        return f"{PREFIX}{name}?{VERSION}={asset.digest}"

    def page(self, name: str) -> web.Response:
        """A static HTML page with its references to static files versioned, as templates have."""
        asset = self.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        html = STATIC_REFERENCE.sub(self._versioned, asset.body.decode())
        return web.Response(text=html, content_type="text/html")

    def _versioned(self, reference: re.Match[str]) -> str:
        name = reference["name"]
        url = self.url(name) if self.get(name) is not None else f"{PREFIX}{name}"
        return f'{reference["attr"]}{url}"'

    async def serve(self, request: web.Request) -> web.Response:
        return await self.response(request, request.match_info["path"])

    async def response(self, request: web.Request, name: str) -> web.Response:
        """The file, compressed as the client takes it: kept for a year under the URL that names
        its digest, revalidated under any other."""
        asset = self.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        versioned = request.query.get(VERSION) == asset.digest
        headers = {hdrs.CACHE_CONTROL: IMMUTABLE if versioned else REVALIDATE,
                   hdrs.VARY: hdrs.ACCEPT_ENCODING, hdrs.ETAG: f'"{asset.digest}"'}
        if any(tag.value in (asset.digest, "*") for tag in request.if_none_match or ()):
            return web.Response(status=304, headers=headers)
        body = asset.body
        accepted = accepted_codings(request)
        for coding in COMPRESSORS:
            if coding in accepted:
                encoded = await _compressed(asset, coding)
                if encoded is not None:
                    body = encoded
                    headers[hdrs.CONTENT_ENCODING] = coding
                break
        return web.Response(
            body=body, content_type=asset.content_type, charset=asset.charset, headers=headers
        )


async def _compressed(asset: Asset, coding: str) -> bytes | None:
    """A file's first compression takes tens of milliseconds: not on the event loop."""
    if coding in asset.encoded:
        return asset.encoded[coding]
    return await asyncio.to_thread(asset.compress, coding)


#: Served without their comments and indentation (files named .min. are minified already).
MINIFIERS = {"text/javascript": rjsmin.jsmin, "text/css": rcssmin.cssmin}


def _read(path: Path, stamp: tuple[int, int]) -> Asset:
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or FALLBACK_TYPE
    minify = MINIFIERS.get(content_type)
    if minify is not None and ".min." not in path.name:
        body = minify(body)
    textual = content_type.startswith("text/") or content_type == "image/svg+xml"
    return Asset(
        body=body,
        digest=hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH],
        content_type=content_type,
        charset="utf-8" if textual else None,
        stamp=stamp,
    )
