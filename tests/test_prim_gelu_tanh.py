"""`gelu_tanh` (catdsl/std/prims/gelu_tanh.py): signature, values, VJP, dtype, and PyTorch's
`gelu(approximate="tanh")`."""

from __future__ import annotations

import math

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
morphism Act : Hidden -> Hidden = gelu_tanh
law close_to_exact : Act == Hidden >> gelu within 1e-3
"""


def approx(x: float) -> float:
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def test_gelu_tanh_is_elementwise_in_std_ml():
    sig = PRIMITIVES["gelu_tanh"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_gelu_tanh_in_a_program_and_close_to_the_exact_gelu():
    program = catdsl.loads(PROGRAM)
    x = np.array([-3.0, 0.1, 2.5])
    np.testing.assert_allclose(program["Act"](x), [approx(v) for v in x], rtol=1e-15, atol=0)
    (law,) = program.check_laws()
    assert law.holds and 0 < law.max_error < 1e-3


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_gelu_tanh_vjp_matches_central_differences(shape):
    check_vjp(kernel("gelu_tanh"), [np.random.default_rng(13).normal(scale=2.0, size=shape)])


def test_gelu_tanh_keeps_float32():
    assert kernel("gelu_tanh")(np.array([1.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_gelu_tanh_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(14).normal(scale=3.0, size=(4, 6))
    fn = lambda t: torch.nn.functional.gelu(t, approximate="tanh")  # noqa: E731
    matches_torch(kernel("gelu_tanh"), [x], fn)
