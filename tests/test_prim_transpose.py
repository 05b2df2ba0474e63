"""`transpose(a, b)` (catdsl/std/prims/transpose.py): signature with two dims swapped,
values, static checks, VJP, dtype, PyTorch's `transpose`."""

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
dim D = 3
object Rows : Real[T, D]
object Cols : Real[D, T]
morphism Flip : Rows -> Cols = transpose
morphism Back : Cols -> Rows = transpose
law involution : Flip >> Back == Rows
"""


def test_the_signature_swaps_two_dims():
    spec = PRIMITIVES["transpose"]
    last = spec.build(spec.defaults)
    assert (str(last.dom), str(last.cod)) == ("Real[*s, d0, d1]", "Real[*s, d1, d0]")
    outer = spec.build({"a": -3, "b": -1})
    assert (str(outer.dom), str(outer.cod)) == (
        "Real[*s, d0, d1, d2]",
        "Real[*s, d2, d1, d0]",
    )


def test_transpose_in_a_program():
    program = catdsl.loads(PROGRAM)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(program["Flip"](x), x.T)
    assert all(law.holds for law in program.check_laws())
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("Rows -> Cols", "Rows -> Rows"))
    assert info.value.diagnostics[0].code == "E0205"


def test_the_two_axes_must_differ():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("Cols = transpose\n", "Cols = transpose(-1, -1)\n"))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and d.message == "`transpose`'s `b` must differ from `a` (-1)"
    with raises("R0306", "axis -3"):
        kernel("transpose", a=-3, b=-1)(np.ones((2, 2)))


def test_transpose_vjp_matches_central_differences():
    x = np.random.default_rng(44).normal(size=(2, 3, 4))
    check_vjp(kernel("transpose", (3,), a=-3, b=-2), [x])
    check_vjp(kernel("transpose", (2,), a=-2, b=-1), [x])


def test_transpose_keeps_float32():
    assert kernel("transpose", (2,))(np.ones((2, 3), np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_transpose_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(45).normal(size=(2, 3, 4, 5))
    fn = lambda t: torch.transpose(t, -3, -1)  # noqa: E731
    matches_torch(kernel("transpose", (4,), a=-3, b=-1), [x], fn)
