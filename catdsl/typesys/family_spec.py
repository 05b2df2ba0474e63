"""The spec of a training family: one place that says what an optimizer is.

An `OptimizerSpec` gives an optimizer's step family (`Adam`), the families that start and read
its state (`AdamInit`, `AdamParams`), its hyperparameters with their defaults and ranges, the
fields of its state record and its update rule. The checker types the families from it, the
lowering and the renderer read which family does what, and the backends run its update rule.
`MeanLoss` is the one family that is not an optimizer's: it evaluates a loss.

The registry is built by the standard library (`catdsl.std.optim`) and passed to the checker;
nothing here knows a particular optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

MEAN_LOSS = "MeanLoss"
"""The family `MeanLoss(loss, data) : Params(loss) -> Loss`."""


class HyperKind(Enum):
    """What a hyperparameter is, which fixes its valid range and how errors name it."""

    RATE = "learning rate"
    DECAY = "decay rate"
    EPSILON = "epsilon"

    def admits(self, value: float) -> bool:
        """Whether `value` lies in the kind's range: a rate or epsilon finite and > 0, a decay
        rate in [0, 1)."""
        if self is HyperKind.DECAY:
            return 0 <= value < 1
        return math.isfinite(value) and value > 0

    @property
    def bound_text(self) -> str:
        """The range in words, for diagnostics."""
        return "it must lie in [0, 1)" if self is HyperKind.DECAY else "it must be finite and > 0"


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter of an optimizer: its name, kind and default (None: required); a
    required one has an `example` value for usage lines."""

    name: str
    kind: HyperKind
    default: float | None = None
    example: float | None = None


class FieldKind(Enum):
    """What a field of an optimizer state holds."""

    PARAMS = "params"  # a record shaped like the params (the params, a moment, a velocity)
    COUNT = "count"  # a natural number (the step count)
    RATE = "rate"  # a real number the state owns (a training state's learning rate)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: its families, hyperparameters, state and numpy reference update rule.

    `update(state, grads, *rates)` returns the next state, where `rates` are the hyperparameters'
    values in the order of `hyper`; the state is the params record itself when `state` is None,
    else a dict with one entry per field (the first field is always `params`). `prose` is how
    messages name it ("invalid momentum decay rate"). `init_hyper` are hyperparameters the init
    family takes and stores in the state's RATE fields (a training state's `lr`); `counter` names
    the family that reads the state's step count. An optimizer whose `grads` may name only some
    params (`only = [...]`) leaves the others unchanged: `partial` says it accepts that."""

    name: str
    prose: str
    init: str
    hyper: tuple[Hyper, ...]
    update: Callable[..., Any]
    doc: str
    state: str | None = None
    fields: tuple[tuple[str, FieldKind], ...] = ()
    reader: str | None = None
    init_hyper: tuple[Hyper, ...] = ()
    counter: str | None = None
    partial: bool = False

    @property
    def defaults(self) -> dict[str, float]:
        """The hyperparameters that may be left out, with their values."""
        return {h.name: h.default for h in self.hyper if h.default is not None}


class FamilyRole(Enum):
    """What a family's box does."""

    STEP = "step"  # an optimizer's step: State -> State
    INIT = "init"  # Unit -> State: the state at the stored params
    READ = "read"  # State -> Params: the params out of a state
    MEAN_LOSS = "mean loss"  # Params -> Loss
    COUNT = "count"  # State -> Nat: the state's step count


@dataclass(frozen=True)
class Family:
    """One training family name, its role and (but for `MeanLoss`) its optimizer."""

    name: str
    role: FamilyRole
    optimizer: OptimizerSpec | None

    @property
    def evaluates_loss(self) -> bool:
        """Whether the family runs its loss (steps and `MeanLoss`), so it is drawn with it."""
        return self.role in (FamilyRole.STEP, FamilyRole.MEAN_LOSS)


class Families(Mapping[str, Family]):
    """The registry of training families, built from the optimizers' specs."""

    def __init__(self, optimizers: Iterable[OptimizerSpec]) -> None:
        self.optimizers: dict[str, OptimizerSpec] = {}
        self._families: dict[str, Family] = {
            MEAN_LOSS: Family(MEAN_LOSS, FamilyRole.MEAN_LOSS, None)
        }
        for spec in optimizers:
            self.optimizers[spec.name] = spec
            self._add(Family(spec.name, FamilyRole.STEP, spec))
            self._add(Family(spec.init, FamilyRole.INIT, spec))
            if spec.reader is not None:
                self._add(Family(spec.reader, FamilyRole.READ, spec))
            if spec.counter is not None:
                self._add(Family(spec.counter, FamilyRole.COUNT, spec))

    def _add(self, family: Family) -> None:
        if family.name in self._families:
            raise ValueError(f"the training family `{family.name}` is declared twice")
        self._families[family.name] = family

    @property
    def state_types(self) -> tuple[str, ...]:
        """The types computed from a loss: `Params(loss)` and each optimizer's state."""
        states = (spec.state for spec in self.optimizers.values() if spec.state is not None)
        return ("Params", *states)

    def state_of(self, type_name: str) -> OptimizerSpec | None:
        """The optimizer whose state type is `type_name` (None for `Params`)."""
        return next((s for s in self.optimizers.values() if s.state == type_name), None)

    def __getitem__(self, name: str) -> Family:
        return self._families[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)
