"""`top_k_accuracy(k)` of `std.ml`, an evaluation morphism: the fraction of labels among the k
highest scores, `List[Real[*s, n] * Index[*s, n]] -> Real` in [0, 1].

A label is a hit when fewer than k classes rank above it, ranking by score and, among equal
scores, by position (lower first, as `argmax` breaks ties), so `top_k_accuracy(1)` is exactly
`accuracy` of the `argmax`. `k` is a whole number ≥ 1 (E0360) and at most the number of
classes (R0431); NaN scores are R0433 and an empty list R0432 (see `argmax`). No gradient flows
through it: a training step refuses it (E0361).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.kernels import check_indices
from catdsl.std.prims.accuracy import check_counted
from catdsl.std.prims.argmax import check_scores
from catdsl.std.signatures import scored
from catdsl.typesys.primitives import NoGradient, PrimSpec

VALIDATE = statics.every(statics.required("k", "top_k_accuracy(k = 5)"), statics.whole("k", 1))


class TopKAccuracy(Kernel):
    """`top_k_accuracy(k)`: the mean over labels of [rank of the label's score < k]."""

    name = "top_k_accuracy"
    n_in = 2
    differentiable = (False, False)

    def __init__(self, in_ranks: tuple[int, ...] = (), *, k: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, k=k)
        self.k = int(k)

    def forward(self, scores: np.ndarray, labels: np.ndarray) -> Forward:
        scores, labels = np.asarray(scores), np.asarray(labels)
        check_scores(self.name, scores)
        if scores.ndim < 2 or scores.shape[:-1] != labels.shape:
            raise CatRuntimeError(
                "R0431",
                f"`{self.name}` got scores of shape {scores.shape} and labels of shape "
                f"{labels.shape}: each list element needs one score per class and its label",
            )
        classes = scores.shape[-1]
        if self.k > classes:
            raise CatRuntimeError(
                "R0431",
                f"`{self.name}({self.k})` needs at least {self.k} classes, found {classes}",
            )
        labels = check_indices(labels, classes, "label", "R0431")
        check_counted(self.name, labels.size)
        picked = np.take_along_axis(scores, labels[..., None], axis=-1)
        above = np.count_nonzero(scores > picked, axis=-1)
        tied_before = np.count_nonzero(
            (scores == picked) & (np.arange(classes) < labels[..., None]), axis=-1
        )
        hits = np.count_nonzero(above + tied_before < self.k)
        return (np.asarray(hits / labels.size),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return None, None


SPEC = PrimSpec(
    "top_k_accuracy",
    "std.ml",
    (),
    ("k",),
    scored,
    "fraction of labels among the k highest scores; evaluation only",
    kernel=TopKAccuracy,
    validate=VALIDATE,
    no_gradient=NoGradient.EVALUATION,
)
