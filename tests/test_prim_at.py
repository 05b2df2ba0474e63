"""`at(table) : i -> a` of std.lists (catdsl/std/prims/at.py): the element of a list at a
position, e.g. relabelling outcomes of a finite distribution while keeping their
probabilities (the distribution functor acting on `2 ↦ "Rust"`, `3 ↦ "."`)."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.errors import CatError
from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.lists
object TokenId : Index[4]
data labels : List[Symbol] = ["<pad>", "love", "Rust", "."]
data weights : List[Real] = [0.5, 1.5, 2.5, 3.5]
data two : TokenId = 2
data word : Symbol = two >> at(labels)
type Outcome = Nat * Real
data dist : List[Outcome] = [[2, 0.7], [3, 0.3]]
data relabelled : List[Symbol * Real] = dist >> List(at(labels) * Real)
morphism Name : Nat -> Symbol = at(labels)
morphism Weight : Nat -> Real = at(weights)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature():
    sig = PRIMITIVES["at"].build({})
    assert str(sig.params[0]) == "List[a]" and str(sig.cod) == "a"
    assert sig.dom.atoms[0].kinds == ("Nat", "Index") and sig.dom.atoms[0].scalar


def test_values(program):
    assert str(program["word"]()) == "Rust"
    names, probabilities = program["relabelled"]()
    assert names.tolist() == ["Rust", "."] and probabilities.tolist() == [0.7, 0.3]
    assert float(program["Weight"](3)) == 3.5
    assert program["Weight"]([0, 3, 3]).tolist() == [0.5, 3.5, 3.5]


def test_a_position_outside_the_table(program):
    with pytest.raises(CatError) as err:
        program["Name"](7)
    d = err.value.first
    assert d.code == "R0423" and "position 7 in a list of 4 elements" in d.message


def test_positions_are_whole_numbers():
    src = (
        "import std.lists\n"
        'data t : List[Symbol] = ["a"]\n'
        "data x : Real = 0.5\n"
        "data y : Symbol = x >> at(t)\n"
    )
    (d,) = check_text(src).diagnostics
    assert (d.code, d.span.line) == ("E0201", 4)


def test_vjp_gathers_into_the_table():
    kernel = make_kernel("at", {}, (0, 1))
    table = np.random.default_rng(8).normal(size=4)
    check_vjp(kernel, [np.array([1, 3, 1]), table])
    _, residual = kernel.forward(np.array([1, 3, 1]), table)
    _, grad = kernel.vjp(residual, np.array([1.0, 2.0, 4.0]))
    assert grad.tolist() == [0.0, 5.0, 0.0, 2.0]
