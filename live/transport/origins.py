"""The Socket.IO handshake's origin allow-list: no cross-site WebSocket hijacking."""

from collections.abc import Callable

from yarl import URL

from live.settings import Settings, items


def origin_of(url: str) -> str | None:
    """The normalised origin of an http(s) URL, as a browser sends it; None for anything else."""
    try:
        parsed = URL(url)
        if not parsed.absolute or parsed.scheme not in ("http", "https") or not parsed.host:
            return None
        return str(parsed.origin())
    except ValueError:
        return None


def origin_check(settings: Settings) -> Callable[[str | None, dict], bool]:
    """engine.io's `cors_allowed_origins` callable: the public URL's origin when it is set, else the
    request's own (scheme and host as a trusted proxy forwarded them), plus allowed_origins."""
    extra = {origin for item in items(settings.allowed_origins) if (origin := origin_of(item))}
    public = origin_of(settings.public_url) if settings.public_url else None
    if public is not None:
        allowed = frozenset({public, *extra})

        def check_public(origin: str | None, environ: dict) -> bool:
            return origin is not None and origin_of(origin) in allowed

        return check_public

    def check_own(origin: str | None, environ: dict) -> bool:
        if origin is None:
            return False
        normalised = origin_of(origin)
        if normalised is None:
            return False
        if normalised in extra:
            return True
        request = environ["aiohttp.request"]
        return normalised == origin_of(f"{request.scheme}://{request.host}")

    return check_own
