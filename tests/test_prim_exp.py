"""`exp` (catdsl/std/prims/exp.py): signature, values in a program, VJP, dtype, PyTorch."""

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
object Logit : Real[D]
object Rate : Real[D] where positive
morphism ToRate : Logit -> Rate = exp
let twice = ToRate >> Rate >> exp
"""


def test_exp_is_elementwise_in_std_ml():
    sig = PRIMITIVES["exp"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_exp_in_a_program():
    program = catdsl.loads(PROGRAM)
    x = np.array([0.0, 1.0, -2.0])
    np.testing.assert_array_equal(program["ToRate"](x), np.exp(x))
    np.testing.assert_array_equal(program["twice"](x), np.exp(np.exp(x)))


def test_exp_overflow_is_reported_at_the_box_in_a_checked_run():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM)["twice"](np.array([0.0, 1.0, 7.0]))  # e^(e^7) overflows
    assert info.value.diagnostics[0].code == "R0415"
    assert "`exp` produced an infinite value" in str(info.value)


@pytest.mark.parametrize("shape", [(), (4,), (3, 2)])
def test_exp_vjp_matches_central_differences(shape):
    check_vjp(kernel("exp"), [np.random.default_rng(5).normal(size=shape)])


def test_exp_keeps_float32():
    assert kernel("exp")(np.array([1.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_exp_equals_pytorch():
    torch = pytest.importorskip("torch")
    matches_torch(kernel("exp"), [np.random.default_rng(6).normal(scale=3, size=(3, 5))], torch.exp)
