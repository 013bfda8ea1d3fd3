"""What the pipeline knows about the event and the author besides the question itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Context:
    """Facts the caller looked up so that the filters themselves stay free of I/O."""

    existing: Sequence[tuple[int, str]] = ()  # published questions (id, text) to compare against
    recent_count: int = 0  # the author's questions in the last 60 s, not counting this one
