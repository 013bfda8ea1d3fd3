"""live: a self-hosted, real-time companion server for live-streamed public events."""

__version__ = "0.1.0"
