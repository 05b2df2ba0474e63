"""The sampler of `catdsl laws` draws whole numbers that satisfy their object's sign invariant
(`value > 0`, `positive`, `value >= 0`), so a law over a count above zero runs at all."""

from __future__ import annotations

import numpy as np

import catdsl
from catdsl.frontend.sampling import Sampler, case_of

PROGRAM = """
import std.ml
object Count   : Nat where value > 0
object Offset  : Int where value >= 0
object Steps   : Int where positive
object Anyway  : Int
morphism All : Count * Offset * Steps * Anyway -> Count * Offset * Steps * Anyway
    = Count * Offset * Steps * Anyway
"""


def test_whole_numbers_respect_their_sign_invariants() -> None:
    dom = catdsl.loads(PROGRAM)["All"].dom
    drawn = [Sampler(np.random.default_rng(i), {}, case_of(i)).prod(dom) for i in range(64)]
    counts, offsets, steps, anyway = (np.array([d[k] for d in drawn]) for k in range(4))
    assert counts.min() >= 1 and offsets.min() >= 0 and steps.min() >= 1
    assert set(counts.tolist()) == {1, 2, 3, 4, 5}  # the usual 0..4, shifted past zero
    assert anyway.min() < 0  # no invariant, no change
