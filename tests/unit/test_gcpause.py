"""The collector's pause: what a kept block made is never walked again; the rest is as before."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from virtc.speed.gcpause import paused_gc


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    """Each test starts with the collector on and nothing frozen, and leaves it so."""
    was = gc.isenabled()
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def test_a_kept_block_is_frozen_and_the_collector_back_on() -> None:
    with paused_gc(keep=True):
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]  # (lists: objects the collector tracks)
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)
    assert not _walked(made[0])  # (the collector's generations no longer hold it)


def test_a_block_not_kept_is_not_frozen() -> None:
    with paused_gc():
        made = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert _walked(made[0])


def _walked(obj: object) -> bool:
    """Whether a collection of every generation walks ``obj``."""
    return any(o is obj for o in gc.get_objects())


def test_an_inner_pause_leaves_the_outer_one_paused() -> None:
    with paused_gc(keep=True):
        with paused_gc(keep=True):
            made = [[i] for i in range(1000)]
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0  # (frozen by the outer block only)
    assert gc.get_freeze_count() >= len(made)


def test_nothing_is_frozen_when_the_collector_was_off() -> None:
    gc.disable()
    with paused_gc(keep=True):
        [[i] for i in range(1000)]
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
