"""The sampler of `catdsl laws` and `gradcheck` draws `none`, empty lists and lists of varied
lengths (catdsl/frontend/sampling.py), within the `len` invariants of list objects."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.frontend.sampling import MAX_LIST_LENGTH, Case, Sampler, case_of

PROGRAM = """
import std.ml
import std.lists
object Scalar : Real
object Tokens : List[Nat] where nonempty
object Pairs  : List[Real] where len >= 2
object Rows   : List[Real[3]]
morphism Ts : Tokens -> Tokens = Tokens
morphism Ps : Pairs -> Pairs = Pairs
morphism Rs : Rows -> Rows = Rows
morphism Maybe : Option[Scalar] -> Option[Scalar] = Option(Scalar)
morphism Nested : List[List[Real]] -> List[List[Real]] = List(List(Real))
morphism Both : List[Real] * Option[Real] -> List[Real] * Option[Real] = List(Real) * Option(Real)
morphism Inside : List[Option[Real]] -> List[Option[Real]] = List(Option(Real))
law first_is_last : first == last
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def draw(program: catdsl.Program, name: str, case: Case, seed: int = 0) -> tuple:
    sampler = Sampler(np.random.default_rng(seed), program.params, case)
    return sampler.prod(program[name].dom)


def test_a_law_is_tried_on_nothing_first_then_one_element_then_varied():
    assert [case_of(i) for i in range(4)] == [Case.EMPTY, Case.ONE, Case.VARIED, Case.VARIED]


def test_the_empty_case_draws_none_and_empty_lists(program):
    xs, maybe = draw(program, "Both", Case.EMPTY)
    assert xs.shape == (0,) and maybe is None
    assert draw(program, "Rs", Case.EMPTY)[0].shape == (0, 3)
    assert draw(program, "Nested", Case.EMPTY)[0].shape == (0, 0)


def test_the_one_case_draws_one_element_and_a_value(program):
    xs, maybe = draw(program, "Both", Case.ONE)
    assert xs.shape == (1,) and np.shape(maybe) == ()


def test_len_invariants_bound_the_shortest_list(program):
    assert draw(program, "Ts", Case.EMPTY)[0].shape == (1,)
    assert draw(program, "Ps", Case.EMPTY)[0].shape == (2,)
    for seed in range(20):
        assert len(draw(program, "Ps", Case.VARIED, seed)[0]) >= 2


def test_varied_lengths_and_nones(program):
    lengths, nones = set(), 0
    for seed in range(60):
        xs, maybe = draw(program, "Both", Case.VARIED, seed)
        lengths.add(len(xs))
        nones += maybe is None
    assert lengths == set(range(MAX_LIST_LENGTH + 1))
    assert 5 <= nones <= 30  # one time in four


def test_the_default_case_always_has_something_to_differentiate(program):
    for seed in range(30):
        xs, maybe = draw(program, "Both", Case.PRESENT, seed)
        assert 1 <= len(xs) <= MAX_LIST_LENGTH and maybe is not None


def test_options_inside_a_list_are_present(program):
    (inside,) = draw(program, "Inside", Case.EMPTY)
    assert inside.shape == (0,)
    (inside,) = draw(program, "Inside", Case.VARIED, seed=3)
    assert isinstance(inside, np.ndarray)


def test_laws_see_the_edge_cases(program):
    """`first == last` holds on [] and on one element, and fails once lists are longer."""
    (two,) = program.check_laws(samples=2)
    assert two.holds
    (many,) = program.check_laws(samples=16)
    assert not many.holds and many.max_error > 0


def test_option_functor_law_on_none():
    (report,) = catdsl.loads(
        "import std.ml\nlaw twice : Option(scale(2)) >> Option(scale(3)) == Option(scale(6))\n"
    ).check_laws()
    assert report.holds and report.samples == 16


def test_lists_of_truth_values_may_be_empty() -> None:
    """A `List[Bool]` (alone or as a field of a product) is drawn empty in the empty case."""
    program = catdsl.loads(
        "import std.logic\nimport std.lists\n"
        "morphism Flags : List[Nat * Bool] -> Bool = List(snd[Nat, Bool]) >> all\n"
    )
    numbers, flags = draw(program, "Flags", case_of(0))[0]
    assert numbers.shape == flags.shape == (0,)
    assert flags.dtype == np.bool_
