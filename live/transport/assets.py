"""Static files, gzipped once in memory and re-read only when they change: a poor line gets a
third of the bytes, and the server compresses each file once rather than for every visitor."""

import gzip
import hashlib
import mimetypes
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web

#: gzip's strongest level: each file is compressed once, so its cost does not matter.
GZIP_LEVEL = 9
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


def accepts_gzip(request: web.BaseRequest) -> bool:
    """Whether the client takes gzip, judged as aiohttp's own compression judges it."""
    return "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower()


@dataclass(frozen=True)
class Asset:
    """One static file as served: its bytes, gzipped when that is smaller, and their digest."""

    body: bytes
    digest: str
    gzipped: bytes | None
    content_type: str
    charset: str | None
    stamp: tuple[int, int]  # (mtime_ns, size) of the file these bytes were read from


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
        return self.response(request, request.match_info["path"])

    def response(self, request: web.Request, name: str) -> web.Response:
        """The file, gzipped for a client that takes it: kept for a year under the URL that
        names its digest, revalidated under any other."""
        asset = self.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        versioned = request.query.get(VERSION) == asset.digest
        headers = {hdrs.CACHE_CONTROL: IMMUTABLE if versioned else REVALIDATE,
                   hdrs.VARY: hdrs.ACCEPT_ENCODING, hdrs.ETAG: f'"{asset.digest}"'}
        if any(tag.value in (asset.digest, "*") for tag in request.if_none_match or ()):
            return web.Response(status=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and accepts_gzip(request):
            body = asset.gzipped
            headers[hdrs.CONTENT_ENCODING] = "gzip"
        return web.Response(
            body=body, content_type=asset.content_type, charset=asset.charset, headers=headers
        )


def _read(path: Path, stamp: tuple[int, int]) -> Asset:
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or FALLBACK_TYPE
    compressed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    textual = content_type.startswith("text/") or content_type == "image/svg+xml"
    return Asset(
        body=body,
        digest=hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH],
        gzipped=compressed if len(compressed) < len(body) else None,
        content_type=content_type,
        charset="utf-8" if textual else None,
        stamp=stamp,
    )
