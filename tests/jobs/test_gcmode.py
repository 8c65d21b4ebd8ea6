"""batch_gc: the collector's settings for a job's stages, undone afterwards."""

from __future__ import annotations

import gc
import weakref

from judgebench.jobs.gcmode import YOUNG_THRESHOLD, batch_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_batch_gc_freezes_and_raises_the_young_threshold_then_restores_both():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with batch_gc():
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
        with batch_gc():  # nested (another job in a thread): the outer block owns the state
            pass
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_objects_frozen_on_entry_are_freed_after_exit():
    node = Node()
    ref = weakref.ref(node)
    with batch_gc():
        del node  # garbage now, but frozen: the collector does not look at it
        gc.collect()
        assert ref() is not None
    gc.collect()
    assert ref() is None


def test_garbage_made_inside_is_still_collected():
    with batch_gc():
        node = Node()
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None


def test_a_freeze_the_process_made_itself_is_left_alone():
    gc.freeze()  # e.g. a server that froze its start-up objects before forking workers
    try:
        frozen = gc.get_freeze_count()
        with batch_gc():
            pass
        assert gc.get_freeze_count() >= frozen  # not thawed by the job
    finally:
        gc.unfreeze()
