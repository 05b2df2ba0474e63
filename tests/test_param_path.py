"""What a program of many params pays for once: their initial values (`course_init` from its
table of fractions, still the formula bit for bit) and the checks of values entering them (one
checker per type, each check still naming its own param)."""

from __future__ import annotations

import numpy as np
import pytest

from catdsl.errors import CatRuntimeError
from catdsl.semantics.invariants import CheckerMemo, make_check
from catdsl.std.init import course_init
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Shape


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [0.3, 1, 2.5, -0.7, 1e-300])
def test_course_init_is_the_formula_bit_for_bit_at_every_residue(dtype, scale):
    """1,000 entries of one seed meet every residue mod 1000 (37 is prime to 1000)."""
    for seed in (0, 1, 7, 999, 1000, 12_345):
        position = np.arange(1000, dtype=np.int64)
        want = (((position * 37 + seed * 101) % 1000) / 1000 - 0.5) * scale
        got = course_init((10, 100), dtype, seed=seed, scale=scale)
        assert got.dtype == dtype and got.shape == (10, 100)
        assert got.tobytes() == want.reshape(10, 100).astype(dtype).tobytes()


def test_course_init_gives_a_new_writable_array_each_time():
    first = course_init((4, 4), np.float64, seed=3, scale=0.3)
    first[...] = 0.0
    again = course_init((4, 4), np.float64, seed=3, scale=0.3)
    assert again.flags.writeable and again[0, 0] == (((3 * 101) % 1000) / 1000 - 0.5) * 0.3


def real(*sizes: int) -> Carrier:
    return Carrier("Real", Shape(tuple(Dim.const(n) for n in sizes)))


def test_checks_of_one_atom_share_a_checker_and_keep_their_own_subject():
    weight, other = real(2, 2), real(2, 2)  # equal, but two objects
    memo: CheckerMemo = {}
    first = make_check(weight, "the param `W0`", None, memo)
    second = make_check(weight, "the param `W1`", None, memo)
    third = make_check(other, "the param `W2`", None, memo)
    assert first is not None and second is not None and third is not None
    assert len(memo) == 2 and memo[id(weight)][0] is weight
    first(np.zeros((2, 2)), {})  # a value that fits passes
    for check, name in ((first, "W0"), (second, "W1"), (third, "W2")):
        with pytest.raises(CatRuntimeError) as err:
            check(np.zeros((3, 2)), {})
        assert err.value.diagnostic.code == "R0410"
        assert err.value.diagnostic.message.startswith(f"the param `{name}` is not a valid")
    with pytest.raises(CatRuntimeError) as err:
        second(np.array([[1.0, np.nan], [0.0, 0.0]]), {})
    assert err.value.diagnostic.code == "R0413"


def test_a_memo_gives_the_checks_a_fresh_build_gives():
    atom = real(3)
    memo: CheckerMemo = {}
    for value in (np.zeros(3), np.zeros(4), np.array([np.inf, 0, 0]), [1.0, 2.0, 3.0], "x"):
        found = []
        for check in (make_check(atom, "the input", None, memo), make_check(atom, "the input")):
            assert check is not None
            try:
                check(value, {})
                found.append(None)
            except CatRuntimeError as err:
                found.append((err.diagnostic.code, err.diagnostic.message))
        assert found[0] == found[1]


PLAN_OF_PARAMS = """import std.ml
dim D = 2
param W0 : Real[D, D] = zeros
param W1 : Real[D, D] = zeros
param b : Real[D] = zeros
morphism L0 : Real[D] -> Real[D] = affine(W0, b)
morphism L1 : Real[D] -> Real[D] = affine(W1, b)
let net = L0 >> L1
"""


def test_a_plan_checks_its_sources_with_shared_checkers_and_names_each():
    """A plan keeps one checker per atom object and no closure per source; a refused input
    or param is still named as `make_check` names it, and the reverse pass's flags are the
    ones worked out from the slots' atoms."""
    from catdsl.frontend.api import loads_program

    program = loads_program(PLAN_OF_PARAMS)
    plan = program["net"].plan
    atoms = (*plan.dom.atoms, *(s.atom for s in plan.sources))
    memo: CheckerMemo = {}
    wrong = np.zeros((3, 3))
    good = [np.zeros(2), np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2))]
    named = ("input 1 of `net`", "the param `W0`", "the param `b`", "the param `W1`")
    for position, subject in enumerate(named):
        values = [wrong if k == position else v for k, v in enumerate(good)]
        with pytest.raises(CatRuntimeError) as err:
            plan.check_sources(values, {})
        expected = make_check(atoms[position], subject, None, memo)
        assert expected is not None
        with pytest.raises(CatRuntimeError) as want:
            expected(wrong, {})
        assert err.value.diagnostic.message == want.value.diagnostic.message
        assert err.value.diagnostic.message.startswith(f"{subject} is not a valid")
        assert err.value.diagnostic.code == "R0410"
    plan.check_sources(good, {})  # values that fit pass
    checkers = plan._source_checkers  # W0 and W1 are of one atom object: one checker
    assert plan.sources[0].atom is plan.sources[2].atom and checkers[1] is checkers[3]
    assert plan.source_differentiable == (True, True, True, True)
    grads = program["net"].vjp([0.5, -0.5], np.ones(2))
    assert set(grads) == {"inputs", "W0", "b", "W1"}
