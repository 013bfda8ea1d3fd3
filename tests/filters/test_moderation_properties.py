"""Property tests: no input makes the pipeline raise, and every verdict is well formed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import (
    FILTER_NAMES,
    Action,
    Context,
    FilterConfig,
    Reason,
    Verdict,
    evaluate,
    fold,
    normalize,
)

# Mix arbitrary Unicode with the characters the filters look at, to reach the interesting paths.
_ALPHABET = st.one_of(
    st.characters(),
    st.sampled_from(
        "0123456789 +-().@$!*_:/\u200bABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzşŞ"
    ),
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=_ALPHABET, max_size=300),
    st.sampled_from(
        ["shit", "07700 900123", "example.com", "WHY ARE WAITING LISTS SO LONG", "!!!!!!!"]
    ),
)
existing = st.lists(st.tuples(st.integers(), texts), max_size=20)

configs = st.builds(
    FilterConfig,
    disabled=st.frozensets(st.sampled_from(FILTER_NAMES)),
    blocked_terms=st.lists(texts, max_size=5).map(tuple),
    allowed_terms=st.lists(texts, max_size=5).map(tuple),
    offensive_action=st.sampled_from(Action),
    blocked_term_action=st.sampled_from(Action),
    flood_limit_per_minute=st.integers(1, 100),
    duplicate_threshold=st.floats(0, 100),
    shouting_min_letters=st.integers(1, 50),
    shouting_upper_ratio=st.floats(0.01, 1),
    repetition_min_run=st.integers(2, 20),
)


def _assert_well_formed(verdict: Verdict, config: FilterConfig, context: Context) -> None:
    assert isinstance(verdict, Verdict)
    assert isinstance(verdict.action, Action)
    assert isinstance(verdict.reasons, tuple)
    assert all(isinstance(r, Reason) for r in verdict.reasons)
    assert list(verdict.reasons) == [
        r for r in Reason if r in verdict.reasons
    ]  # unique, canonical order
    assert not any(config.disabled & {r.value for r in verdict.reasons})
    assert (Reason.FLOOD in verdict.reasons) == (
        config.enabled("flood") and context.recent_count >= config.flood_limit_per_minute
    )
    if Reason.FLOOD in verdict.reasons:
        assert verdict.action is Action.REJECT
    assert (verdict.duplicate_of is None) == (verdict.duplicate_score is None)
    if verdict.duplicate_of is not None:
        assert config.enabled("duplicate")
        assert verdict.duplicate_of in {qid for qid, _ in context.existing}
        assert verdict.duplicate_score is not None
        assert config.duplicate_threshold <= verdict.duplicate_score <= 100.0


@settings(max_examples=400, deadline=None)
@given(text=texts, existing=existing, recent_count=st.integers())
def test_default_config_never_raises_and_is_well_formed(
    text: str, existing: list[tuple[int, str]], recent_count: int
) -> None:
    config, context = FilterConfig(), Context(existing=existing, recent_count=recent_count)
    verdict = evaluate(text, config, context)
    _assert_well_formed(verdict, config, context)
    # With default actions every reason holds or rejects, and a clean question is published.
    assert (verdict.action is Action.PUBLISH) == (verdict.reasons == ())
    assert evaluate(text, config, context) == verdict  # deterministic


@settings(max_examples=300, deadline=None)
@given(text=texts, config=configs, existing=existing, recent_count=st.integers(-5, 200))
def test_any_config_never_raises_and_is_well_formed(
    text: str, config: FilterConfig, existing: list[tuple[int, str]], recent_count: int
) -> None:
    context = Context(existing=existing, recent_count=recent_count)
    _assert_well_formed(evaluate(text, config, context), config, context)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_normalisation_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert normalize(normalize(text)) == normalize(text)
