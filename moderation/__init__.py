"""Automatic filters for audience questions: pure functions, no I/O, cheap on every question."""

from moderation.config import FILTER_NAMES, FilterConfig
from moderation.context import Context
from moderation.pipeline import FILTERS, combine, evaluate
from moderation.text import fold, normalize
from moderation.verdict import Action, Reason, Verdict

__all__ = [
    "FILTERS",
    "FILTER_NAMES",
    "Action",
    "Context",
    "FilterConfig",
    "Reason",
    "Verdict",
    "combine",
    "evaluate",
    "fold",
    "normalize",
]
