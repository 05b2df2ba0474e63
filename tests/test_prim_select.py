"""`select : List[a] * List[Bool] -> List[a]` of std.lists (catdsl/std/prims/select.py): a
filter by flags computed from the list. "The first positive element" built with it inspects
values, so it is not natural: its square fails against `negate` on `[1, -2]`."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.errors import CatRuntimeError
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.ml
import std.lists
import std.logic
data zero : Real = 0.0
data xs : List[Real] = [1.0, -2.0, 3.0]
data empty : List[Real] = []
let positives = <List[Real], List(Real * zero >> gt)> >> select
let first_positive = positives >> first
data kept : List[Real] = xs >> positives
data head : Option[Real] = xs >> first_positive
data nothing : Option[Real] = empty >> first_positive
data ns : List[Nat] = [4, 5, 6]
data pairs : List[Real * Nat] = xs * ns >> zip
data flags : List[Bool] = [false, true, true]
data kept_pairs : List[Real * Nat] = pairs * flags >> select
morphism Negate : Real -> Real = scale(-1)
law not_natural : List(Negate) >> first_positive == first_positive >> Option(Negate)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature():
    sig = PRIMITIVES["select"].build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] * List[Bool] -> List[a]"


def test_values(program):
    assert program["kept"]().tolist() == [1.0, 3.0]
    assert float(program["head"]()) == 1.0 and program["nothing"]() is None
    reals, nats = program["kept_pairs"]()
    assert reals.tolist() == [-2.0, 3.0] and nats.tolist() == [5, 6]


def test_the_first_positive_element_is_not_natural(program):
    (report,) = program.check_laws()
    assert not report.holds
    negate_first = program["first_positive"]([-1.0, 2.0])  # first_positive after negating
    assert float(negate_first) == 2.0 and float(program["first_positive"]([1.0, -2.0])) == 1.0


def test_flags_must_match_the_list():
    kernel = make_kernel("select", {}, (1, 1))
    with pytest.raises(CatRuntimeError) as err:
        kernel.forward(np.ones(3), np.array([True, False]))
    assert err.value.diagnostic.code == "R0424" and "3 elements with 2 flags" in str(err.value)


def test_a_batch_keeps_one_count():
    kernel = make_kernel("select", {}, (1, 1))
    (y,), _ = kernel.forward(np.arange(6.0).reshape(2, 3), np.array([[1, 0, 1], [0, 1, 1]]))
    assert y.tolist() == [[0.0, 2.0], [4.0, 5.0]]
    with pytest.raises(CatRuntimeError) as err:
        kernel.forward(np.ones((2, 3)), np.array([[1, 0, 0], [0, 1, 1]], dtype=bool))
    assert err.value.diagnostic.code == "R0424"


def test_vjp_matches_central_differences():
    kernel = make_kernel("select", {}, (2, 1))
    x = np.random.default_rng(9).normal(size=(4, 2))
    check_vjp(kernel, [x, np.array([True, False, True, True])])
