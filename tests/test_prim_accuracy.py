"""`accuracy` (catdsl/std/prims/accuracy.py), an evaluation morphism: signature, values over a
list (and over sequences), errors (R0431, R0432), use in laws, refusal by training (E0361)."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit import CLASSIFIER
from primkit import kernel, raises

import catdsl
from catdsl.std.library import PRIMITIVES
from catdsl.typesys.primitives import NoGradient

MEASURED = (
    CLASSIFIER
    + """
let val_accuracy = predictions >> accuracy
object Batch : List[Features * Label] where len >= 1     # accuracy of no predictions is R0432
law top1 : Batch >> List(Classify * Label) >> top_k_accuracy(1)
        == Batch >> List(Predict * Label) >> accuracy
"""
)


def test_accuracy_takes_a_list_of_predictions_and_labels():
    spec = PRIMITIVES["accuracy"]
    sig = spec.build({})
    assert spec.no_gradient is NoGradient.EVALUATION and spec.static_names == ()
    assert (str(sig.dom), str(sig.cod)) == ("List[Index[*s, n] * Index[*s, n]]", "Real")


def test_accuracy_of_a_validation_list():
    program = catdsl.loads(MEASURED)
    value = program["val_accuracy"]()
    assert value == 3 / 5 and np.asarray(value).dtype == np.float64
    assert str(program["val_accuracy"].cod) == "Real"


def test_accuracy_is_usable_in_laws():
    (law,) = catdsl.loads(MEASURED).check_laws()
    assert law.name == "top1" and law.holds and law.max_error == 0


def test_every_position_of_a_sequence_counts_once():
    (y,) = kernel("accuracy")(np.array([[1, 2, 3], [0, 0, 0]]), np.array([[1, 2, 0], [0, 1, 0]]))
    assert y == 4 / 6


def test_mismatched_and_empty_inputs():
    with raises("R0431", "predictions of shape (2,) and labels of shape (3,)"):
        kernel("accuracy")(np.array([1, 2]), np.array([1, 2, 0]))
    with raises("R0432", "`accuracy` of an empty list"):
        kernel("accuracy")(np.zeros(0, np.int64), np.zeros(0, np.int64))
    with raises("R0203", "predictions must be integers"):
        kernel("accuracy")(np.array([1.0]), np.array([1]))


def test_no_gradient_flows_and_training_through_accuracy_is_refused():
    assert kernel("accuracy").differentiable == (False, False)
    source = (
        CLASSIFIER
        + """
let negative = val >> List(Classify * Label) >> top_k_accuracy(k = 2) >> scale(-1)
let step = TrainStep(negative, lr = 0.1)
"""
    )
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(source)
    (d,) = info.value.diagnostics
    assert d.code == "E0361" and "goes through `top_k_accuracy`, an evaluation" in d.message


@pytest.mark.torch
def test_accuracy_equals_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    scores, labels = rng.normal(size=(50, 4)), rng.integers(0, 4, size=50)
    predicted = np.argmax(scores, axis=-1)
    (ours,) = kernel("accuracy")(predicted, labels)
    theirs = (torch.tensor(scores).argmax(-1) == torch.tensor(labels)).double().mean()
    assert ours == theirs.item()


def test_a_law_over_any_list_meets_the_empty_one():
    unconstrained = MEASURED.replace("Batch >> ", "")
    (law,) = catdsl.loads(unconstrained).check_laws()
    assert not law.holds and law.failure is not None and law.failure.startswith("R0432")
