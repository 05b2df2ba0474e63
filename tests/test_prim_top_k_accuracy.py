"""`top_k_accuracy(k)` (catdsl/std/prims/top_k_accuracy.py), an evaluation morphism:
signature and its static check (E0360), values, ties, errors, PyTorch's `topk`."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit import CLASSIFIER
from primkit import kernel, raises

import catdsl
from catdsl.std.library import PRIMITIVES
from catdsl.typesys.primitives import NoGradient


def test_top_k_accuracy_takes_scores_and_labels_and_a_required_k():
    spec = PRIMITIVES["top_k_accuracy"]
    sig = spec.build({"k": 2})
    assert (
        spec.no_gradient is NoGradient.EVALUATION
        and spec.static_names == ("k",)
        and "k" not in spec.defaults
    )
    assert (str(sig.dom), str(sig.cod)) == ("List[Real[*s, n] * Index[*s, n]]", "Real")


def test_top_k_accuracy_of_a_validation_list():
    program = catdsl.loads(
        CLASSIFIER
        + """
dim K = 2
let top1 = val >> List(Classify * Label) >> top_k_accuracy(1)
let top2 = val >> List(Classify * Label) >> top_k_accuracy(K)
let top3 = val >> List(Classify * Label) >> top_k_accuracy(k = 3)
"""
    )
    # label ranks in the logits of `val`: 0, 0, 0, 1 (0 < 3), 2 (-2 is last)
    assert (program["top1"](), program["top2"](), program["top3"]()) == (3 / 5, 4 / 5, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("top_k_accuracy", "`top_k_accuracy`'s `k` needs a value, e.g. `top_k_accuracy(k = 5)`"),
        ("top_k_accuracy(0)", "`top_k_accuracy`'s `k` must be a whole number of 1 or more, not 0"),
        ("top_k_accuracy(1.5)", "`k` must be a whole number of 1 or more, not 1.5"),
    ],
)
def test_k_is_checked_before_running(call, message):
    source = CLASSIFIER + f"let top = val >> List(Classify * Label) >> {call}\n"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(source)
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and message in d.message


def test_ties_rank_the_lower_position_first_so_top_1_is_the_argmax_accuracy():
    scores = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 1, 2])
    assert kernel("top_k_accuracy", k=1)(scores, labels)[0] == 1 / 3
    assert kernel("top_k_accuracy", k=2)(scores, labels)[0] == 2 / 3
    argmax = kernel("argmax")(scores)[0]
    assert kernel("accuracy")(argmax, labels)[0] == 1 / 3


def test_errors_name_what_does_not_fit():
    scores, labels = np.zeros((2, 3)), np.array([0, 1])
    with raises("R0431", "`top_k_accuracy(4)` needs at least 4 classes, found 3"):
        kernel("top_k_accuracy", k=4)(scores, labels)
    with raises("R0431", "label index 3 out of range"):
        kernel("top_k_accuracy", k=1)(scores, np.array([0, 3]))
    with raises("R0431", "scores of shape (2, 3) and labels of shape (3,)"):
        kernel("top_k_accuracy", k=1)(scores, np.array([0, 1, 2]))
    with raises("R0433", "NaN"):
        kernel("top_k_accuracy", k=1)(np.array([[0.0, np.nan]]), np.array([0]))
    with raises("R0432", "empty list"):
        kernel("top_k_accuracy", k=1)(np.zeros((0, 3)), np.zeros(0, np.int64))
    with raises("R0404", "`top_k_accuracy`'s `k` must be a whole number"):
        kernel("top_k_accuracy", k=0)


@pytest.mark.torch
def test_top_k_accuracy_equals_pytorch_topk():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    scores, labels = rng.normal(size=(6, 40, 10)), rng.integers(0, 10, size=(6, 40))
    for k in (1, 3, 10):
        (ours,) = kernel("top_k_accuracy", k=k)(scores, labels)
        top = torch.topk(torch.tensor(scores), k, dim=-1).indices
        theirs = (top == torch.tensor(labels)[..., None]).any(-1).double().mean()
        assert ours == theirs.item()
