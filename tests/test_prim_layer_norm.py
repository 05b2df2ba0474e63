"""`layer_norm(scale, shift, eps)` for ordinary vectors: the kernel of `std.attention`
(catdsl/std/attention_kernels.py) is visible from `std.ml` too, normalises the last axis of any
`Real[*s, d]` (a hidden vector of an MLP as well as a sequence), and checks eps before running."""

from __future__ import annotations

import numpy as np
import pytest
from primkit import kernel, matches_torch

import catdsl
from catdsl.std.doc_tables import primitive_table
from catdsl.std.library import PRIMITIVES

MLP = """
import std.ml
dim D = 3
object Hidden : Real[D]
param g : Real[D] = [1, 2, 3]
param c : Real[D] = [0, 1, 0]
morphism Norm : Hidden -> Hidden = layer_norm(g, c)
let block = Norm >> relu
"""


def test_layer_norm_is_visible_from_std_ml_and_std_attention():
    spec = PRIMITIVES["layer_norm"]
    assert spec.module == "std.attention" and spec.also == ("std.ml",)
    assert "| `layer_norm(scale, shift, eps)` |" in primitive_table("std.ml")
    assert "| `layer_norm(scale, shift, eps)` |" in primitive_table("std.attention")
    catdsl.loads(MLP.replace("import std.ml", "import std.attention\nimport std.ml"))


def test_layer_norm_of_an_mlp_vector():
    program = catdsl.loads(MLP)
    x = np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]])
    centred = x - x.mean(axis=-1, keepdims=True)
    normed = centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + 1e-5)
    want = normed * [1, 2, 3] + [0, 1, 0]
    np.testing.assert_allclose(program["Norm"](x), want, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(program["block"](x), np.maximum(want, 0), rtol=1e-14, atol=1e-15)


def test_without_either_import_the_name_is_unknown():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(MLP.replace("import std.ml\n", ""))
    assert info.value.diagnostics[0].code == "E0306"
    assert "import std.attention" in info.value.diagnostics[0].help


def test_a_non_positive_eps_is_e0360():
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(MLP.replace("layer_norm(g, c)", "layer_norm(g, c, eps = 0)"))
    assert info.value.diagnostics[0].code == "E0360"


@pytest.mark.torch
def test_layer_norm_of_vectors_equals_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(32)
    x, g, c = rng.normal(size=(7, 5)), rng.normal(size=5), rng.normal(size=5)
    fn = lambda t, w, b: torch.nn.functional.layer_norm(t, (5,), w, b, 1e-5)  # noqa: E731
    matches_torch(kernel("layer_norm", (1, 1, 1)), [x, g, c], fn)
