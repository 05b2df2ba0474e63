"""`first : List[a] -> Option[a]` of std.lists (catdsl/std/prims/first.py): values, `none` for
the empty list, batches, its VJP, and its naturality checked by `catdsl laws`."""

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
object Scalar : Real
object Pair : Real * Nat
morphism Times10 : Real -> Real = scale(10)
data xs : List[Scalar] = [1.0, 2.0, 3.0]
data empty : List[Real] = []
data pairs : List[Pair] = [[1.5, 2], [2.5, 3]]
data head : Option[Scalar] = xs >> first
data nobody : Option[Real] = empty >> first
data first_pair : Option[Pair] = pairs >> first
data reals : List[Real] = [1.0, 2.0]
data nats : List[Nat] = [7, 8, 9]
data zipped_head : Option[Real * Nat] = reals * nats >> zip >> first
let first_of_zip = zip >> first
let heads = List(first)
law natural : List(Times10) >> first == first >> Option(Times10)
law natural_tanh : List(tanh) >> first == first >> Option(tanh)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature_is_list_to_option():
    spec = PRIMITIVES["first"]
    assert spec.module == "std.lists"
    sig = spec.build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] -> Option[a]"


def test_values(program):
    assert float(program["head"]()) == 1.0
    assert program["nobody"]() is None
    a, b = program["first_pair"]()
    assert (float(a), int(b)) == (1.5, 2)
    assert str(program["head"].cod) == "Option[Scalar]"


def test_the_element_may_be_a_product(program):
    a, b = program["zipped_head"]()
    assert (float(a), int(b)) == (1.0, 7)
    assert program["first_of_zip"].type_text == "List[a] * List[b] -> Option[a * b]"


def test_batches_of_lists_give_each_first(program):
    assert program["heads"]([[1.0, 2.0], [3.0, 4.0]]).tolist() == [1.0, 3.0]


def test_a_batch_of_empty_lists_is_refused():
    kernel = make_kernel("first", {}, (1,))
    with pytest.raises(CatRuntimeError) as err:
        kernel.forward(np.zeros((2, 0)))
    assert err.value.diagnostic.code == "R0420"
    assert "(2, 0)" in err.value.diagnostic.message


def test_naturality_holds_on_sampled_lists(program):
    reports = {r.name: r for r in program.check_laws(samples=24)}
    assert reports["natural"].holds and reports["natural"].samples == 24
    assert reports["natural_tanh"].holds


@pytest.mark.parametrize("shape", [(4,), (3, 2), (2, 3, 2)])
def test_vjp_matches_central_differences(shape):
    x = np.random.default_rng(0).normal(size=shape)
    kernel = make_kernel("first", {}, (len(shape) if len(shape) < 3 else 2,))
    check_vjp(kernel, [x])
    (y,), _ = kernel.forward(x)
    np.testing.assert_array_equal(y, np.take(x, 0, axis=x.ndim - kernel.in_ranks[0]))


def test_vjp_of_none_is_nothing():
    kernel = make_kernel("first", {}, (1,))
    (y,), residual = kernel.forward(np.zeros((0,)))
    assert y is None and kernel.vjp(residual, None) == (None,)
