"""`rms_norm(scale, eps)` (catdsl/std/prims/rms_norm.py): signature, values in a program,
static check of eps (E0360), VJP, dtype, PyTorch's `F.rms_norm`."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch, raises

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim D = 4
object Hidden : Real[D]
param g : Real[D] = [1, 2, 0.5, 1]
morphism Norm : Hidden -> Hidden = rms_norm(g)
morphism Loose : Hidden -> Hidden = rms_norm(g, eps = 0.5)
"""


def test_rms_norm_takes_a_scale_of_the_last_axis():
    spec = PRIMITIVES["rms_norm"]
    assert spec.param_names == ("scale",) and dict(spec.defaults) == {"eps": 1e-5}
    sig = spec.build(spec.defaults)
    assert (str(sig.params[0]), str(sig.dom), str(sig.cod)) == (
        "Real[d]",
        "Real[*s, d]",
        "Real[*s, d]",
    )


def test_rms_norm_in_a_program_on_a_batch():
    program = catdsl.loads(PROGRAM)
    x = np.array([[3.0, -1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    g = np.array([1, 2, 0.5, 1])
    for name, eps in (("Norm", 1e-5), ("Loose", 0.5)):
        want = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g
        np.testing.assert_allclose(program[name](x), want, rtol=1e-15, atol=0)


def test_eps_must_be_positive_before_running():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("eps = 0.5", "eps = 0"))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and d.message == "`rms_norm`'s `eps` must lie in (0, ∞), not 0"
    with raises("R0404", "`rms_norm`'s `eps`"):
        kernel("rms_norm", (1, 1), eps=-1.0)


def test_a_scale_of_another_width_is_r0304():
    with raises("R0304", "rms norm"):
        kernel("rms_norm", (1, 1))(np.ones(3), np.ones(4))


@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_rms_norm_vjp_matches_central_differences(batch):
    rng = np.random.default_rng(30)
    check_vjp(kernel("rms_norm", (1, 1)), [rng.normal(size=(*batch, 5)), rng.normal(size=5)])


def test_rms_norm_keeps_float32():
    x, g = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    assert kernel("rms_norm", (1, 1))(x, g)[0].dtype == np.float32


@pytest.mark.torch
def test_rms_norm_equals_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(31)
    x, g = rng.normal(size=(3, 4, 6)), rng.normal(size=6)
    for eps in (1e-5, 0.3):
        fn = lambda t, w, e=eps: torch.nn.functional.rms_norm(t, (6,), w, e)  # noqa: E731
        matches_torch(kernel("rms_norm", (1, 1), eps=eps), [x, g], fn)
