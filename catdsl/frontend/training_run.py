"""`catdsl train`: iterate a training endomorphism from the program's initial parameters.

NAME is a step (`TrainStep(...)`, `Momentum(...)`, `Adam(...)`) or its power `step ^ n`; the
number of steps is `--steps` (or `--epochs`) or the power's n. Progress, checkpoints (atomic,
resumable to a bit-identical result) and the loss history come from `semantics.loop`.

A step with minibatches (`batch = B`) is one epoch: its loss history holds each epoch's
training loss (the mean of its batches' losses), and the loss after the run is the mean loss
over all the data at the trained params. After each step, the validation metrics (`validate`:
points such as `let val_loss = Init(loss) >> MeanLoss(loss, val)`, computed at the step's
params) are evaluated, and with `keep_best` the params of the step with the best first metric
are kept in a `.npz` file that `--params` reads.

A run that fails part way (a diverging step, see `semantics.training`) raises
`TrainingFailed`: a `CatError` whose diagnostic names the box or param that went bad and the
step (a note), with a note repeating the loss rows of the steps already done (the rows
`catdsl train` prints on success), and which keeps those losses for the Python API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catdsl.diagram.ir import Diagram, FunctorBox, ParamBox, PowerBox, RefBox, TrainBox
from catdsl.errors import CatError, CatRuntimeError, Diagnostic
from catdsl.frontend.program import BaseProgram, Morphism
from catdsl.semantics.optimizers import loss_value
from catdsl.typesys import terms as T
from catdsl.typesys.family_spec import MEAN_LOSS, Family, FamilyRole
from catdsl.typesys.types import Carrier, Prod, Record, carrier_of


@dataclass
class TrainResult:
    """The outcome of a run: steps done, the mean loss before each step (each epoch's
    training loss, for minibatches), the final state; `metrics` holds each validation metric
    after each step this run made (from `resumed_from` on), and `best` the step whose params
    `keep_best` kept and its metric."""

    steps: int
    losses: list[float]
    state: object
    params: dict
    resumed_from: int
    final_loss: float
    minibatch: bool = False
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best: tuple[int, float] | None = None


@dataclass
class TrainingFailed(CatError):
    """A training run stopped by a run error: `losses` holds the mean loss before each step
    that went through (`steps_done` of them)."""

    losses: list[float] = field(default_factory=list)
    steps_done: int = 0


def _step_and_count(morphism: Morphism) -> tuple[T.Term, int | None]:
    term = morphism.term
    body = term.body if isinstance(term, T.Ref) else term
    if isinstance(body, T.Power):
        return body.base, body.n
    return term, None


def train_definition(
    program: BaseProgram,
    name: str,
    steps: int | None = None,
    checkpoint: str | None = None,
    progress: bool = False,
    *,
    epochs: int | None = None,
    validate: Sequence[str] | None = None,
    keep_best: str | None = None,
    best: str = "max",
    max_growth: float | None = None,
    saves: bool = True,
) -> TrainResult:
    """Train `name` (see the module docstring). `saves` False: this process writes no
    checkpoint and no best params (a process of a data-parallel run other than the first)."""
    from catdsl.files import check_write_target
    from catdsl.semantics.checkpoint import fingerprint
    from catdsl.semantics.loop import LoopHooks

    if epochs is not None:
        if steps is not None and steps != epochs:
            message = f"both --steps {steps} and --epochs {epochs}: give one of them"
            raise CatError([Diagnostic("E0806", message)])
        steps = epochs
    morphism = program[name]
    step_term, power = _step_and_count(morphism)
    dom = step_term.dom
    if not (step_term.is_endo and len(dom) == 1 and isinstance(dom.atoms[0], Record)):
        raise CatError(
            [
                Diagnostic(
                    "E0805",
                    f"`{name}` is `{morphism.type_text}`, not a training step",
                    help="train an endomorphism of a parameter state, e.g. "
                    "`let step = TrainStep(loss, data, lr = 0.1)` or `step ^ 80`",
                )
            ]
        )
    n = steps if steps is not None else power
    if n is None:
        raise CatError(
            [
                Diagnostic(
                    "E0806",
                    f"how many steps? `{name}` is one step",
                    help="pass `--steps N`, or train `step ^ N`",
                )
            ]
        )
    if n < 0:
        raise CatError([Diagnostic("E0806", f"--steps must be at least 0, not {n}")])
    if checkpoint:  # a FIFO there would block the resume's read; a symlink is never replaced
        check_write_target(checkpoint)
    step = Morphism(program, name, step_term)
    train = _train_term(step_term)
    minibatch = train is not None and "batch" in dict(train.hyper)
    if validate is None:
        metrics = _named_metrics(program, train)
    else:
        metrics = {metric: _metric(program, metric) for metric in validate}
    if keep_best is not None:
        if not metrics:
            message = "keeping the best params needs a metric to judge them by"
            help = "name one with `--validate NAME` (`validate=[...]`): the first one decides"
            raise CatError([Diagnostic("E0809", message, help=help)])
        if best not in ("min", "max"):
            raise CatError([Diagnostic("E0809", f"best must be `min` or `max`, not `{best}`")])
        check_write_target(keep_best)
    kept = keep_best if saves else None
    tracker = _Validation(program, metrics, kept, best, dom.atoms[0].kind == "Params")
    hooks = LoopHooks(
        checkpoint=checkpoint,
        every=max(1, n // 20) if checkpoint else 0,
        progress=progress or None,
        identity=fingerprint(step_term),
        on_step=tracker.after_step if metrics else None,
        max_growth=max_growth,
        epochs=minibatch,
        saves=saves,
    )
    try:
        backend = program.backend
        state = backend.initial_state(step.diagram, program.params)
        final = backend.train(step.plan, state, n, params=program.params, hooks=hooks)
        if minibatch:
            assert train is not None
            final_loss = _mean_loss(program, name, train, final[0], tracker.params_of)
        else:
            final_loss = _loss_at(step, final, program)
    except CatRuntimeError as err:
        losses = list(hooks.loss_history)
        diagnostic = err.diagnostic
        if losses:
            rows = ", ".join(
                f"{'epoch' if minibatch else 'step'} {i + minibatch} {loss:.6g}"
                for i, loss in sampled(losses)
            )
            note = f"the losses so far, as `catdsl train` prints them: {rows}"
            diagnostic = dataclasses.replace(diagnostic, notes=(*diagnostic.notes, note))
        raise TrainingFailed(
            [diagnostic], program.checked.sources, losses, hooks.steps_done
        ) from None
    value = final[0]
    return TrainResult(
        hooks.steps_done,
        list(hooks.loss_history),
        value,
        tracker.params_of(value),
        hooks.resumed_from,
        final_loss,
        minibatch,
        tracker.values,
        tracker.best,
    )


def _train_term(term: T.Term) -> T.Train | None:
    """The training family a step is, through the names it is defined by (None when the step
    is built otherwise, by composing steps say)."""
    while isinstance(term, T.Ref) and term.body is not None:
        term = term.body
    return term if isinstance(term, T.Train) else None


def _mean_loss(
    program: BaseProgram, name: str, train: T.Train, state: object, params_of: Any
) -> float:
    """The mean loss over all the step's data at the params in `state`: `MeanLoss(loss,
    data)` of the step's loss and data."""
    record = train.dom.atoms[0]
    if isinstance(record, Record) and record.kind != "Params":
        record = dict(record.fields)["params"]
    family = Family(MEAN_LOSS, FamilyRole.MEAN_LOSS, None)
    term = T.Train(
        Prod((record,)),
        train.loss.cod,
        train.span,
        family=MEAN_LOSS,
        loss=train.loss,
        data=train.data,
        params=train.params,
        spec=family,
    )
    mean = Morphism(program, f"MeanLoss of `{name}`", term)
    params = params_of(state)
    (value,) = program.backend.run(mean.plan, (params,), {}, {**program.params, **params})
    return loss_value(np.asarray(value))


class _Validation:
    """After each step: the validation metrics at the step's params, and the best params so
    far written to `keep_best` (a `.npz` of the params, as `--params` reads)."""

    def __init__(
        self,
        program: BaseProgram,
        metrics: dict[str, Morphism],
        keep_best: str | None,
        best: str,
        bare: bool,
    ):
        self.program, self.metrics, self.keep_best = program, metrics, keep_best
        self.better = (lambda a, b: a > b) if best == "max" else (lambda a, b: a < b)
        self.bare = bare  # the state is the params record itself
        self.values: dict[str, list[float]] = {name: [] for name in metrics}
        self.best: tuple[int, float] | None = None

    def params_of(self, state: Any) -> dict:
        return state if self.bare else state["params"]

    def after_step(self, step: int, state: tuple) -> None:
        params = self.params_of(state[0])
        for index, (name, metric) in enumerate(self.metrics.items()):
            try:
                everything = {**self.program.params, **params}
                (value,) = self.program.backend.run(metric.plan, (), {}, everything)
            except CatRuntimeError as err:
                note = f"in the validation metric `{name}` after step {step}"
                err.diagnostic = dataclasses.replace(
                    err.diagnostic, notes=(*err.diagnostic.notes, note)
                )
                raise
            number = float(np.asarray(value).reshape(()))
            self.values[name].append(number)
            if index == 0 and self.keep_best is not None and self._improves(number):
                from catdsl.files import save_npz_atomic

                save_npz_atomic(self.keep_best, dict(params))
                self.best = (step, number)

    def _improves(self, number: float) -> bool:
        return self.best is None or self.better(number, self.best[1])


METRIC_PREFIX = "val_"
"""Points of one number whose names start with it are a step's metrics unless told otherwise."""


def _named_metrics(program: BaseProgram, train: T.Train | None) -> dict[str, Morphism]:
    """The metrics a step reports when none are asked for: the program's points of one number
    named `val_…` that use some of the params the step trains, in the program's order."""
    if train is None:
        return {}
    trained = {p.name for p in train.params}
    found = {}
    for name in program.names:
        if name.startswith(METRIC_PREFIX):
            morphism = program[name]
            if _is_metric(morphism) and trained & _params_used(morphism.diagram):
                found[name] = morphism
    return found


def _params_used(diagram: Diagram) -> set[str]:
    """The params a diagram reads, inside its definitions, loops and training boxes too (a
    metric such as `Init(loss) >> MeanLoss(loss, data)` reads them through `Init`)."""
    used: set[str] = set()
    for box in diagram.boxes():
        match box:
            case ParamBox():
                used.add(box.name)
            case TrainBox():
                used.update(box.params)
            case RefBox(sub=Diagram() as sub) | PowerBox(sub=sub) | FunctorBox(sub=sub):
                used |= _params_used(sub)
    return used


def _is_metric(morphism: Morphism) -> bool:
    """Whether `morphism` is a point of one number (a real, or a count)."""
    atoms = morphism.cod.atoms
    carrier = carrier_of(atoms[0]) if len(atoms) == 1 else None
    scalar = (
        isinstance(carrier, Carrier) and carrier.kind in ("Real", "Nat") and not carrier.shape.dims
    )
    return not morphism.dom.atoms and not morphism.ports and scalar


def _metric(program: BaseProgram, name: str) -> Morphism:
    """A validation metric: a point of one real number (E0808 otherwise)."""
    morphism = program[name]
    if not _is_metric(morphism):
        raise CatError(
            [
                Diagnostic(
                    "E0808",
                    f"`{name}` is `{morphism.type_text}`, not a validation metric",
                    help="a metric is a point of one number computed from the params, e.g. "
                    "`let val_loss = Init(loss) >> MeanLoss(loss, validation)`",
                )
            ]
        )
    return morphism


def _loss_at(step: Morphism, state: tuple, program: BaseProgram) -> float:
    """The mean loss at the trained parameters: the loss a further step would start from
    (a step records the loss *before* its update, so the last one is not yet known)."""
    from catdsl.semantics.loop import LoopHooks

    probe = LoopHooks(progress=False)
    try:
        program.backend.train(step.plan, state, 1, params=program.params, hooks=probe, check=False)
    except CatRuntimeError as err:  # the last update diverged: say so, not "step 1 of 1"
        kept = err.diagnostic.notes[:-1]  # `iterate`'s note, the last, is about the probe
        note = "in the mean loss at the params the last step gave"
        err.diagnostic = dataclasses.replace(err.diagnostic, notes=(*kept, note))
        raise
    return probe.loss_history[0]


def sampled(losses: list[float], rows: int = 12) -> list[tuple[int, float]]:
    """About `rows` (step, loss) rows spread over the history, the last one included."""
    if not losses:
        return []
    stride = max(1, len(losses) // rows)
    picks = list(range(0, len(losses), stride))
    if picks[-1] != len(losses) - 1:
        picks.append(len(losses) - 1)
    return [(i, losses[i]) for i in picks]
