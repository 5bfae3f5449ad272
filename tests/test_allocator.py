"""Giving freed memory back to the system changes no result and works where glibc is."""

from __future__ import annotations

import sys

import pytest

from sim.market import allocator
from tests.helpers import model_of, run_scenario


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_the_allocator_is_tuned_once_and_trims_on_glibc():
    if allocator._glibc() is None:
        pytest.skip("not glibc")
    assert allocator.return_freed_memory_promptly()
    assert allocator.return_freed_memory_promptly()  # idempotent
    assert allocator.release_free_memory()


def test_a_model_is_the_same_without_the_allocator_tuning(monkeypatch):
    tuned = model_of(run_scenario(), 30, seed=5).summary()
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert not allocator.release_free_memory()
    plain = model_of(run_scenario(), 30, seed=5).summary()
    assert repr(tuned) == repr(plain)  # exactly, NaN included
