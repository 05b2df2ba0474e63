"""`fold(op, unit)` and taking an object over a product apart (`fst[P]`, `snd[P]`) on the torch
backend: the numpy backend's values, and its reverse derivative (autograd back through every
application of `op`, the parts' cotangents packed again), to 1e-12. `fold`'s kernel takes
plans, not arrays, so it is compared on whole programs rather than among test_torch_rules'
cases."""

from __future__ import annotations

import numpy as np
import pytest
from test_prim_fold import PROGRAM
from test_rough_edges_more import PARTS

import catdsl

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-12, "atol": 1e-12}


def both(source: str) -> tuple[catdsl.Program, catdsl.Program]:
    return catdsl.loads(source), catdsl.loads(source, backend="torch")


@pytest.fixture(scope="module")
def folds() -> tuple[catdsl.Program, catdsl.Program]:
    return both(PROGRAM)


CLOSED = ["all_bits", "all_trues", "all_empty", "any_bits", "total", "total_own", "empty_sum"]


@pytest.mark.parametrize("name", [*CLOSED, "number"])
def test_a_closed_fold_gives_the_numpy_value(folds, name: str) -> None:
    ours, theirs = (p[name]() for p in folds)
    assert np.asarray(theirs).dtype == np.asarray(ours).dtype
    np.testing.assert_allclose(np.asarray(theirs), np.asarray(ours), **TOL)


def test_the_fold_is_from_the_left_and_the_empty_list_gives_the_unit(folds) -> None:
    _, on_torch = folds
    assert int(on_torch["number"]()) == 407
    assert float(on_torch["empty_sum"]()) == 0.0 and bool(on_torch["all_empty"]())


REAL = [
    ("product", np.array([1.5, -2.0, 0.7, 3.0])),
    ("soft", np.array([0.3, -1.2, 0.8])),
    ("sums", np.random.default_rng(4).normal(size=(3, 5))),
]


@pytest.mark.parametrize(("name", "x"), REAL, ids=[r[0] for r in REAL])
def test_a_fold_of_reals_and_its_reverse_derivative(folds, name: str, x: np.ndarray) -> None:
    ours, theirs = (p[name] for p in folds)
    y = np.asarray(ours(x))
    np.testing.assert_allclose(np.asarray(theirs(x)), y, **TOL)
    dy = np.random.default_rng(1).normal(size=y.shape)
    (want,) = ours.vjp(x, dy)["inputs"]
    (got,) = theirs.vjp(x, dy)["inputs"]
    assert np.any(want != 0)  # something flows back through every application
    np.testing.assert_allclose(got, want, **TOL)


def test_a_fold_of_whole_numbers(folds) -> None:
    ours, theirs = (p["count_up"] for p in folds)
    x = np.array([4, 0, 7])
    assert int(theirs(x)) == int(ours(x)) == 11


def test_a_fold_through_a_discrete_op_of_reals(folds) -> None:
    x = np.array([-1.0, -0.5, 2.0])
    ours, theirs = (p["any_pos"] for p in folds)
    assert bool(theirs(x)) == bool(ours(x)) is True
    assert bool(theirs(x[:2])) == bool(ours(x[:2])) is False


def test_an_object_over_a_product_is_taken_apart() -> None:
    ours, theirs = both(PARTS)
    assert (int(ours["start"]()), int(ours["finish"]())) == (3, 5)
    assert (int(theirs["start"]()), int(theirs["finish"]())) == (3, 5)
    assert float(theirs["Norm"]((2.0, [1.0, 3.0]))) == 6.0


def test_the_parts_cotangents_are_packed_again() -> None:
    ours, theirs = both(PARTS)
    value = (np.array(2.0), np.array([1.0, 3.0]))
    (want,) = ours["Scaled"].vjp(value, np.array(1.0))["inputs"]
    (got,) = theirs["Scaled"].vjp(value, np.array(1.0))["inputs"]
    assert float(got[0]) == float(want[0]) == 12.0
    assert got[1].tolist() == want[1].tolist() == [6.0, 6.0]
