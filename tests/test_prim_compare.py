"""`le`, `lt`, `ge`, `gt`, `eq`, `join` and `meet` of std.logic (catdsl/std/prims/compare.py):
comparisons of single values to `Bool`, and the lattice operations of an order."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES, make_kernel
from catdsl.typesys.primitives import NoGradient

PROGRAM = """
import std.logic
object Budget : Nat
data two : Budget = 2
data five : Budget = 5
data x : Real = 1.5
data y : Real = -0.5
data a : Symbol = "embedding"
data b : Symbol = "linear"
data two_le_five : Bool = two * five >> le
data x_lt_y : Bool = x * y >> lt
data same : Bool = a * a >> eq
data differ : Bool = a * b >> eq
data larger : Budget = two * five >> join
data smaller : Budget = two * five >> meet
law reflexive : <Real, Real> >> le == <Real, Real> >> eq
law join_commutes : join == swap[Real, Real] >> join
law meet_below_join : Real * Real >> <meet, join> >> le == Real * Real >> <meet, meet> >> eq
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signatures():
    assert str(PRIMITIVES["le"].build({}).cod) == "Bool"
    assert PRIMITIVES["le"].build({}).dom.atoms[0].scalar
    assert "Symbol" in PRIMITIVES["eq"].build({}).dom.atoms[0].kinds
    assert "Symbol" not in PRIMITIVES["le"].build({}).dom.atoms[0].kinds
    assert PRIMITIVES["join"].no_gradient is None
    assert PRIMITIVES["le"].no_gradient is NoGradient.DISCRETE


def test_values(program):
    assert bool(program["two_le_five"]()) and not bool(program["x_lt_y"]())
    assert bool(program["same"]()) and not bool(program["differ"]())
    assert int(program["larger"]()) == 5 and int(program["smaller"]()) == 2
    assert str(program["larger"].cod) == "Budget"  # join keeps the object


def test_laws(program):
    reports = {r.name: r for r in program.check_laws()}
    assert reports["reflexive"].holds and reports["join_commutes"].holds
    assert reports["meet_below_join"].holds


def test_comparisons_take_single_values():
    src = "import std.logic\ndata v : Real[3] = [1.0, 2.0, 3.0]\ndata c : Bool = v * v >> le\n"
    (d,) = check_text(src).diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E0201", 3, 26)
    assert "(one value)" in d.notes[0]


def test_symbols_have_no_order():
    src = 'import std.logic\ndata a : Symbol = "a"\ndata c : Bool = a * a >> le\n'
    (d,) = check_text(src).diagnostics
    assert d.code == "E0201"


@pytest.mark.parametrize("name", ["join", "meet"])
def test_lattice_vjp_matches_central_differences(name):
    rng = np.random.default_rng(7)
    check_vjp(make_kernel(name, {}, (0, 0)), [rng.normal(size=()), rng.normal(size=())])
