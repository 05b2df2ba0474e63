"""Names the language itself defines, apart from the standard-library primitives: training
families, functors, initialisers and the types computed from a loss."""

from __future__ import annotations

FAMILIES = (
    "Init",
    "MeanLoss",
    "TrainStep",
    "Momentum",
    "MomentumInit",
    "Adam",
    "AdamInit",
    "AdamParams",
    "MomentumParams",
)
FUNCTORS = ("List", "Option")
INITIALISERS = ("zeros", "ones", "normal", "uniform", "course_init")
STATE_TYPES = ("Params", "AdamState", "MomentumState")
"""The types computed from a loss: `Params(loss)`, `AdamState(loss)`, `MomentumState(loss)`."""
