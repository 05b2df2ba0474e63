"""A small classifier shared by the tests of the evaluation morphisms (`argmax`, `accuracy`,
`top_k_accuracy`, `confusion`): features, logits, labels, and a validation list."""

from __future__ import annotations

CLASSIFIER = """
import std.ml

dim F = 2
dim C = 3
object Features : Real[F]
object Logits   : Real[C]
object Label    : Index[C]
object Loss     : Real
param W : Real[F, C] = [[1, 0, -1], [0, 1, -1]]
param b : Real[C]    = [0, 0, 0.5]
morphism Classify : Features -> Logits = affine(W, b)
morphism Predict  : Features -> Label  = Classify >> argmax
morphism Xent     : Logits * Label -> Loss = cross_entropy
let loss = Classify * Label >> Xent

data val : List[Features * Label] =
    [[[2, 0], 0], [[0, 2], 1], [[-1, -1], 2], [[0, 3], 0], [[1, 1.5], 2]]
let predictions = val >> List(Predict * Label)
"""
"""Logits of `val` under W, b: [2, 0, -1.5], [0, 2, -1.5], [-1, -1, 2.5], [0, 3, -2.5],
[1, 1.5, -2]; so the predictions are 0, 1, 2, 1, 1 against the labels 0, 1, 2, 0, 2."""

PREDICTED = [0, 1, 2, 1, 1]
LABELS = [0, 1, 2, 0, 2]
