"""Every setting in one declarative place: defaults, help text, LIVE_* environment variables."""

import ipaddress
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
REDIS_SCHEMES = ("redis", "rediss", "unix")


def items(text: str) -> list[str]:
    """The entries of a comma-separated setting, without blanks."""
    return [item.strip() for item in text.split(",") if item.strip()]


class Settings(BaseSettings):
    """Server configuration; each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="LIVE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on.")
    db: Path = Field(Path("live.db"), description="Path of the SQLite database file.")
    database_url: str = Field(
        "", description="PostgreSQL URL (postgresql://user@host/name, PostgreSQL 13 or newer) "
        "that every process on every host shares; empty means the SQLite file at db.",
    )
    public_url: str = Field(
        "",
        description="Base URL people use to reach the server, for printed links and QR codes; "
        "when set, its origin is the one browsers may open Socket.IO connections from. "
        "Defaults to http://HOST:PORT.",
    )
    organiser_token: str = Field(
        "",
        description="Organiser API token. If empty, one is generated at first start, "
        "printed once and stored hashed.",
    )
    redis_url: str = Field(
        "", description="Redis URL (redis://, rediss:// or unix://) for fan-out between worker "
        "processes; empty means one process.",
    )
    workers: int = Field(
        1, ge=1, description="Worker processes `live serve` starts on the one port (SO_REUSEPORT); "
        "more than one needs redis_url, and long-polling needs a sticky proxy (docs/DEPLOY.md).",
    )
    allowed_origins: str = Field(
        "",
        description="Comma-separated extra origins allowed to open Socket.IO connections "
        "(the server's own origin, public_url's when set, is always allowed).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For headers are believed; "
        "from anyone else they are ignored.",
    )
    ask_limit: int = Field(
        5, ge=1, description="Questions one participant may ask per ask_window seconds."
    )
    ask_window: float = Field(60.0, gt=0, description="Window of the ask rate limit, in seconds.")
    join_limit: int = Field(
        300,
        ge=1,
        description="New participants one address may add to one event per join_window "
        "seconds; generous, since a venue's Wi-Fi puts a whole room behind one address.",
    )
    join_window: float = Field(60.0, gt=0, description="Window of the join rate limit, in seconds.")
    signin_limit: int = Field(
        10, ge=1, description="Failed sign-ins (moderator secret, screen token, organiser token) "
        "one address may make per signin_window seconds before it must wait.",
    )
    signin_event_limit: int = Field(
        100,
        ge=1,
        description="Failed sign-ins to one event (or to the organiser API) per signin_window "
        "seconds, from all addresses together, before every sign-in to it waits.",
    )
    signin_window: float = Field(
        60.0, gt=0, description="Window of the sign-in rate limits, in seconds."
    )
    vote_flush_interval: float = Field(
        0.1, gt=0, description="Minimum seconds between two vote-count broadcasts of one event."
    )
    vote_delivery_rate: float = Field(
        20000.0,
        ge=0,
        description="Socket writes per second one event's vote-count and poll broadcasts may "
        "cost this worker: with more watchers than this × vote_flush_interval, broadcasts are "
        "spaced further apart (5,000 watchers: every 0.25 s). 0 means no limit.",
    )
    poll_flush_interval: float = Field(
        0.2, gt=0, description="Minimum seconds between two poll-results broadcasts of one event."
    )
    smtp_host: str = Field(
        "", description="SMTP server for authors' email receipts; empty means no email is sent "
        "and the participant page does not offer receipts."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str = Field(
        "", description="From address of receipt emails; defaults to live@ the SMTP host."
    )
    smtp_username: str = Field("", description="SMTP login name; empty means no login.")
    smtp_password: str = Field("", description="SMTP password, used with smtp_username.")
    smtp_starttls: bool = Field(
        False, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    log_level: str = Field("INFO", description="Logging level (DEBUG, INFO, WARNING, ERROR).")
    time_zone: str = Field(
        "Europe/London", description="IANA time zone in which the organisers' console reads "
        "scheduled times and pages first show them, before the browser shows the visitor's own."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="How log lines are written to stderr: text for people, or json (one "
        "object per line: time, level, logger, message, event, exception) for a log collector.",
    )
    metrics_token: str = Field(
        "", description="Bearer token Prometheus must send to read /metrics. With neither it nor "
        "metrics_allow set, /metrics answers 404.",
    )
    metrics_allow: str = Field(
        "", description="Comma-separated addresses or networks (CIDR) allowed to read /metrics, "
        "checked against the client address (after trusted_proxies); with metrics_token set "
        "too, a scrape needs both.",
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """An unusable public URL would silently fall back to trusting the Host header."""
        scheme, _, rest = value.partition("://")
        if value and (scheme not in ("http", "https") or not rest.strip("/")):
            raise ValueError(f"not an http:// or https:// URL: {value!r}")
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not an IANA time zone such as Europe/London: {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        """redis-py takes only these; any other URL leaves the listener retrying at full speed."""
        if value and value.partition("://")[0] not in REDIS_SCHEMES:
            raise ValueError(f"not a redis://, rediss:// or unix:// URL: {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """Anything else would be taken for a PostgreSQL server and fail only at the first write."""
        if value and value.partition("://")[0] not in ("postgresql", "postgres"):
            raise ValueError("not a postgresql:// URL (the value is not repeated: it may hold a password)")
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        """A typo here would silently ignore the proxy, or trust more than meant."""
        for item in items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return value

    def proxy_networks(self) -> tuple[Network, ...]:
        """The proxies whose forwarded headers are believed."""
        return tuple(
            ipaddress.ip_network(item, strict=False) for item in items(self.trusted_proxies)
        )

    def metrics_networks(self) -> tuple[Network, ...]:
        """The addresses allowed to read /metrics."""
        return tuple(
            ipaddress.ip_network(item, strict=False) for item in items(self.metrics_allow)
        )

    def base_url(self) -> str:
        """The URL printed in links; public_url when set."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
