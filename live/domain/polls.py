"""Polls: kinds, lifecycle, answer validation and tallies, as pure functions of stored rows."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from live.domain import errors
from live.domain.errors import LiveError
from live.domain.text import clean

MAX_OPTIONS = 20
OPTION_MAX = 120
POLL_QUESTION_MAX = 300
WORD_ENTRY_MAX = 40
WORDS_PER_ENTRY = 3
MAX_WORD_ENTRIES = 10
OPEN_TEXT_MAX = 280
OPEN_TEXT_SHOWN = 50
WORD_CLOUD_TOP = 60
RATING_LIMITS = (-10, 100)
ATTENDANCES = ("in_room", "remote")


class PollKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    WORD_CLOUD = "word_cloud"
    OPEN_TEXT = "open_text"
    RANKING = "ranking"


class PollState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Audience(StrEnum):
    EVERYONE = "everyone"
    IN_ROOM = "in_room"


class ResultsVisibility(StrEnum):
    """live: everyone sees results as they come; after_close: once closed; staff: screen and moderators."""

    LIVE = "live"
    AFTER_CLOSE = "after_close"
    STAFF = "staff"


TRANSITIONS: dict[PollState, frozenset[PollState]] = {
    PollState.DRAFT: frozenset({PollState.OPEN}),
    PollState.OPEN: frozenset({PollState.CLOSED}),
    PollState.CLOSED: frozenset({PollState.OPEN}),
}

WITH_OPTIONS = frozenset({PollKind.SINGLE, PollKind.MULTIPLE, PollKind.RANKING})


def transition(current: PollState, target: PollState) -> PollState:
    """A poll goes draft → open ⇄ closed; anything else is refused."""
    if target not in TRANSITIONS[current]:
        state = errors.with_article(current.value)
        raise LiveError(errors.CONFLICT, f"{state} poll cannot become {target.value}.")
    return target


@dataclass(frozen=True)
class PollSpec:
    """What an organiser defines; validated once, stored as columns and JSON."""

    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    max_choices: int = 1
    scale_min: int = 1
    scale_max: int = 5
    max_entries: int = 3

    def validate(self) -> "PollSpec":
        if not 1 <= len(self.question) <= POLL_QUESTION_MAX:
            raise LiveError(errors.INVALID, f"A poll question has 1 to {POLL_QUESTION_MAX} characters.")
        if self.kind in WITH_OPTIONS:
            if not 2 <= len(self.options) <= MAX_OPTIONS:
                raise LiveError(errors.INVALID, f"This kind of poll needs 2 to {MAX_OPTIONS} options.")
            if any(not 1 <= len(o) <= OPTION_MAX for o in self.options):
                raise LiveError(errors.INVALID, f"Each option has 1 to {OPTION_MAX} characters.")
            if len({o.casefold() for o in self.options}) != len(self.options):
                raise LiveError(errors.INVALID, "Options must differ from each other.")
        elif self.options:
            kind = errors.with_article(self.kind.value)
            raise LiveError(errors.INVALID, f"{kind} poll has no options.")
        if self.kind is PollKind.MULTIPLE and not 1 <= self.max_choices <= len(self.options):
            raise LiveError(errors.INVALID, "max_choices is between 1 and the number of options.")
        if self.kind is PollKind.RATING:
            low, high = RATING_LIMITS
            if not (low <= self.scale_min < self.scale_max <= high and self.scale_max - self.scale_min <= 20):
                raise LiveError(
                    errors.INVALID, f"A rating scale runs upwards within {low}..{high}, at most 21 steps."
                )
        if self.kind is PollKind.WORD_CLOUD and not 1 <= self.max_entries <= MAX_WORD_ENTRIES:
            raise LiveError(errors.INVALID, f"max_entries is between 1 and {MAX_WORD_ENTRIES}.")
        return self

    def settings(self) -> dict:
        """The kind-specific settings worth storing and showing."""
        if self.kind is PollKind.MULTIPLE:
            return {"max_choices": self.max_choices}
        if self.kind is PollKind.RATING:
            return {"scale_min": self.scale_min, "scale_max": self.scale_max}
        if self.kind is PollKind.WORD_CLOUD:
            return {"max_entries": self.max_entries}
        return {}


def spec_of(row: dict) -> PollSpec:
    settings = row["settings"]
    return PollSpec(
        kind=PollKind(row["kind"]),
        question=row["question"],
        options=tuple(row["options"]),
        max_choices=settings.get("max_choices", 1),
        scale_min=settings.get("scale_min", 1),
        scale_max=settings.get("scale_max", 5),
        max_entries=settings.get("max_entries", 3),
    )


def normalise_word(entry: str) -> str:
    """Word-cloud entries are counted case- and spacing-insensitively."""
    return clean(entry).casefold()


def validate_answer(spec: PollSpec, value: object) -> object:
    """Check a participant's answer against the poll; return the canonical form to store."""

    def bad(message: str) -> LiveError:
        return LiveError(errors.INVALID, message)

    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    count = len(spec.options)
    if spec.kind is PollKind.SINGLE:
        if not is_int(value) or not 0 <= value < count:
            raise bad(f"Choose one option by its index, 0 to {count - 1}.")
        return value
    if spec.kind is PollKind.MULTIPLE:
        if not isinstance(value, list) or not all(is_int(v) for v in value):
            raise bad("Choose options by their indexes, as a list.")
        if not value:
            raise bad("Choose at least one option.")
        if len(value) > spec.max_choices:
            raise bad(f"Choose at most {spec.max_choices} options.")
        if len(set(value)) != len(value) or not all(0 <= v < count for v in value):
            raise bad(f"Each option once, by its index, 0 to {count - 1}.")
        return sorted(value)
    if spec.kind is PollKind.RATING:
        if not is_int(value) or not spec.scale_min <= value <= spec.scale_max:
            raise bad(f"Rate from {spec.scale_min} to {spec.scale_max}.")
        return value
    if spec.kind is PollKind.RANKING:
        if not isinstance(value, list) or not all(is_int(v) for v in value):
            raise bad("Rank the options as a list of their indexes, best first.")
        if sorted(value) != list(range(count)):
            raise bad(f"Rank every option exactly once: indexes 0 to {count - 1}.")
        return value
    if spec.kind is PollKind.WORD_CLOUD:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("Send your words as a list of strings.")
        words = [normalise_word(v) for v in value if len(v) <= WORD_ENTRY_MAX * 4]
        if len(words) != len(value) or not words or any(not w for w in words):
            raise bad("Each entry needs some words.")
        if len(words) > spec.max_entries:
            raise bad(f"Send at most {spec.max_entries} entries.")
        for word in words:
            if len(word) > WORD_ENTRY_MAX or len(word.split(" ")) > WORDS_PER_ENTRY:
                raise bad(f"Each entry is 1 to {WORDS_PER_ENTRY} words, at most {WORD_ENTRY_MAX} characters.")
        return sorted(set(words))
    if spec.kind is PollKind.OPEN_TEXT:
        if not isinstance(value, str):
            raise bad("Send your answer as text.")
        text = clean(value)
        if not 1 <= len(text) <= OPEN_TEXT_MAX:
            raise bad(f"An answer has 1 to {OPEN_TEXT_MAX} characters.")
        return text
    raise bad("Unknown poll kind.")


def _tally(spec: PollSpec, answers: list[object]) -> dict:
    count = len(spec.options)
    if spec.kind is PollKind.SINGLE:
        counts = [0] * count
        for a in answers:
            counts[a] += 1
        return {"counts": counts}
    if spec.kind is PollKind.MULTIPLE:
        counts = [0] * count
        for a in answers:
            for choice in a:
                counts[choice] += 1
        return {"counts": counts}
    if spec.kind is PollKind.RATING:
        steps = list(range(spec.scale_min, spec.scale_max + 1))
        distribution = Counter(answers)
        mean = round(sum(answers) / len(answers), 3) if answers else None
        return {"scale": steps, "counts": [distribution[s] for s in steps], "mean": mean}
    if spec.kind is PollKind.RANKING:
        scores = [0] * count
        positions = [[0] * count for _ in range(count)]
        for order in answers:
            for position, option in enumerate(order):
                scores[option] += count - 1 - position
                positions[option][position] += 1
        return {"scores": scores, "positions": positions}
    if spec.kind is PollKind.WORD_CLOUD:
        words = Counter(word for entry in answers for word in entry)
        top = sorted(words.items(), key=lambda item: (-item[1], item[0]))[:WORD_CLOUD_TOP]
        return {"words": [[word, n] for word, n in top], "distinct": len(words)}
    return {"answers": answers[-OPEN_TEXT_SHOWN:]}


def results(spec: PollSpec, rows: Iterable[tuple[str, object]]) -> dict:
    """Tallies for all, in the room and remote, from (attendance, answer) rows that count."""
    by_attendance: dict[str, list[object]] = {a: [] for a in ATTENDANCES}
    for attendance, answer in rows:
        by_attendance[attendance].append(answer)
    everyone = by_attendance["in_room"] + by_attendance["remote"]
    return {
        "responses": {
            "all": len(everyone),
            **{a: len(by_attendance[a]) for a in ATTENDANCES},
        },
        "all": _tally(spec, everyone),
        **{a: _tally(spec, by_attendance[a]) for a in ATTENDANCES},
    }


def results_visible_to_audience(visibility: ResultsVisibility, state: PollState) -> bool:
    """Whether participants may see a poll's results now (the screen and moderators always may)."""
    if visibility is ResultsVisibility.LIVE:
        return True
    if visibility is ResultsVisibility.AFTER_CLOSE:
        return state is PollState.CLOSED
    return False


@dataclass(frozen=True)
class PollAnswered:
    """Someone answered a poll at seq; its tally is recomputed and sent when the window flushes."""

    event_id: int
    seq: int
    poll_id: int


def public_poll(row: dict, results_now: dict | None) -> dict:
    """A poll as the audience sees it; results only when its visibility allows."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "question": row["question"],
        "options": row["options"],
        "settings": row["settings"],
        "audience": row["audience"],
        "visibility": row["visibility"],
        "state": row["state"],
        "opened_at": row["opened_at"],
        "results": results_now,
    }
