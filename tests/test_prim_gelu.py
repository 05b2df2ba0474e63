"""`gelu`, the primitive added in one file (catdsl/std/prims/gelu.py): its signature in a
program, its values and its VJP, and PyTorch's exact GELU where torch is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradkit import check_vjp

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.ml
dim D = 3
object Hidden : Real[D]
object Activated : Real[D]
morphism Gelu : Hidden -> Activated = gelu
let twice = Gelu >> Activated >> scale(2.0)
"""


def exact(x: float) -> float:
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


def test_gelu_is_a_std_ml_primitive_with_an_elementwise_signature():
    spec = PRIMITIVES["gelu"]
    assert spec.module == "std.ml" and spec.param_names == () and spec.static_names == ()
    sig = spec.build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_gelu_runs_in_a_program_on_batches():
    program = catdsl.loads(PROGRAM)
    assert str(program["Gelu"].dom) == "Hidden" and str(program["Gelu"].cod) == "Activated"
    x = np.array([[-2.0, 0.0, 1.5], [3.0, -0.5, 0.25]])
    y = program["Gelu"](x)
    np.testing.assert_allclose(y, [[exact(v) for v in row] for row in x], rtol=0, atol=1e-15)
    assert y[0, 1] == 0.0 and y[0, 0] < 0


def test_gelu_needs_its_module():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("import std.ml\n", ""))
    assert "import std.ml" in str(info.value)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_gelu_vjp_matches_central_differences(shape):
    x = np.random.default_rng(3).normal(scale=2.0, size=shape)
    check_vjp(make_kernel("gelu", {}, (0,)), [x])


def test_gelu_keeps_float32():
    (y,) = make_kernel("gelu", {}, (1,))(np.array([1.0, -1.0], dtype=np.float32))
    assert y.dtype == np.float32


def test_gelu_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).normal(scale=3.0, size=(5, 7))
    dy = np.random.default_rng(6).normal(size=x.shape)
    kernel = make_kernel("gelu", {}, (1,))
    (y,), residual = kernel.forward(x)
    (dx,) = kernel.vjp(residual, dy)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-14, atol=1e-15)
