"""`causal_mask` (catdsl/std/prims/causal_mask.py): the length-generic lower-triangular
allow-mask. One declaration serves every sequence length, where a literal mask fixes one."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.std.library import make_kernel

PROGRAM = """
import std.attention
dim T
dim D = 2
object Hidden : Real[T, D]
object Causal : AllowMask[T, T]
morphism MaskOf : Hidden -> Causal = causal_mask
"""


@pytest.mark.parametrize("length", [1, 2, 4, 9])
def test_the_mask_of_any_length_is_lower_triangular(length):
    program = catdsl.loads(PROGRAM)
    mask = program["MaskOf"](np.zeros((length, 2)))
    assert mask.dtype == bool and mask.shape == (length, length)
    np.testing.assert_array_equal(mask, np.tril(np.ones((length, length), dtype=bool)))


def test_it_reads_only_the_length_and_passes_no_gradient():
    kernel = make_kernel("causal_mask", {}, (2,))
    (mask,), residual = kernel.forward(np.full((3, 5), np.pi))
    assert mask.tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert kernel.vjp(residual, np.ones((3, 3))) == (None,)


def test_a_batch_of_sequences_shares_one_mask():
    (mask,) = make_kernel("causal_mask", {}, (2,))(np.zeros((4, 3, 2)))
    assert mask.shape == (3, 3)
