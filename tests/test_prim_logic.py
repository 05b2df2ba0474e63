"""`and`, `or`, `not`, `implies`, `all`, `any` of std.logic (catdsl/std/prims/logic.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import catdsl
from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES, make_kernel
from catdsl.typesys.primitives import NoGradient

PROGRAM = """
import std.logic
data t : Bool = true
data f : Bool = false
data tf : Bool = t * f >> implies
data ft : Bool = f * t >> implies
data both : Bool = t * t >> and
data cover : List[Bool] = [true, true, false]
data nothing : List[Bool] = []
data every : Bool = cover >> all
data some_one : Bool = cover >> any
data vacuous : Bool = nothing >> all
data no_witness : Bool = nothing >> any
object Masks : Bool[3] where nonempty
law de_morgan : (not * not) >> or == and >> not
law implication : implies == (not * Bool) >> or
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signatures():
    shown = {n: str(PRIMITIVES[n].build({}).cod) for n in ("and", "not", "all")}
    assert shown == {"and": "Bool[*s]", "not": "Bool[*s]", "all": "Bool"}
    assert all(
        PRIMITIVES[n].no_gradient is NoGradient.DISCRETE
        for n in ("and", "or", "not", "implies", "all", "any")
    )


def test_values(program):
    values = {
        n: bool(program[n]())
        for n in ("tf", "ft", "both", "every", "some_one", "vacuous", "no_witness")
    }
    assert values == {
        "tf": False,
        "ft": True,
        "both": True,
        "every": False,
        "some_one": True,
        "vacuous": True,
        "no_witness": False,
    }


def test_truth_tables():
    tables = {
        "and": lambda a, b: a and b,
        "or": lambda a, b: a or b,
        "implies": lambda a, b: (not a) or b,
    }
    for name, truth in tables.items():
        kernel = make_kernel(name, {}, (0, 0))
        for a, b in itertools.product([False, True], repeat=2):
            (y,), _ = kernel.forward(np.asarray(a), np.asarray(b))
            assert bool(y) == truth(a, b), (name, a, b)
    (y,), _ = make_kernel("not", {}, (1,)).forward(np.array([True, False]))
    assert y.tolist() == [False, True]


def test_laws_hold_on_sampled_truth_values(program):
    assert all(r.holds for r in program.check_laws())


def test_no_cotangent_flows():
    kernel = make_kernel("and", {}, (0, 0))
    _, residual = kernel.forward(np.asarray(True), np.asarray(False))
    assert kernel.vjp(residual, None) == (None, None)


def test_and_is_the_keyword_in_where_clauses():
    ok = check_text("object Unit01 : Real where value >= 0 and value <= 1\n")
    assert ok.diagnostics == []
    (d,) = check_text(
        "import std.logic\ndata x : Real = 1.0\ndata y : Bool = x * x >> and\n"
    ).diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E0201", 3, 26)
