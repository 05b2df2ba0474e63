"""`clip(lo, hi)` (catdsl/std/prims/clip.py): signature and static checks (E0360), values,
the VJP (zero outside the bounds), dtype, PyTorch's `clamp`."""

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
dim D = 5
object Hidden : Real[D]
morphism Bounded : Hidden -> Hidden = clip(-1, 1)
morphism Floor : Hidden -> Hidden = clip(lo = 0.25)
morphism Ceiling : Hidden -> Hidden = clip(hi = 2)
"""


def test_clip_is_elementwise_with_static_bounds_open_by_default():
    spec = PRIMITIVES["clip"]
    assert spec.static_names == ("lo", "hi") and spec.param_names == ()
    assert dict(spec.defaults) == {"lo": -math.inf, "hi": math.inf}
    sig = spec.build(spec.defaults)
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")


def test_clip_in_a_program():
    program = catdsl.loads(PROGRAM)
    x = np.array([-3.0, -1.0, 0.0, 1.5, 7.0])
    np.testing.assert_array_equal(program["Bounded"](x), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(program["Floor"](x), [0.25, 0.25, 0.25, 1.5, 7])
    np.testing.assert_array_equal(program["Ceiling"](x), [-3, -1, 0, 1.5, 2])


def check_error(source: str) -> catdsl.CatError:
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(source, file="clip.cat")
    return info.value


def test_bounds_in_the_wrong_order_are_e0360_at_the_argument():
    error = check_error(PROGRAM.replace("clip(-1, 1)", "clip(lo = 2, hi = 1)"))
    (d,) = error.diagnostics
    assert d.code == "E0360"
    assert d.message == "`clip`'s `lo` (2) must not exceed `hi` (1)"
    assert (d.span.line, d.span.column) == (5, 49)
    assert d.help.startswith("`clip(lo = …, hi = …)`")


def test_a_lower_bound_above_the_default_upper_one_is_fine_and_equal_bounds_too():
    catdsl.loads(PROGRAM.replace("clip(-1, 1)", "clip(1e300)"))
    y = catdsl.loads(PROGRAM.replace("clip(-1, 1)", "clip(0.5, 0.5)"))["Bounded"](np.arange(5.0))
    assert (y == 0.5).all()


def test_a_kernel_built_without_the_checker_refuses_the_same_bounds():
    with raises("R0404", "`clip`'s `lo` (3) must not exceed `hi` (2)"):
        kernel("clip", lo=3, hi=2)
    with raises("R0404", "`clip`'s `hi` must be a number"):
        kernel("clip", hi=math.nan)


def test_the_cotangent_passes_inside_the_bounds_only_bounds_included():
    k = kernel("clip", lo=-1.0, hi=1.0)
    (_,), residual = k.forward(np.array([-2.0, -1.0, 0.3, 1.0, 1.5]))
    (dx,) = k.vjp(residual, np.full(5, 3.0))
    assert dx.tolist() == [0.0, 3.0, 3.0, 3.0, 0.0]


@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_clip_vjp_matches_central_differences_away_from_the_kinks(shape):
    x = np.random.default_rng(11).normal(scale=2.0, size=shape)
    x = np.where(np.abs(np.abs(x) - 1) < 1e-3, x + 0.01, x)
    check_vjp(kernel("clip", lo=-1.0, hi=1.0), [x])


def test_clip_keeps_float32():
    y = kernel("clip", lo=-0.5)(np.array([-1.0, 1.0], dtype=np.float32))[0]
    assert y.dtype == np.float32 and y.tolist() == [-0.5, 1.0]


@pytest.mark.torch
def test_clip_equals_pytorch_clamp():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(12).normal(scale=2.0, size=(4, 6))
    x[0, :2] = [-1.0, 1.0]  # exactly on the bounds: the gradient passes, as in torch
    matches_torch(kernel("clip", lo=-1.0, hi=1.0), [x], lambda t: torch.clamp(t, -1.0, 1.0))
    matches_torch(kernel("clip", lo=0.0), [x], lambda t: torch.clamp(t, min=0.0))
