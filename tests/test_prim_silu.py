"""`silu` (catdsl/std/prims/silu.py): signature, values in a program, VJP, dtype, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim D = 3
object Hidden : Real[D]
morphism Swish : Hidden -> Hidden = silu
"""


def test_silu_is_elementwise_in_std_ml():
    spec = PRIMITIVES["silu"]
    sig = spec.build({})
    assert spec.module == "std.ml" and (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_silu_in_a_program_is_x_times_sigmoid_and_stable():
    program = catdsl.loads(PROGRAM)
    x = np.array([[-800.0, 0.0, 2.0], [800.0, -1.0, 0.5]])
    y = program["Swish"](x)
    with np.errstate(over="ignore"):
        want = x / (1 + np.exp(-x))
    np.testing.assert_allclose(y, want, rtol=1e-15, atol=0)
    assert y[0, 0] == -0.0 and y[1, 0] == 800.0


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_silu_vjp_matches_central_differences(shape):
    check_vjp(kernel("silu"), [np.random.default_rng(1).normal(scale=3.0, size=shape)])


def test_silu_keeps_float32():
    assert kernel("silu")(np.array([1.0, -30.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_silu_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(scale=4.0, size=(4, 6))
    matches_torch(kernel("silu"), [x], torch.nn.functional.silu)
