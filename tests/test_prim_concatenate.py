"""`concatenate(n, axis)` (catdsl/std/prims/concatenate.py): widths added symbolically
along an axis counted from the end, values, static checks, VJP, dtype, PyTorch's `cat`."""

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
morphism Join  : Left * Right -> Both = concatenate
morphism Three : Left * Right * Left -> Real[T, 8] = concatenate(3)
morphism Stack : Left * Left -> Real[T + T, A] = concatenate(axis = -2)
"""


def test_the_signature_adds_widths_on_the_axis_and_unifies_the_rest():
    spec = PRIMITIVES["concatenate"]
    assert dict(spec.defaults) == {"n": 2, "axis": -1} and spec.count == "n"
    last = spec.build({"n": 2, "axis": -1})
    assert (str(last.dom), str(last.cod)) == ("Real[*s, w0] * Real[*s, w1]", "Real[*s, w0 + w1]")
    second = spec.build({"n": 3, "axis": -2})
    assert str(second.dom) == "Real[*s, w0, t0] * Real[*s, w1, t0] * Real[*s, w2, t0]"
    assert str(second.cod) == "Real[*s, w0 + w1 + w2, t0]"


def test_concat_in_a_program():
    program = catdsl.loads(PROGRAM)
    left, right = np.arange(6.0).reshape(3, 2), -np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(program["Join"]((left, right)), np.hstack([left, right]))
    np.testing.assert_array_equal(
        program["Three"]((left, right, left)), np.hstack([left, right, left])
    )
    np.testing.assert_array_equal(program["Stack"]((left, left)), np.vstack([left, left]))


def test_widths_that_do_not_add_up_are_refused_by_the_checker():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("Real[T, 8] = concatenate(3)", "Real[T, 9] = concatenate(3)"))
    assert info.value.diagnostics[0].code == "E0205"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("concatenate(axis = -2)", "concatenate(axis = 1)"))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and "`axis` must be a whole number from -32 to -1, not 1" in d.message


def test_other_axes_that_differ_at_run_time_are_r0434():
    with raises("R0434", "differ off axis -1"):
        kernel("concatenate", (2, 2), n=2, axis=-1)(np.ones((2, 3)), np.ones((3, 3)))
    with raises("R0306", "axis -3"):
        kernel("concatenate", (2, 2), n=2, axis=-3)(np.ones((2, 3)), np.ones((2, 3)))


@pytest.mark.parametrize("axis", [-1, -2, -3])
def test_concat_vjp_matches_central_differences(axis):
    rng = np.random.default_rng(40)
    shapes = [[2, 3, 4], [2, 3, 4]]
    shapes[1][axis] = 1
    xs = [rng.normal(size=s) for s in shapes]
    check_vjp(kernel("concatenate", (3, 3), n=2, axis=axis), xs)


def test_concat_keeps_float32():
    x = np.ones((2, 2), np.float32)
    assert kernel("concatenate", (2, 2), n=2, axis=-1)(x, x)[0].dtype == np.float32


@pytest.mark.torch
def test_concat_equals_pytorch_cat():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(41)
    xs = [rng.normal(size=(2, w, 3)) for w in (1, 4, 2)]
    fn = lambda *ts: torch.cat(ts, dim=-2)  # noqa: E731
    matches_torch(kernel("concatenate", (3, 3, 3), n=3, axis=-2), xs, fn)
