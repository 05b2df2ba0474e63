"""`length : List[a] -> Nat` of std.lists (catdsl/std/prims/length.py)."""

from __future__ import annotations

import numpy as np

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel
from catdsl.typesys.primitives import NoGradient

PROGRAM = """
import std.lists
data xs : List[Real[2]] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
data empty : List[Real] = []
data three : Nat = xs >> length
data zero : Nat = empty >> length
let lengths = List(length)
"""


def test_signature_values_and_batches():
    sig = PRIMITIVES["length"].build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] -> Nat"
    program = catdsl.loads(PROGRAM)
    assert int(program["three"]()) == 3 and program["three"]().dtype == np.int64
    assert int(program["zero"]()) == 0
    assert program["lengths"]([[1.0, 2.0], [3.0, 4.0]]).tolist() == [2, 2]


def test_no_cotangent_flows_through_a_count():
    assert PRIMITIVES["length"].no_gradient is NoGradient.DISCRETE
    kernel = make_kernel("length", {}, (1,))
    assert kernel.differentiable == (False,)
    _, residual = kernel.forward(np.ones(4))
    assert kernel.vjp(residual, np.asarray(1)) == (None,)
