"""`log` (catdsl/std/prims/log.py): signature, values, the domain error R0430 at the box, VJP,
dtype, PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch, raises

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim D = 3
object Rate : Real[D]
object LogRate : Real[D]
morphism Log : Rate -> LogRate = log
"""


def test_log_is_elementwise_in_std_ml():
    sig = PRIMITIVES["log"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_log_in_a_program():
    y = catdsl.loads(PROGRAM)["Log"](np.array([1.0, math.e, 1e-300]))
    np.testing.assert_array_equal(y, np.log([1.0, math.e, 1e-300]))


def test_a_non_positive_entry_is_r0430_at_the_box_naming_the_entry():
    program = catdsl.loads(PROGRAM, file="rates.cat")
    with pytest.raises(catdsl.CatError) as info:
        program["Log"](np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 4.0]]))
    (d,) = info.value.diagnostics
    assert d.code == "R0430"
    assert d.message == "`log` is defined for positive entries only, but the entry at [1, 1] is 0"
    assert (d.span.file, d.span.line, d.span.column) == ("rates.cat", 6, 34)
    assert "softplus" in d.help


@pytest.mark.parametrize("bad", [-1.0, 0.0, -0.0, -math.inf])
def test_log_refuses_every_non_positive_value(bad):
    with raises("R0430", "`log`", "the input is"):
        kernel("log", ())(np.float64(bad))


def test_nan_passes_through_as_in_every_kernel():
    assert np.isnan(kernel("log")(np.array([np.nan]))[0]).all()


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_log_vjp_matches_central_differences(shape):
    check_vjp(kernel("log"), [np.random.default_rng(7).uniform(0.2, 5.0, size=shape)])


def test_log_keeps_float32():
    assert kernel("log")(np.array([2.0], dtype=np.float32))[0].dtype == np.float32


@pytest.mark.torch
def test_log_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(8).uniform(1e-3, 50.0, size=(4, 5))
    matches_torch(kernel("log"), [x], torch.log)
