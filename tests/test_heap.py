"""Collections walk only what is new; thawing lets old garbage cycles go in the end."""

import gc
import weakref

import pytest

from live.heap import MIDDLE_THRESHOLD, YOUNG_THRESHOLD, Heap


class Node:
    """A garbage cycle is two of these pointing at each other."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[weakref.ref, Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a), a


@pytest.fixture
def heap():
    keeper = Heap(thaw_interval=3600)
    keeper.start()
    yield keeper
    keeper.stop()
    gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen(heap):
    ref, node = cycle()
    frozen = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() > frozen
    assert ref() is node


def test_survivors_of_a_collection_of_the_middle_generation_are_frozen(heap):
    ref, node = cycle()
    frozen = gc.get_freeze_count()
    gc.collect(1)
    assert gc.get_freeze_count() > frozen
    assert ref() is node


def test_after_a_thaw_nothing_is_frozen_until_a_full_collection_has_walked_it_all(heap):
    ref, node = cycle()
    gc.collect(1)  # the cycle survives, so it is frozen
    del node
    heap.thaw_interval = 0
    gc.collect()  # thaws at its end
    heap.thaw_interval = 3600
    gc.collect(1)  # must not freeze the cycle again before a full collection saw it
    assert ref() is not None
    gc.collect()
    assert ref() is None


def test_a_cycle_that_died_while_frozen_is_collected_after_the_thaw(heap):
    ref, node = cycle()
    gc.collect()  # the cycle survives, so it is frozen
    del node
    gc.collect()
    assert ref() is not None, "a frozen cycle is out of the collector's sight"
    heap.thaw_interval = 0
    gc.collect()  # thaws at its end
    gc.collect()
    assert ref() is None


def test_the_youngest_generation_is_collected_less_often_and_the_middle_more_often_while_started():
    before = gc.get_threshold()
    keeper = Heap()
    keeper.start()
    try:
        assert gc.get_threshold() == (max(YOUNG_THRESHOLD, before[0]), MIDDLE_THRESHOLD, before[2])
    finally:
        keeper.stop()
        gc.unfreeze()
    assert gc.get_threshold() == before


def test_stopping_leaves_the_collector_as_it_was(heap):
    heap.stop()
    frozen = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() == frozen
