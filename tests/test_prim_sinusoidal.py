"""`sinusoidal` (catdsl/std/prims/sinusoidal.py): fixed sinusoidal positions for any length."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.std.library import make_kernel

PROGRAM = """
import std.attention
dim T
dim D = 5
object Hidden : Real[T, D]
morphism Place : Hidden -> Hidden = sinusoidal
"""


@pytest.mark.parametrize("length", [1, 3, 7])
def test_the_encoding_follows_the_formula_for_any_length(length):
    program = catdsl.loads(PROGRAM)
    y = program["Place"](np.zeros((length, 5)))
    for t in range(length):
        for j in range(5):
            angle = t / 10000 ** ((j - j % 2) / 5)
            want = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert y[t, j] == pytest.approx(want, abs=1e-15)


def test_it_adds_to_the_sequence_and_passes_the_gradient_through():
    x = np.random.default_rng(0).normal(size=(2, 4, 6))
    kernel = make_kernel("sinusoidal", {}, (2,))
    (y,) = kernel(x)
    np.testing.assert_allclose(y - x, np.broadcast_to(y[0] - x[0], y.shape), atol=1e-15)
    check_vjp(kernel, [x])
