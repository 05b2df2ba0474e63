"""`last : List[a] -> Option[a]` of std.lists (catdsl/std/prims/last.py)."""

from __future__ import annotations

import numpy as np
from gradkit import check_vjp

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.ml
import std.lists
data xs : List[Real[2]] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
data empty : List[Real[2]] = []
data tail : Option[Real[2]] = xs >> last
data nobody : Option[Real[2]] = empty >> last
law natural : List(relu) >> last == last >> Option(relu)
"""


def test_signature_and_values():
    sig = PRIMITIVES["last"].build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] -> Option[a]"
    program = catdsl.loads(PROGRAM)
    assert program["tail"]().tolist() == [5.0, 6.0]
    assert program["nobody"]() is None
    assert all(r.holds for r in program.check_laws())


def test_vjp_matches_central_differences():
    x = np.random.default_rng(1).normal(size=(3, 4, 2))
    kernel = make_kernel("last", {}, (2,))  # a batch of 3 lists of 4 elements of Real[2]
    check_vjp(kernel, [x])
    (y,), _ = kernel.forward(x)
    np.testing.assert_array_equal(y, x[:, -1, :])
