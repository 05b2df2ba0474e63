"""`sqrt` (catdsl/std/prims/sqrt.py): signature, values, the domain error R0430, VJP, dtype,
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch, raises

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim D = 2
object Variance : Real[D] where positive
object Deviation : Real[D]
morphism Std : Variance -> Deviation = sqrt
let with_floor = Deviation >> clip(lo = 0.5) >> sqrt
"""


def test_sqrt_is_elementwise_in_std_ml():
    sig = PRIMITIVES["sqrt"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_sqrt_in_a_program():
    program = catdsl.loads(PROGRAM)
    np.testing.assert_array_equal(program["Std"](np.array([4.0, 2.0])), [2.0, np.sqrt(2.0)])
    np.testing.assert_array_equal(program["with_floor"](np.array([-3.0, 9.0])), [np.sqrt(0.5), 3])


def test_sqrt_refuses_zero_and_negative_entries():
    with raises("R0430", "`sqrt` is defined for positive entries only", "[1]", "is 0"):
        kernel("sqrt")(np.array([1.0, 0.0]))
    with raises("R0430", "[0, 1]", "is -2"):
        kernel("sqrt", (2,))(np.array([[1.0, -2.0]]))
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("where positive", ""))["Std"](np.array([1.0, -1.0]))
    assert info.value.diagnostics[0].code == "R0430"
    assert "small constant" in info.value.diagnostics[0].help


@pytest.mark.parametrize("shape", [(), (4,), (3, 2)])
def test_sqrt_vjp_matches_central_differences(shape):
    check_vjp(kernel("sqrt"), [np.random.default_rng(9).uniform(0.3, 4.0, size=shape)])


def test_sqrt_keeps_float32():
    assert kernel("sqrt")(np.array([2.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_sqrt_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).uniform(1e-4, 30.0, size=(3, 4))
    matches_torch(kernel("sqrt"), [x], torch.sqrt)
