"""Runs an event's filters on a question and combines their verdicts into one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from moderation import filters
from moderation.config import FilterConfig
from moderation.context import Context
from moderation.filters import Filter
from moderation.verdict import Action, Reason, Verdict

__all__ = ["FILTERS", "Context", "combine", "evaluate"]

#: Every filter by the name an event config uses to switch it off, in the order they run.
FILTERS: Mapping[str, Filter] = MappingProxyType(
    {
        "flood": filters.flood,
        "offensive": filters.offensive,
        "blocked_term": filters.blocked_term,
        "personal_data": filters.personal_data,
        "link": filters.link,
        "shouting": filters.shouting,
        "repetition": filters.repetition,
        "duplicate": filters.duplicate,
    }
)

_DEFAULT_CONFIG = FilterConfig()
_NO_CONTEXT = Context()


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe action, every reason once in canonical order, the best duplicate."""
    action = Action.PUBLISH
    reasons: set[Reason] = set()
    duplicate_of: int | None = None
    duplicate_score: float | None = None
    for v in verdicts:
        if v.action.severity > action.severity:
            action = v.action
        reasons.update(v.reasons)
        if v.duplicate_score is not None and (
            duplicate_score is None or v.duplicate_score > duplicate_score
        ):
            duplicate_of, duplicate_score = v.duplicate_of, v.duplicate_score
    return Verdict(action, tuple(r for r in Reason if r in reasons), duplicate_of, duplicate_score)


def evaluate(
    text: str, config: FilterConfig = _DEFAULT_CONFIG, context: Context = _NO_CONTEXT
) -> Verdict:
    """Decide what happens to a newly asked question under the event's filter settings."""
    return combine(f(text, config, context) for name, f in FILTERS.items() if config.enabled(name))
