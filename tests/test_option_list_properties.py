"""Property tests on generated inputs, the empty list and `none` included: the functor laws of
`List` and `Option`, the naturality of `first` and `last`, the monoid laws of `concat` on
symbols, the order and lattice laws of a finite ordered object, and whole-number arithmetic."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catdsl
from catdsl.errors import CatError

PROPERTIES = settings(max_examples=40, deadline=None)

PROGRAM = """
import std.ml
import std.lists
import std.logic
object Level : Observation < Feature < Score < Decision
morphism F : Real -> Real = scale(3)
morphism G : Real -> Real = tanh
let list_map = List(F)
let list_id = List(Real)
let list_then = List(F) >> List(G)
let list_both = List(F >> G)
let option_map = Option(F)
let option_id = Option(Real)
let option_then = Option(F) >> Option(G)
let option_both = Option(F >> G)
let first_after_map = List(F) >> first
let map_after_first = first >> Option(F)
let last_after_map = List(G) >> last
let map_after_last = last >> Option(G)
morphism Join : Level * Level -> Level = join
morphism Meet : Level * Level -> Level = meet
morphism Le : Level * Level -> Bool = le
morphism Concat : List[Symbol] * List[Symbol] -> List[Symbol] = concat
morphism Sub : Nat * Nat -> Nat = sub
morphism CeilDiv : Nat * Nat -> Nat = ceil_div
"""

reals = st.floats(min_value=-5, max_value=5, allow_nan=False)
lists = st.lists(reals, min_size=0, max_size=6)
options = st.one_of(st.none(), reals)
symbols = st.lists(st.sampled_from(["embedding", "linear", "softmax", "a"]), max_size=4)
LEVELS = ("Observation", "Feature", "Score", "Decision")


@pytest.fixture(scope="module")
def p() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


@PROPERTIES
@given(xs=lists)
def test_list_functor_laws(p, xs):
    assert same(p["list_id"](xs), np.asarray(xs, dtype=float))
    assert same(p["list_then"](xs), p["list_both"](xs))
    assert len(p["list_map"](xs)) == len(xs)  # order and length kept


@PROPERTIES
@given(x=options)
def test_option_functor_laws(p, x):
    assert same(p["option_id"](x), x)
    assert same(p["option_then"](x), p["option_both"](x))
    assert (p["option_map"](x) is None) == (x is None)  # fmap f none = none


@PROPERTIES
@given(xs=lists)
def test_first_and_last_are_natural(p, xs):
    assert same(p["first_after_map"](xs), p["map_after_first"](xs))
    assert same(p["last_after_map"](xs), p["map_after_last"](xs))
    assert (p["first_after_map"](xs) is None) == (xs == [])


@PROPERTIES
@given(a=symbols, b=symbols, c=symbols)
def test_concat_is_a_monoid_with_unit_empty(p, a, b, c):
    concat = p["Concat"]

    def run(x, y):
        return concat([x, y]).tolist()

    assert run([], a) == a and run(a, []) == a
    assert run(run(a, b), c) == run(a, run(b, c)) == a + b + c


def test_the_order_of_a_finite_object_exhaustively(p):
    le, join, meet = p["Le"], p["Join"], p["Meet"]
    pairs = list(itertools.product(LEVELS, repeat=2))
    leq = {(a, b): bool(le([a, b])) for a, b in pairs}
    for a, b in pairs:
        assert leq[(a, b)] == (LEVELS.index(a) <= LEVELS.index(b))
        top, bottom = LEVELS[int(join([a, b]))], LEVELS[int(meet([a, b]))]
        assert leq[(a, top)] and leq[(b, top)] and leq[(bottom, a)] and leq[(bottom, b)]
        assert all(leq[(top, c)] for c in LEVELS if leq[(a, c)] and leq[(b, c)])  # least
    for a in LEVELS:
        assert leq[(a, a)]  # reflexive
    for a, b, c in itertools.product(LEVELS, repeat=3):
        if leq[(a, b)] and leq[(b, c)]:
            assert leq[(a, c)]  # transitive


@PROPERTIES
@given(a=st.integers(0, 50), b=st.integers(0, 50))
def test_natural_subtraction_and_division(p, a, b):
    if a >= b:
        assert int(p["Sub"]([a, b])) == a - b
    else:
        with pytest.raises(CatError) as err:
            p["Sub"]([a, b])
        assert err.value.first.code == "R0421"
    if b > 0:
        assert int(p["CeilDiv"]([a, b])) == math.ceil(a / b)
