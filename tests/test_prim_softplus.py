"""`softplus` (catdsl/std/prims/softplus.py): signature, values (stable for large |x|), VJP,
dtype, PyTorch (its `softplus` below its threshold of 20, `logaddexp(x, 0)` everywhere)."""

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
dim D = 4
object Hidden : Real[D]
object Positive : Real[D] where positive
morphism Smooth : Hidden -> Positive = softplus
"""


def test_softplus_is_elementwise_in_std_ml():
    sig = PRIMITIVES["softplus"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_softplus_in_a_program_neither_overflows_nor_underflows():
    y = catdsl.loads(PROGRAM)["Smooth"](np.array([1000.0, -700.0, 0.0, 1.0]))
    assert y[0] == 1000.0  # e^1000 would overflow
    assert y[1] == math.exp(-700.0) > 0  # ln(1 + e^-700) = e^-700 to double precision
    assert y[2] == math.log(2.0) and y[3] == pytest.approx(math.log1p(math.e), rel=1e-15)


def test_softplus_gradient_is_the_sigmoid_even_far_out():
    k = kernel("softplus")
    (_,), residual = k.forward(np.array([1000.0, -1000.0, 0.0]))
    (dx,) = k.vjp(residual, np.ones(3))
    assert dx.tolist() == [1.0, 0.0, 0.5]


@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_softplus_vjp_matches_central_differences(shape):
    check_vjp(kernel("softplus"), [np.random.default_rng(3).normal(scale=4.0, size=shape)])


def test_softplus_keeps_float32():
    assert kernel("softplus")(np.array([100.0, -100.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_softplus_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).uniform(-19.0, 19.0, size=(5, 7))
    matches_torch(kernel("softplus"), [x], torch.nn.functional.softplus)
    far = np.array([-800.0, -40.0, 25.0, 60.0, 900.0])
    matches_torch(kernel("softplus"), [far], lambda t: torch.logaddexp(t, torch.zeros_like(t)))
