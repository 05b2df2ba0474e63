"""`relabel(keys, labels)`: a function between finite sets given by its table."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.lists

object Digit : Index[4]
data digits : List[Digit]  = [0, 1, 2, 3]
data names  : List[Symbol] = ["zero", "one", "Rust", "."]
data halves : List[Real]   = [0.0, 0.5, 1.0, 1.5]
morphism Name : Digit -> Symbol = relabel(digits, names)
morphism Half : Digit -> Real = relabel(digits, halves)
let names_of = List(Name)

data short : List[Symbol] = ["zero"]
morphism Broken : Digit -> Symbol = relabel(digits, short)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature() -> None:
    sig = PRIMITIVES["relabel"].build({})
    assert [str(p) for p in sig.params] == ["List[a]", "List[b]"]
    assert f"{sig.dom} -> {sig.cod}" == "a -> b"


def test_values_by_position(program) -> None:
    assert program["Name"](2) == "Rust" and program["Name"](3) == "."
    assert program["Half"](3) == 1.5
    assert program["names_of"]([3, 2, 2, 0]).tolist() == [".", "Rust", "Rust", "zero"]
    assert program["names_of"]([]).tolist() == []


def test_a_value_without_a_label_and_a_short_table(program) -> None:
    kernel = make_kernel("relabel", {}, (0, 1, 1))
    with pytest.raises(catdsl.CatRuntimeError) as caught:
        kernel.forward(np.asarray(7), np.array([2, 3]), np.array(["Rust", "."]))
    assert caught.value.diagnostic.code == "R0511"
    assert "no label for 7" in caught.value.diagnostic.message
    with pytest.raises(catdsl.CatError) as raised:
        program["Broken"](1)
    assert raised.value.diagnostics[0].code == "R0511"
    assert "4 keys but 1 labels" in raised.value.diagnostics[0].message


def test_elements_of_several_axes_are_looked_up_whole() -> None:
    kernel = make_kernel("relabel", {}, (1, 2, 1))
    keys = np.array([[0.0, 1.0], [1.0, 0.0]])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    (out,), _ = kernel.forward(x, keys, np.array([7, 9]))
    assert out.tolist() == [9, 7, 9]


def test_nothing_differentiates_through_a_table() -> None:
    kernel = make_kernel("relabel", {}, (0, 1, 1))
    assert kernel.differentiable == (False, False, False)
    _, residual = kernel.forward(np.asarray(2), np.array([2, 3]), np.array([0.5, 1.5]))
    assert kernel.vjp(residual, np.asarray(1.0)) == (None, None, None)
