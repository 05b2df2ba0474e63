"""`split(at, axis)` (catdsl/std/prims/split.py): signature with the widths checked
symbolically, values, static checks, the run-time check of `at`, VJP, dtype, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch, raises

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim T
dim A = 2
dim B = 4
object Left  : Real[T, A]
object Right : Real[T, B]
object Both  : Real[T, A + B]
object Wide  : Real[T, 6]
morphism Cut   : Both -> Left * Right = split(A)
morphism Cut6  : Wide -> Left * Right = split(at = 2)
morphism Join  : Left * Right -> Both = concatenate
let round = Cut >> Join
law inverse : Cut >> Join == Both
"""


def test_the_signature_cuts_the_axis_after_at():
    spec = PRIMITIVES["split"]
    sig = spec.build({"at": 2, "axis": -1})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s, t]", "Real[*s, 2] * Real[*s, -2 + t]")
    rows = spec.build({"at": 1, "axis": -2})
    assert str(rows.cod) == "Real[*s, 1, u0] * Real[*s, -1 + t, u0]"


def test_split_in_a_program_and_its_inverse():
    program = catdsl.loads(PROGRAM)
    x = np.arange(18.0).reshape(3, 6)
    left, right = program["Cut"](x)
    np.testing.assert_array_equal(left, x[:, :2])
    np.testing.assert_array_equal(right, x[:, 2:])
    np.testing.assert_array_equal(program["round"](x), x)
    assert all(law.holds and law.max_error == 0 for law in program.check_laws())


def test_parts_that_do_not_fit_are_refused_by_the_checker():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("split(at = 2)", "split(at = 3)"))
    assert info.value.diagnostics[0].code == "E0205"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("split(at = 2)", "split"))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and "`split`'s `at` needs a value" in d.message


def test_at_must_leave_entries_for_the_second_part():
    with raises("R0434", "`split(at = 3)` needs more than 3 entries on axis -1"):
        kernel("split", at=3)(np.ones(3))


@pytest.mark.parametrize("axis", [-1, -2])
def test_split_vjp_matches_central_differences(axis):
    x = np.random.default_rng(42).normal(size=(2, 5, 4))
    check_vjp(kernel("split", (3,), at=2, axis=axis), [x])


def test_split_keeps_float32():
    first, rest = kernel("split", at=1)(np.ones(3, np.float32))
    assert first.dtype == rest.dtype == np.float32


@pytest.mark.torch
def test_split_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(43).normal(size=(3, 7, 2))
    fn = lambda t: torch.split(t, [3, 4], dim=-2)  # noqa: E731
    matches_torch(kernel("split", (3,), at=3, axis=-2), [x], fn)
