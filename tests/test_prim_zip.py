"""`zip : List[a] * List[b] -> List[a * b]` of std.lists (catdsl/std/prims/zip.py)."""

from __future__ import annotations

import numpy as np
from gradkit import check_vjp

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.lists
object Token : Index[5]
data xs : List[Real] = [1.0, 2.0, 3.0]
data ts : List[Token] = [4, 0]
data empty : List[Real] = []
data pairs : List[Real * Token] = xs * ts >> zip
data none_paired : List[Real * Real] = xs * empty >> zip
"""


def test_signature_and_values():
    sig = PRIMITIVES["zip"].build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] * List[b] -> List[a * b]"
    program = catdsl.loads(PROGRAM)
    reals, tokens = program["pairs"]()
    assert reals.tolist() == [1.0, 2.0] and tokens.tolist() == [4, 0]  # the shorter length
    assert tokens.dtype == np.int64
    assert [c.shape for c in program["none_paired"]()] == [(0,), (0,)]


def test_vjp_pads_back_with_zeros():
    rng = np.random.default_rng(4)
    kernel = make_kernel("zip", {}, (1, 1))
    check_vjp(kernel, [rng.normal(size=5), rng.normal(size=3)])
    _, residual = kernel.forward(np.ones(5), np.ones(3))
    dx, dy = kernel.vjp(residual, np.full(3, 2.0), np.full(3, 7.0))
    assert dx.tolist() == [2.0, 2.0, 2.0, 0.0, 0.0] and dy.tolist() == [7.0, 7.0, 7.0]


def test_a_list_of_a_product_passes_through_the_list_operations():
    program = catdsl.loads(
        PROGRAM
        + "import std.ml\n"
        + "data twice : List[Real * Token] = pairs * pairs >> concat\n"
        + "data count : Nat = twice >> length\n"
        + "data triple : List[Real * Token * Real] = pairs * xs >> zip\n"
    )
    assert int(program["count"]()) == 4
    assert [c.tolist() for c in program["triple"]()] == [[1.0, 2.0], [4, 0], [1.0, 2.0]]


def test_windows_does_not_take_a_list_of_a_product():
    from catdsl.loader import check_text

    src = (
        PROGRAM
        + "import std.ml\ndata w : List[Real * Token * Real * Token] = pairs >> windows(2)\n"
    )
    (d,) = check_text(src).diagnostics
    assert d.code == "E0201"
