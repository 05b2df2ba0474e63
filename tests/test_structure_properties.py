"""The laws that declarations carry, property-based: functor identity and composition,
naturality of `first` (the empty list and `none` included), the monoid laws of the trace, on
inputs that hypothesis draws, and the broken naturality found false on some of them.

Each law is taken as catdsl generated it (`program.checked.laws`), so what is tested is the
generated law's two sides, compiled once per case, on many more inputs than `catdsl laws` draws.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from conftest import PROGRAMS
from hypothesis import given, settings
from hypothesis import strategies as st

import catdsl
from catdsl.frontend.law_check import difference
from catdsl.frontend.program import Morphism

PROPERTIES = settings(max_examples=40, deadline=None)
reals = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
scalar_lists = st.lists(reals, min_size=0, max_size=6)
options = st.none() | reals
digit_lists = st.lists(st.integers(0, 3), max_size=6)
traces = st.lists(st.sampled_from(["embedding", "linear", "softmax", "loss", ""]), max_size=5)


@cache
def structure() -> catdsl.Program:
    return catdsl.load(str(PROGRAMS / "structure.cat"))


@cache
def broken() -> catdsl.Program:
    return catdsl.load(str(PROGRAMS / "errors" / "broken_naturality.cat"))


@cache
def sides(program: catdsl.Program, law: str) -> list[tuple[str, Morphism, Morphism]]:
    """Every case of a generated law as its label and two compiled sides."""
    first = program.checked.laws[law]
    return [
        (c.case, Morphism(program, f"{law} lhs", c.lhs), Morphism(program, f"{law} rhs", c.rhs))
        for c in (first, *first.cases)
    ]


def holds(program: catdsl.Program, law: str, value: object, dom: str | None = None) -> int:
    """Check every case of `law` whose domain is `dom` (all, when None) on `value`; how many."""
    checked = 0
    for case, lhs, rhs in sides(program, law):
        if dom is not None and str(lhs.dom) != dom:
            continue
        a, b = lhs(value), rhs(value)
        assert difference(a, b) <= 1e-9, (law, case, value, a, b)
        checked += 1
    return checked


@PROPERTIES
@given(scalar_lists, digit_lists)
def test_list_functor_laws(xs: list[float], ds: list[int]) -> None:
    value = np.array(xs, dtype=np.float64)
    assert holds(structure(), "List.identity", value, "List[Scalar]") == 1
    assert holds(structure(), "List.composition", value, "List[Scalar]") == 9
    assert holds(structure(), "List.identity", np.array(ds, dtype=np.int64), "List[Digit]") == 1


@PROPERTIES
@given(options, st.none() | st.integers(0, 3))
def test_option_functor_laws(x: float | None, d: int | None) -> None:
    assert holds(structure(), "Option.identity", x, "Option[Scalar]") == 1
    assert holds(structure(), "Option.composition", x, "Option[Scalar]") == 9
    assert holds(structure(), "Option.identity", d, "Option[Digit]") == 1


@PROPERTIES
@given(scalar_lists, digit_lists)
def test_first_is_natural_for_every_morphism(xs: list[float], ds: list[int]) -> None:
    for value, dom in (
        (np.array(xs, dtype=np.float64), "List[Scalar]"),
        (np.array(ds, dtype=np.int64), "List[Digit]"),
    ):
        assert holds(structure(), "First.naturality", value, dom) >= 1
        for _, lhs, _ in sides(structure(), "First.naturality"):
            if str(lhs.dom) == dom:  # the empty list goes to none, both ways
                assert (lhs(value) is None) == (len(value) == 0)


@PROPERTIES
@given(traces, traces, traces)
def test_trace_monoid_laws(a: list[str], b: list[str], c: list[str]) -> None:
    program = structure()
    holds(program, "Trace.left_unit", a)
    holds(program, "Trace.right_unit", a)
    holds(program, "Trace.associativity", (a, b, c))
    ((_, lhs, _),) = sides(program, "Trace.associativity")
    assert list(lhs((a, b, c))) == a + b + c  # and it is concatenation


@PROPERTIES
@given(scalar_lists)
def test_the_first_positive_element_is_natural_exactly_where_negating_agrees(
    xs: list[float],
) -> None:
    """The broken transformation's square at `f = Negate`: the first positive element of the
    negated list against the negated first positive element."""
    program = broken()
    ((case, lhs, rhs),) = sides(program, "FirstPositive.naturality")
    assert case == "f = Negate"
    value = np.array(xs, dtype=np.float64)
    positives = [x for x in xs if x > 0]
    negatives = [-x for x in xs if -x > 0]
    a, b = lhs(value), rhs(value)
    assert a == (negatives[0] if negatives else None)
    assert b == (-positives[0] if positives else None)
    assert (difference(a, b) == 0.0) == (not positives and not negatives)


PREORDER = """
import std.ml
import std.logic

object Level : Real
preorder Levels : Level where le = le
object Size : Index[6]
preorder Sizes : Size where le = ge
"""


@cache
def orders() -> catdsl.Program:
    return catdsl.loads(PREORDER, "orders.cat")


@PROPERTIES
@given(reals, reals, reals, st.integers(0, 5), st.integers(0, 5), st.integers(0, 5))
def test_preorder_laws(a: float, b: float, c: float, i: int, j: int, k: int) -> None:
    program = orders()
    holds(program, "Levels.reflexivity", a)
    holds(program, "Levels.transitivity", (a, b, c))
    holds(program, "Sizes.reflexivity", i)
    holds(program, "Sizes.transitivity", (i, j, k))
    ((_, lhs, _),) = sides(program, "Levels.transitivity")
    assert bool(lhs((a, b, c))) is True  # a ≤ b and b ≤ c implies a ≤ c
