"""Which livestream URLs play inside the participant page, and from which single origin."""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"})
YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
#: YouTube's player that sets no cookie until the viewer presses play.
YOUTUBE_EMBED = "https://www.youtube-nocookie.com"
VIMEO_HOSTS = frozenset({"vimeo.com", "www.vimeo.com", "player.vimeo.com"})
VIMEO_ID = re.compile(r"[0-9]{1,12}")
VIMEO_PLAYER = "https://player.vimeo.com"
VIMEO_EVENTS = "https://vimeo.com"
#: Files a <video> element plays itself (HLS natively in Safari, iOS and Android's Chrome).
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".m3u8": "application/vnd.apple.mpegurl"}


class EmbedKind(StrEnum):
    FRAME = "frame"
    VIDEO = "video"


@dataclass(frozen=True)
class Embed:
    """A stream the page can play: what to put in it, and the origin its CSP must allow."""

    kind: EmbedKind
    src: str
    origin: str
    media_type: str | None = None


def embed(url: str | None) -> Embed | None:
    """The player for a known provider's URL, or None: that URL stays a plain link.

    Only https URLs play in the page, since a browser refuses http media in an https page.
    """
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password:
        return None
    path = [p for p in parts.path.split("/") if p]
    if host in YOUTUBE_HOSTS:
        return _youtube(host, path, parse_qs(parts.query))
    if host in VIMEO_HOSTS:
        return _vimeo(host, path)
    suffix = next((s for s in VIDEO_TYPES if parts.path.lower().endswith(s)), None)
    if suffix is None:
        return None
    origin = f"https://{host}" + (f":{parts.port}" if parts.port else "")
    return Embed(EmbedKind.VIDEO, url, origin, VIDEO_TYPES[suffix])


def _youtube(host: str, path: list[str], query: dict[str, list[str]]) -> Embed | None:
    if host == "youtu.be":
        found = path[0] if len(path) == 1 else None
    elif path == ["watch"]:
        found = query.get("v", [None])[0]
    elif len(path) == 2 and path[0] in ("live", "embed", "shorts"):
        found = path[1]
    else:
        found = None
    if found is None or not YOUTUBE_ID.fullmatch(found):
        return None
    return Embed(EmbedKind.FRAME, f"{YOUTUBE_EMBED}/embed/{found}", YOUTUBE_EMBED)


def _vimeo(host: str, path: list[str]) -> Embed | None:
    if host == "player.vimeo.com" and len(path) == 2 and path[0] == "video":
        found = path[1]
    elif host != "player.vimeo.com" and len(path) in (2, 3) and path[0] == "event" \
            and path[2:] in ([], ["embed"]) and VIMEO_ID.fullmatch(path[1]):
        return Embed(EmbedKind.FRAME, f"{VIMEO_EVENTS}/event/{path[1]}/embed", VIMEO_EVENTS)
    elif host != "player.vimeo.com" and len(path) == 1:
        found = path[0]
    else:
        return None
    if not VIMEO_ID.fullmatch(found):
        return None
    return Embed(EmbedKind.FRAME, f"{VIMEO_PLAYER}/video/{found}", VIMEO_PLAYER)
