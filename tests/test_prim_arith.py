"""`sub`, `min`, `max` and `ceil_div` of std.ml (catdsl/std/prims/arith.py), and `add` / `mul`
typed on `Real`, `Nat` and `Int` by their signature."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.errors import CatError, CatRuntimeError
from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.ml
object Count : Nat
object Scalar : Real
data two : Nat = 2
data five : Nat = 5
data nine : Nat = 9
data four : Nat = 4
data minus3 : Int = -3
data half : Real = 0.5
data three : Nat = five * two >> sub
data seven : Nat = five * two >> add
data ten : Nat = five * two >> mul
data layers : Nat = nine * four >> ceil_div
data exact : Nat = four * two >> ceil_div
data low : Nat = five * two >> min
data high : Int = minus3 * minus3 >> sub
data neg : Int = minus3 * minus3 >> add
data real : Real = half * half >> sub
morphism Minus : Count * Count -> Count = sub
morphism Down : Scalar * Real -> Real = sub
let halve = Scalar * half >> mul
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signatures_are_typed_on_several_kinds(program):
    for name in ("add", "mul", "sub", "min", "max"):
        sig = PRIMITIVES[name].build({})
        assert f"{sig.dom} -> {sig.cod}" == "a * a -> a", name
        assert sig.dom.atoms[0].kinds == ("Real", "Nat", "Int")
    assert PRIMITIVES["ceil_div"].build({}).dom.atoms[0].kinds == ("Nat", "Int")
    assert str(program["three"].cod) == "Nat" and str(program["neg"].cod) == "Int"
    assert str(program["halve"].dom) == "Scalar" and str(program["halve"].cod) == "Real"


def test_values(program):
    got = {n: program[n]() for n in ("three", "seven", "ten", "layers", "exact", "low")}
    assert {n: int(v) for n, v in got.items()} == {
        "three": 3,
        "seven": 7,
        "ten": 10,
        "layers": 3,
        "exact": 2,
        "low": 2,
    }
    assert all(v.dtype == np.int64 for v in got.values())
    assert int(program["high"]()) == 0 and int(program["neg"]()) == -6
    assert float(program["real"]()) == 0.0


def test_nat_below_zero_names_both_numbers(program):
    with pytest.raises(CatError) as err:
        program["Minus"]([2, 5])
    d = err.value.first
    assert d.code == "R0421" and "2 and 5 would be -3" in d.message
    assert d.span.line == PROGRAM.count("\n", 0, PROGRAM.index("morphism Minus")) + 1


def test_int_goes_below_zero():
    kernel = make_kernel("sub", {"kind": "Int"}, (0, 0))
    (y,), _ = kernel.forward(np.asarray(2), np.asarray(5))
    assert int(y) == -3


def test_ceil_div_by_zero_is_refused():
    with pytest.raises(CatRuntimeError) as err:
        make_kernel("ceil_div", {"kind": "Nat"}, (0, 0)).forward(np.asarray(7), np.asarray(0))
    assert err.value.diagnostic.code == "R0422" and "of 7 by 0" in err.value.diagnostic.message


@pytest.mark.parametrize(
    ("a", "b", "want"), [(9, 4, 3), (8, 4, 2), (0, 3, 0), (-7, 2, -3), (7, -2, -3)]
)
def test_ceil_div_is_exact(a, b, want):
    (y,), _ = make_kernel("ceil_div", {"kind": "Int"}, (0, 0)).forward(np.asarray(a), np.asarray(b))
    assert int(y) == want


def test_booleans_are_not_numbers():
    (d,) = check_text(
        "import std.ml\ndata b : Bool = true\ndata x : Bool = b * b >> add\n"
    ).diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E0201", 3, 26)
    assert "expected a `Real, Nat or Int`, found a `Bool`" in d.notes[0]


@pytest.mark.parametrize("name", ["sub", "min", "max"])
def test_real_vjps_match_central_differences(name):
    rng = np.random.default_rng(5)
    check_vjp(make_kernel(name, {"kind": "Real"}, (1, 1)), [rng.normal(size=4), rng.normal(size=4)])
    check_vjp(
        make_kernel(name, {"kind": "Real"}, (1, 0)), [rng.normal(size=3), rng.normal(size=())]
    )


def test_min_and_max_send_the_cotangent_to_the_chosen_operand():
    kernel = make_kernel("max", {"kind": "Real"}, (1, 1))
    (y,), residual = kernel.forward(np.array([1.0, 5.0]), np.array([3.0, 2.0]))
    assert y.tolist() == [3.0, 5.0]
    da, db = kernel.vjp(residual, np.array([10.0, 20.0]))
    assert da.tolist() == [0.0, 20.0] and db.tolist() == [10.0, 0.0]
