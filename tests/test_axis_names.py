"""`concatenate` and `split` take their axis by a dim's name (`split(at = 1, axis = B)`) as
well as by a number from the end: the checker finds the dim's place in the input's final
type. A name that is not a dim, or not an axis of the input, is E0392 at the name; an input
whose shape is not known there, or a use the resulting signature does not fit, is E0393."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.loader import check_text

HEAD = """import std.ml
dim B = 3
dim F = 4
dim G = 2
object X : Real[B, F]
object Y : Real[B, G]
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(
        HEAD
        + """
let rows      = X >> split(at = 1, axis = B)
let columns   = X >> split(at = 1, axis = F)
let by_number = X >> split(at = 1, axis = -1)
let joined    = X * Y >> concatenate(axis = F)
morphism Cut : X -> Real[1, 4] * Real[2, 4] = split(at = 1, axis = B)
"""
    )


def test_a_named_axis_is_the_place_of_its_dim(program):
    assert program["rows"].type_text == "X -> Real[1, 4] * Real[2, 4]"
    assert program["columns"].type_text == "X -> Real[B, 1] * Real[B, 3]"
    assert program["joined"].type_text == "X * Y -> Real[B, 6]"
    x = np.arange(12.0).reshape(3, 4)
    top, rest = program["rows"](x)
    assert top.tolist() == [x[0].tolist()] and rest.tolist() == x[1:].tolist()
    left, right = program["columns"](x)
    by_number = program["by_number"](x)
    assert np.array_equal(left, by_number[0]) and np.array_equal(right, by_number[1])
    assert program["joined"]((x, np.ones((3, 2)))).shape == (3, 6)


def test_a_declared_signature_gives_the_input(program):
    top, rest = program["Cut"](np.arange(12.0).reshape(3, 4))
    assert (top.shape, rest.shape) == ((1, 4), (2, 4))


def test_gradients_flow_through_a_named_axis(program):
    from catdsl.frontend.gradcheck import gradcheck

    assert gradcheck(program, "rows").ok


def _error(source: str):
    (d,) = check_text(HEAD + source, "t.cat").diagnostics
    return d


def test_a_name_that_is_not_a_dim_is_e0392_at_it():
    d = _error("let s = X >> split(at = 1, axis = Feature)\n")
    assert (d.code, d.span.line, d.span.column) == ("E0392", 7, 35)
    assert d.message == "`split`'s `axis` names an axis by a dim, but `Feature` is not a dim"


def test_a_dim_the_input_does_not_have_is_e0392():
    d = _error("let s = X >> split(at = 1, axis = G)\n")
    assert d.code == "E0392"
    assert d.message == (
        "`split`'s `axis = G`: its input is `X (Real[B, F])`, with `G` not among its axes"
    )


def test_an_input_of_unknown_shape_is_e0393():
    d = _error("let s = split(at = 1, axis = F)\n")
    assert d.code == "E0393" and "the input's shape is not known here" in d.message


def test_a_use_the_named_axis_does_not_fit_is_e0393():
    d = _error("morphism S : X -> Real[1, 4] * Real[3, 4] = split(at = 1, axis = F)\n")
    assert d.code == "E0393"
    assert "(axis -1 of its input)" in d.message


def test_gradcheck_of_a_morphism_whose_outputs_view_its_input():
    """`split` returns views of its input; the check, which perturbs the input in place, must
    compare copies of the outputs (it found a zero difference, and a wrong 'failure')."""
    from catdsl.frontend.gradcheck import gradcheck

    source = "import std.ml\nlet cut : Real[4] -> Real[1] * Real[3] = split(at = 1)\n"
    program = catdsl.loads(source)
    assert gradcheck(program, "cut").ok
