"""`accuracy` of `std.ml`, an evaluation morphism: the fraction of predictions equal to their
labels over a list, `List[Index[*s, n] * Index[*s, n]] -> Real`, a number in [0, 1].

Each list element is a prediction and its label (`List((Classify >> argmax) * Label)` makes such
a list from a data set of features and labels); with `*s` not empty (a sequence of predictions
per element) every position counts once. The value is a float64 real. An empty list has no
accuracy (R0432); predictions and labels of different shapes are R0431. No gradient flows
through it: a training step refuses it (E0361).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import agreement
from catdsl.typesys.primitives import NoGradient, PrimSpec


def check_pairs(kernel: str, predictions: np.ndarray, labels: np.ndarray) -> None:
    """Raise unless predictions and labels are integer arrays of one shape with a list axis."""
    for what, array in (("predictions", predictions), ("labels", labels)):
        if array.dtype.kind not in "iu":
            raise CatRuntimeError(
                "R0203", f"`{kernel}`'s {what} must be integers, found dtype {array.dtype}"
            )
        if array.ndim == 0:
            raise CatRuntimeError(
                "R0306", f"`{kernel}` expects a list of {what}, found a single value"
            )
    if predictions.shape != labels.shape:
        raise CatRuntimeError(
            "R0431",
            f"`{kernel}` got predictions of shape {predictions.shape} and labels of shape "
            f"{labels.shape}: each prediction needs its label",
        )


def check_counted(kernel: str, size: int) -> None:
    """Raise R0432 when there is nothing to count."""
    if size == 0:
        raise CatRuntimeError(
            "R0432",
            f"`{kernel}` of an empty list: there are no predictions to count",
            help="measure a data set with at least one element",
        )


class Accuracy(Kernel):
    """`accuracy`: the mean of prediction == label over every element (and position)."""

    name = "accuracy"
    n_in = 2
    differentiable = (False, False)

    def forward(self, predictions: np.ndarray, labels: np.ndarray) -> Forward:
        predictions, labels = np.asarray(predictions), np.asarray(labels)
        check_pairs(self.name, predictions, labels)
        check_counted(self.name, predictions.size)
        hits = np.count_nonzero(predictions == labels)
        return (np.asarray(hits / predictions.size),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return None, None


SPEC = PrimSpec(
    "accuracy",
    "std.ml",
    (),
    (),
    agreement,
    "fraction of predictions equal to their labels; evaluation only",
    kernel=Accuracy,
    no_gradient=NoGradient.EVALUATION,
)
