"""`rel_compose` of std.logic (catdsl/std/prims/rel_compose.py): relations between finite
sets, as matrices of truth values, composed through a middle (the OR-AND product)."""

from __future__ import annotations

import itertools

import numpy as np

import catdsl
from catdsl.loader import check_text
from catdsl.std.library import make_kernel


def _reference(r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(R ; S)[i, j] = ∃ l. R[i, l] ∧ S[l, j], by its definition."""
    n, k = r.shape
    m = s.shape[1]
    return np.array(
        [[any(r[i, mid] and s[mid, j] for mid in range(k)) for j in range(m)] for i in range(n)]
    )


def test_every_pair_of_relations_on_two_elements():
    kernel = make_kernel("rel_compose", {}, (2, 2))
    tables = [np.array(b, dtype=bool).reshape(2, 2) for b in itertools.product((0, 1), repeat=4)]
    for r, s in itertools.product(tables, tables):
        (out,), _ = kernel.forward(r, s)
        assert out.dtype == bool and (out == _reference(r, s)).all()


def test_rectangular_and_batched():
    rng = np.random.default_rng(5)
    r = rng.random((4, 3, 5)) < 0.4
    s = rng.random((5, 2)) < 0.4
    (out,), _ = make_kernel("rel_compose", {}, (3, 2)).forward(r, s)
    assert out.shape == (4, 3, 2)
    for b in range(4):
        assert (out[b] == _reference(r[b], s)).all()


def test_a_relation_as_a_morphism_and_its_composite():
    program = catdsl.loads(
        """
import std.logic
dim B
object Left  : Bool[B, 2]
object Right : Bool[B, 3]
data r : Bool[2, 3] = [[true, false, false], [false, false, true]]
morphism R : Left -> Right = Left * r >> rel_compose
"""
    )
    out = program["R"](np.array([[True, True], [False, False]]))
    assert out.tolist() == [[True, False, True], [False, False, False]]


def test_middles_must_agree_statically():
    src = (
        "import std.logic\n"
        "data r : Bool[2, 3] = [[true, false, false], [false, false, true]]\n"
        "data x : Bool[2, 2] = r * r >> rel_compose\n"
    )
    (d,) = check_text(src).diagnostics
    assert d.code == "E0201" and d.span.line == 3


def test_no_gradient_flows():
    kernel = make_kernel("rel_compose", {}, (2, 2))
    _, residual = kernel.forward(np.eye(2, dtype=bool), np.eye(2, dtype=bool))
    assert kernel.vjp(residual, None) == (None, None)
