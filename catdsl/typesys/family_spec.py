"""The spec of a training family: one place that says what an optimizer is.

An `OptimizerSpec` gives an optimizer's step family (`Adam`), the families that start and read
its state (`AdamInit`, `AdamParams`), its hyperparameters with their defaults and ranges, the
fields of its state record and its update rule. The checker types the families from it, the
lowering and the renderer read which family does what, and the backends run its update rule.
`MeanLoss` is the one family that is not an optimizer's: it evaluates a loss.

An optimizer whose state counts its steps also takes the *training options*
(`TRAINING_OPTIONS`: minibatches of `batch` examples shuffled by `seed`, gradient clipping
by global norm `clip`) and a learning-rate `schedule`, one of the registry's `ScheduleSpec`s
applied to the step count.

The registry is built by the standard library (`catdsl.std.optim`) and passed to the checker;
nothing here knows a particular optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

MEAN_LOSS = "MeanLoss"
"""The family `MeanLoss(loss, data) : Params(loss) -> Loss`."""


SEED_LIMIT = 2**32 - 1
COUNT_LIMIT = 2**31 - 1


class HyperKind(Enum):
    """What a hyperparameter is, which fixes its valid range and how errors name it."""

    RATE = "learning rate"
    DECAY = "decay rate"
    EPSILON = "epsilon"
    COUNT = "count"  # a batch size, a number of steps: a whole number >= 1
    SEED = "seed"  # a random seed: a whole number from 0 to 2^32 - 1
    NORM = "norm"  # a clipping norm, a decay factor: finite and > 0
    COEFFICIENT = "coefficient"  # a weight decay, a floor: finite and >= 0
    FRACTION = "fraction"  # a warm-up's starting fraction: in (0, 1]

    def admits(self, value: float) -> bool:
        """Whether `value` lies in the kind's range (see `bound_text`)."""
        if not math.isfinite(value):
            return False
        match self:
            case HyperKind.DECAY:
                return 0 <= value < 1
            case HyperKind.COUNT:
                return value == int(value) and 1 <= value <= COUNT_LIMIT
            case HyperKind.SEED:
                return value == int(value) and 0 <= value <= SEED_LIMIT
            case HyperKind.COEFFICIENT:
                return value >= 0
            case HyperKind.FRACTION:
                return 0 < value <= 1
        return value > 0

    @property
    def bound_text(self) -> str:
        """The range in words, for diagnostics."""
        return {
            HyperKind.DECAY: "it must lie in [0, 1)",
            HyperKind.COUNT: f"it must be a whole number from 1 to {COUNT_LIMIT}",
            HyperKind.SEED: f"it must be a whole number from 0 to {SEED_LIMIT}",
            HyperKind.COEFFICIENT: "it must be finite and >= 0",
            HyperKind.FRACTION: "it must lie in (0, 1]",
        }.get(self, "it must be finite and > 0")


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter of an optimizer: its name, kind and default (None: required, unless
    `optional`, when leaving it out turns what it controls off); a required or optional one
    has an `example` value for usage lines."""

    name: str
    kind: HyperKind
    default: float | None = None
    example: float | None = None
    optional: bool = False


TRAINING_OPTIONS = (
    Hyper("batch", HyperKind.COUNT, example=32, optional=True),
    Hyper("seed", HyperKind.SEED, example=0, optional=True),  # absent: 0
    Hyper("clip", HyperKind.NORM, example=1.0, optional=True),
)
"""The options every optimizer whose state counts its steps takes after its own
hyperparameters: minibatches of `batch` examples (one step of the family is then one epoch),
the `seed` of their shuffling, and clipping of the gradient's global L2 norm to `clip`."""

SCHEDULE = "schedule"
"""The keyword argument that gives an optimizer a learning-rate schedule."""


@dataclass(frozen=True)
class ScheduleSpec:
    """A learning-rate schedule: its name, its arguments and `rate(lr, k, *args)`, the rate
    of the update that follows k completed updates, for the base rate `lr`."""

    name: str
    hyper: tuple[Hyper, ...]
    rate: Callable[..., float]
    doc: str


@dataclass(frozen=True)
class Schedule:
    """A schedule applied to its arguments (`Cosine(steps = 1000)`), as a train term holds it.
    The spec is derived from the name, so it is left out of comparisons and fingerprints."""

    name: str
    args: tuple[tuple[str, float], ...]
    spec: ScheduleSpec = field(compare=False, repr=False)

    def rate(self, lr: float, k: int) -> float:
        """The learning rate of the update after `k` completed updates."""
        return float(self.spec.rate(lr, k, *(value for _, value in self.args)))


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

    @property
    def counts_steps(self) -> bool:
        """Whether the state counts the updates made and the rate is the optimizer's first
        hyperparameter: then it takes the training options and a schedule, which need the
        count (and schedule that rate)."""
        counted = any(kind is FieldKind.COUNT for _, kind in self.fields)
        return counted and bool(self.hyper) and self.hyper[0].kind is HyperKind.RATE

    @property
    def options(self) -> tuple[Hyper, ...]:
        """The training options it takes after its own hyperparameters (none without a
        count)."""
        return TRAINING_OPTIONS if self.counts_steps else ()


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

    def __init__(
        self, optimizers: Iterable[OptimizerSpec], schedules: Iterable[ScheduleSpec] = ()
    ) -> None:
        self.optimizers: dict[str, OptimizerSpec] = {}
        self.schedules: dict[str, ScheduleSpec] = {s.name: s for s in schedules}
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

    def __contains__(self, name: object) -> bool:
        """A dict lookup (`Mapping`'s own tries `[name]` and catches the KeyError: the
        checker asks this of every name it declares or calls)."""
        return name in self._families

    def __iter__(self) -> Iterator[str]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)
