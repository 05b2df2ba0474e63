"""`concat : List[a] * List[a] -> List[a]` of std.lists (catdsl/std/prims/concat.py): the
free monoid's product, with `[]` its unit."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.lists
object Pair : Real * Nat
data xs : List[Real] = [1.0, 2.0]
data ys : List[Real] = [3.0]
data empty : List[Real] = []
data joined : List[Real] = xs * ys >> concat
data left_unit : List[Real] = empty * xs >> concat
data right_unit : List[Real] = xs * empty >> concat
data vectors : List[Real[3]] = [[1.0, 2.0, 3.0]]
data no_vectors : List[Real[3]] = []
data more_vectors : List[Real[3]] = no_vectors * vectors >> concat
data ps : List[Pair] = [[1.5, 2]]
data qs : List[Pair] = [[2.5, 3], [0.5, 4]]
data pqs : List[Pair] = ps * qs >> concat
law associative : (concat * List[Real]) >> concat == (List[Real] * concat) >> concat
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature():
    sig = PRIMITIVES["concat"].build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] * List[a] -> List[a]"


def test_values_and_units(program):
    assert program["joined"]().tolist() == [1.0, 2.0, 3.0]
    assert program["left_unit"]().tolist() == [1.0, 2.0]
    assert program["right_unit"]().tolist() == [1.0, 2.0]
    assert program["more_vectors"]().tolist() == [[1.0, 2.0, 3.0]]
    reals, nats = program["pqs"]()
    assert reals.tolist() == [1.5, 2.5, 0.5] and nats.tolist() == [2, 3, 4]
    assert nats.dtype == np.int64


def test_associativity_on_sampled_lists(program):
    (report,) = program.check_laws()
    assert report.holds and report.max_error == 0


def test_vjp_matches_central_differences():
    rng = np.random.default_rng(2)
    check_vjp(make_kernel("concat", {}, (2, 2)), [rng.normal(size=(3, 2)), rng.normal(size=(1, 2))])
    check_vjp(make_kernel("concat", {}, (1, 1)), [rng.normal(size=(2, 4)), rng.normal(size=(2, 3))])
