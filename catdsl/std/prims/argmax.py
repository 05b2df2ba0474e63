"""`argmax` of `std.ml`, an evaluation morphism: the position of the largest score of the last
axis, `Real[*s, n] -> Index[*s, n]` (a prediction from logits).

Ties go to the lowest position (as numpy's and PyTorch's `argmax`). No gradient flows through
an index, so a training step refuses a loss that uses `argmax` (E0361); it serves `let`s that
measure a model and `law`s. Scores holding NaN have no largest entry (R0433). Softmax keeps the
order of the logits, so the argmax of a model's logits is that of its distribution.

Run-time codes of the evaluation morphisms (here and in `accuracy`, `top_k_accuracy`,
`confusion`):

| code  | raised when |
| ----- | ----------- |
| R0431 | predictions, labels and scores do not fit: shapes differ, an index lies outside |
|       | the classes, or `k` exceeds the number of classes |
| R0432 | a metric of an empty list (no predictions to count) |
| R0433 | scores hold NaN, so they have no largest entry |
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.kernels import check_logits
from catdsl.std.signatures import argmax
from catdsl.typesys.primitives import NoGradient, PrimSpec


def check_scores(kernel: str, scores: np.ndarray) -> None:
    """Raise R0401 for scores without classes and R0433 for scores holding NaN."""
    check_logits(kernel, scores)
    if np.isnan(scores).any():
        where = np.unravel_index(int(np.argmax(np.isnan(scores))), scores.shape)
        raise CatRuntimeError(
            "R0433",
            f"`{kernel}` got NaN scores (at [{', '.join(map(str, where))}]): they have no "
            "largest entry",
            help="the model's output is not finite: run it checked to find the box that made it",
        )


class Argmax(Kernel):
    """`argmax`: the index of the largest entry of the last axis, the first one on ties."""

    name = "argmax"
    differentiable = (False,)

    def forward(self, scores: np.ndarray) -> Forward:
        scores = np.asarray(scores)
        check_scores(self.name, scores)
        return (np.argmax(scores, axis=-1).astype(np.int64, copy=False),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (None,)


SPEC = PrimSpec(
    "argmax",
    "std.ml",
    (),
    (),
    argmax,
    "position of the largest score (the first on ties); evaluation only",
    kernel=Argmax,
    no_gradient=NoGradient.EVALUATION,
)
