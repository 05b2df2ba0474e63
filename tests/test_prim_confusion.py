"""`confusion(classes)` (catdsl/std/prims/confusion.py), an evaluation morphism: signature
with the number of classes (a number or a dim's name, unified with the labels' bound), values,
errors, agreement with a PyTorch count."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit import CLASSIFIER, LABELS, PREDICTED
from primkit import kernel, raises

import catdsl
from catdsl.std.library import PRIMITIVES
from catdsl.typesys.primitives import NoGradient


def test_confusion_is_a_classes_by_classes_matrix():
    spec = PRIMITIVES["confusion"]
    sig = spec.build({"classes": 3})
    assert spec.no_gradient is NoGradient.EVALUATION and spec.static_names == ("classes",)
    assert (str(sig.dom), str(sig.cod)) == ("List[Index[*s, 3] * Index[*s, 3]]", "Real[3, 3]")


def test_confusion_of_a_validation_list_rows_are_labels():
    program = catdsl.loads(
        CLASSIFIER
        + """
object Matrix : Real[C, C]
morphism Confusion : List[Label * Label] -> Matrix = confusion(C)
let matrix = predictions >> Confusion
let same = predictions >> confusion(3)
"""
    )
    expected = np.zeros((3, 3))
    for p, t in zip(PREDICTED, LABELS, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(program["matrix"](), expected)
    np.testing.assert_array_equal(program["same"](), expected)
    assert np.trace(expected) == 3 and str(program["matrix"].cod) == "Matrix"


def test_classes_must_fit_the_labels_and_be_given():
    base = CLASSIFIER + "let matrix = predictions >> {}\n"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(base.format("confusion(4)"))
    assert info.value.diagnostics[0].code == "E0201"  # Index[3] labels, a 4 × 4 matrix
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(base.format("confusion"))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and "`classes` needs a value" in d.message
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(base.format("confusion(5000)"))
    assert "from 1 to 4096" in info.value.diagnostics[0].message


def test_indices_outside_the_classes_and_empty_lists():
    with raises("R0431", "label index 3 out of range"):
        kernel("confusion", classes=3)(np.array([0, 1]), np.array([0, 3]))
    with raises("R0431", "prediction index -1 out of range"):
        kernel("confusion", classes=3)(np.array([-1, 1]), np.array([0, 1]))
    (empty,) = kernel("confusion", classes=2)(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert empty.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.torch
def test_confusion_equals_a_pytorch_count():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    predicted, labels = rng.integers(0, 5, size=(30, 4)), rng.integers(0, 5, size=(30, 4))
    (ours,) = kernel("confusion", classes=5)(predicted, labels)
    pairs = torch.tensor(labels).reshape(-1) * 5 + torch.tensor(predicted).reshape(-1)
    theirs = torch.bincount(pairs, minlength=25).reshape(5, 5).double()
    np.testing.assert_array_equal(ours, theirs.numpy())
    assert ours.sum() == 120 and ours.dtype == np.float64
