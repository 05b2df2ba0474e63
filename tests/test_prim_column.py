"""`column(keys, values)` of std.lists (catdsl/std/prims/column.py): a table's column as a
function of its key, total on an object `where value in keys`."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.errors import CatError
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.lists
data keys   : List[Nat] = [7, 8, 9]
data labels : List[Symbol] = ["a", "b", "c"]
data weights : List[Real] = [0.5, 1.5, 2.5]
object Key : Nat where value in keys
morphism Label  : Key -> Symbol = column(keys, labels)
morphism Weight : Nat -> Real   = column(keys, weights)
data short : List[Real] = [1.0]
morphism Broken : Nat -> Real = column(keys, short)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature():
    sig = PRIMITIVES["column"].build({})
    assert [str(p) for p in sig.params] == [f"List[{sig.dom}]", f"List[{sig.cod}]"]
    assert sig.dom.atoms[0].kinds == ("Nat", "Int", "Index", "Symbol")


def test_values_by_key(program):
    assert str(program["Label"](8)) == "b"
    assert program["Weight"]([9, 7, 9]).tolist() == [2.5, 0.5, 2.5]


def test_a_key_on_no_row(program):
    with pytest.raises(CatError) as err:
        program["Weight"](5)
    d = err.value.first
    assert d.code == "R0440" and "no row with the key 5 (its 3 keys: 7, 8, 9)" in d.message


def test_a_key_outside_the_set_is_refused_where_it_enters(program):
    with pytest.raises(CatError) as err:
        program["Label"](5)
    assert err.value.first.code == "R0414" and "value in keys" in err.value.first.message


def test_lists_of_two_lengths(program):
    with pytest.raises(CatError) as err:
        program["Broken"](7)
    d = err.value.first
    assert d.code == "R0441" and "3 keys and 1 values" in d.message


def test_vjp_gathers_into_the_values():
    kernel = make_kernel("column", {}, (0, 1, 1))
    keys = np.array([7, 8, 9])
    values = np.random.default_rng(3).normal(size=3)
    check_vjp(kernel, [np.array([9, 7, 9]), keys, values])
    _, residual = kernel.forward(np.array([9, 7, 9]), keys, values)
    assert kernel.vjp(residual, np.array([1.0, 2.0, 4.0]))[2].tolist() == [2.0, 0.0, 5.0]
