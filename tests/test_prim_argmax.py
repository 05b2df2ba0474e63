"""`argmax` (catdsl/std/prims/argmax.py), an evaluation morphism: signature, values in a
program, ties, NaN (R0433), no gradient, and refusal by a training step (E0361)."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit import CLASSIFIER, LABELS, PREDICTED
from primkit import kernel, raises

import catdsl
from catdsl.std.library import PRIMITIVES
from catdsl.typesys.primitives import NoGradient


def test_argmax_maps_scores_to_an_index_of_their_last_axis():
    spec = PRIMITIVES["argmax"]
    sig = spec.build({})
    assert spec.module == "std.ml" and spec.no_gradient is NoGradient.EVALUATION
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s, n]", "Index[*s, n]")


def test_argmax_in_a_program_predicts_a_label():
    program = catdsl.loads(CLASSIFIER)
    assert str(program["Predict"].cod) == "Label"
    assert program["Predict"](np.array([0.0, 3.0])) == 1
    predicted, labels = program["predictions"]()
    assert predicted.tolist() == PREDICTED and labels.tolist() == LABELS
    assert predicted.dtype == np.int64


def test_ties_go_to_the_first_position_and_batches_keep_their_axes():
    (y,) = kernel("argmax")(np.array([[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]]))
    assert y.shape == (1, 2) and y.tolist() == [[1, 0]]
    (y32,) = kernel("argmax")(np.array([0.5, -1.0], dtype=np.float32))
    assert y32 == 0 and y32.dtype == np.int64


def test_nan_scores_have_no_largest_entry_and_empty_ones_no_class():
    with raises("R0433", "`argmax` got NaN scores (at [1, 0])"):
        kernel("argmax")(np.array([[1.0, 2.0], [np.nan, 0.0]]))
    with raises("R0401", "`argmax`"):
        kernel("argmax")(np.zeros((2, 0)))


def test_no_gradient_flows_through_argmax():
    k = kernel("argmax")
    assert k.differentiable == (False,)
    (_,), residual = k.forward(np.array([1.0, 2.0]))
    assert k.vjp(residual, np.zeros(())) == (None,)


def test_a_training_step_through_argmax_is_e0361_naming_the_box():
    source = (
        CLASSIFIER
        + """
param Cost : Real[C, 1] = ones
morphism Penalty : Label -> Loss = lookup(Cost) >> sum
let hard = Predict >> Penalty
data xs : List[Features] = [[1, 0], [0, 1]]
let step = Adam(hard, xs, lr = 0.1)
let measured = MeanLoss(hard, xs)
"""
    )
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(source, file="hard.cat")
    (d,) = info.value.diagnostics
    assert d.code == "E0361"
    assert d.message == (
        "`Adam` cannot train `hard`: it goes through `argmax` (in `Predict`), an evaluation "
        "morphism that no gradient flows through"
    )
    assert (d.span.line, d.span.column) == (25, 17)
    (label,) = d.labels
    assert (label.span.line, label.span.column) == (13, 54)
    assert label.message == "`argmax` is used here"


@pytest.mark.torch
def test_argmax_equals_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(20).normal(size=(4, 5, 7))
    (y,) = kernel("argmax")(x)
    np.testing.assert_array_equal(y, torch.argmax(torch.tensor(x), dim=-1).numpy())


def test_argmax_is_found_inside_wiring_blocks_and_definitions_used_by_the_loss():
    source = """
import std.ml
dim F = 2
dim C = 3
object Features : Real[F]
object Loss     : Real
param W    : Real[F, C] = course_init(seed = 1, scale = 0.5)
param Cost : Real[C, 1] = ones
let block(x: Features) -> Loss = { p = argmax(linear(W)(x)); return sum(lookup(Cost)(p)) }
let looped = block
data xs : List[Features] = [[1, 0], [0, 1]]
let step = Momentum(looped, xs, lr = 0.1)
"""
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(source)
    (d,) = info.value.diagnostics
    assert d.code == "E0361" and "goes through `argmax` (in `block`)" in d.message
    assert (d.labels[0].span.line, d.labels[0].span.column) == (9, 40)
