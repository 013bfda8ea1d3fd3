"""Per-event settings of the automatic filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moderation.verdict import Action

#: Names of the filters, in the order the pipeline runs them; an event switches one off by name.
FILTER_NAMES: tuple[str, ...] = (
    "flood",
    "offensive",
    "blocked_term",
    "personal_data",
    "link",
    "shouting",
    "repetition",
    "duplicate",
)


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """One event's filter settings; hashable, so compiled matchers are cached per config."""

    disabled: frozenset[str] = frozenset()
    blocked_terms: tuple[str, ...] = ()
    allowed_terms: tuple[str, ...] = ()
    offensive_action: Action = Action.HOLD
    blocked_term_action: Action = Action.HOLD
    flood_limit_per_minute: int = 5
    duplicate_threshold: float = 85.0
    shouting_min_letters: int = 12
    shouting_upper_ratio: float = 0.7
    repetition_min_run: int = 6

    def __post_init__(self) -> None:
        """Store lists as hashable tuples; refuse settings that would silently do nothing."""
        _set(self, "disabled", frozenset(self.disabled))
        unknown = self.disabled - set(FILTER_NAMES)
        if unknown:
            raise ValueError(f"unknown filters: {sorted(unknown)}; known: {list(FILTER_NAMES)}")
        _set(self, "blocked_terms", _terms(self.blocked_terms))
        _set(self, "allowed_terms", _terms(self.allowed_terms))
        _set(self, "offensive_action", Action(self.offensive_action))
        _set(self, "blocked_term_action", Action(self.blocked_term_action))
        if self.flood_limit_per_minute < 1:
            raise ValueError("flood_limit_per_minute must be at least 1")
        if not 0 <= self.duplicate_threshold <= 100:
            raise ValueError("duplicate_threshold is a 0-100 similarity score")
        if self.shouting_min_letters < 1:
            raise ValueError("shouting_min_letters must be at least 1")
        if not 0 < self.shouting_upper_ratio <= 1:
            raise ValueError("shouting_upper_ratio is a fraction in (0, 1]")
        if self.repetition_min_run < 2:
            raise ValueError("repetition_min_run must be at least 2")

    def enabled(self, name: str) -> bool:
        """Whether the named filter runs for this event."""
        return name not in self.disabled


def _terms(terms: Iterable[str]) -> tuple[str, ...]:
    """Keep non-blank terms in their given order, without repeats, as a hashable tuple."""
    if isinstance(terms, str):
        raise TypeError("terms must be a sequence of strings, not one string")
    return tuple(dict.fromkeys(t.strip() for t in terms if t.strip()))


def _set(config: FilterConfig, name: str, value: object) -> None:
    """Assign during __post_init__ of the frozen dataclass."""
    object.__setattr__(config, name, value)
