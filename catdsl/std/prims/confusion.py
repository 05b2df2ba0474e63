"""`confusion(classes)` of `std.ml`, an evaluation morphism: the confusion matrix of
predictions against labels over a list, `List[Index[*s, n] * Index[*s, n]] -> Real[n, n]`.

Entry [i, j] counts the elements whose label is i and prediction is j (rows are the truth, as
in scikit-learn and torchmetrics), so the diagonal holds the hits and each row sums to the
number of labels of its class. The counts are reals (float64). `classes` is the number of
classes n, a whole number from 1 to 4096 or a sized dim's name (`confusion(C)`): the checker
unifies it with the labels' bound, and the kernel needs it for the matrix's size. An index
outside 0 .. n−1 is R0431; an empty list gives the zero matrix. No gradient flows through it:
a training step refuses it (E0361).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.kernels import check_indices
from catdsl.std.prims.accuracy import check_pairs
from catdsl.std.signatures import confusion
from catdsl.typesys.primitives import NoGradient, PrimSpec

MAX_CLASSES = 4096
"""The largest confusion matrix is 4096 × 4096 (128 MiB of float64)."""

VALIDATE = statics.every(
    statics.required("classes", "confusion(classes = 3)"),
    statics.whole("classes", 1, MAX_CLASSES),
)


class Confusion(Kernel):
    """`confusion(classes)`: counts of (label, prediction) pairs in a classes × classes matrix."""

    name = "confusion"
    n_in = 2
    differentiable = (False, False)

    def __init__(self, in_ranks: tuple[int, ...] = (), *, classes: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, classes=classes)
        self.classes = int(classes)

    def forward(self, predictions: np.ndarray, labels: np.ndarray) -> Forward:
        predictions, labels = np.asarray(predictions), np.asarray(labels)
        check_pairs(self.name, predictions, labels)
        n = self.classes
        predictions = check_indices(predictions, n, "prediction", "R0431")
        labels = check_indices(labels, n, "label", "R0431")
        pairs = labels.reshape(-1) * n + predictions.reshape(-1)
        counts = np.bincount(pairs, minlength=n * n).reshape(n, n)
        return (counts.astype(np.float64),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return None, None


SPEC = PrimSpec(
    "confusion",
    "std.ml",
    (),
    ("classes",),
    confusion,
    "confusion matrix, [label, prediction] counts; evaluation only",
    kernel=Confusion,
    validate=VALIDATE,
    no_gradient=NoGradient.EVALUATION,
)
