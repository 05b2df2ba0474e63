"""The `train` boxes: Init, MeanLoss, TrainStep, Momentum, Adam, AdamInit, MomentumInit.

A train box holds the loss diagram and the data point. Compiling it compiles the loss once and
evaluates the data once (hoisted). Each data element is the loss's domain wires followed by its
user ports, in order; the loss runs on the whole batch at once (kernels are batch-polymorphic)
and the gradient comes from one reverse pass with output cotangent 1/N per example, w.r.t. the
params only. When the loss's domain is `Unit` there is no data and the loss runs once per step.
With `batch = B` (an optimizer that counts its steps), a step is one epoch of minibatch
updates (`optimizers.run_epoch`): the loss runs on each minibatch's examples, with the
cotangent 1/B' for its B' examples, and the loss history gets the epoch's training loss.

Validation happens once: the data is constant, so once a pass with params of some shapes has
run the validating kernels, later passes with params of the same shapes run the kernels'
`trusted_forward` (no shape or index checks; a non-finite value still shows in the mean loss,
which is checked every step and then re-run checked to name the box). The update rules get the
objective's gradients, which have the params' shapes by construction, unchecked.

Divergence is an error, reported where it starts. A non-finite mean loss, or a kernel's error
in the forward pass, is explained by (1) a param that is NaN or infinite (R0413, naming it),
else (2) a checked re-run, which names the first box whose output is not finite (R0415) or
the first kernel to refuse its input. A loss that only *looks* finite is caught too: a kernel
with a floor (`nll`'s −ln(max(p, 1e-9))) reports through its `hidden_infinities` hook how many
of its losses stand for −ln 0 = ∞ (a target probability that underflowed to 0, where the
gradient vanishes and training is stuck); any such loss makes the true mean loss infinite
(R0606, at the kernel, naming the box that produced the zeros). A legitimately high but finite
loss (p[t] = 1e-12, say) is never flagged. `loop.iterate` adds the step number.

A training step advances the run's step count (`RunContext.clock`) and computes its loss and
gradient in training mode, `Mode(True, step)`, which kernels that ask for it are given
(`dropout` draws its mask from its seed and that step); `MeanLoss` and every other pass run in
evaluation mode. A hooked loop numbers its steps from the step it resumed from, so a resumed
run draws what the uninterrupted one would.

Values: `Params(loss)` is a dict name -> array; `SGDState(loss)` is a dict {"params", "step"},
`MomentumState(loss)` {"params", "velocity", "step"}, `AdamState(loss)` and `AdamWState(loss)`
{"params", "m", "v", "step"}. The readers (`AdamParams`, ...) read the params out of a state.
Update rules: each optimizer's spec (`catdsl.std.optim`), carried by the box. A minibatch
update's training mode is numbered by the state's count after it (`Mode(True, k + 1)`), so a
kernel that draws (`dropout`) draws anew for every minibatch, and as a resumed run would.

| code  | raised when |
| ----- | ----------- |
| R0413 | a param given to a training step is NaN or infinite (an earlier step diverged) |
| R0605 | the training data is empty, not a closed point, or does not fit the loss |
| R0606 | the mean loss is not finite, or stands for an infinite one (a loss at `nll`'s floor |
|       | whose probability underflowed to 0) |
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from catdsl.diagram.ir import Diagram, PowerBox, RefBox, TrainBox
from catdsl.diagram.schedule import Schedule, Train
from catdsl.errors import CatRuntimeError, Diagnostic, Label
from catdsl.semantics import optimizers
from catdsl.semantics.invariants import nonfinite_error
from catdsl.semantics.kernel import EVALUATION, Mode
from catdsl.semantics.loop import LoopHooks, diverged, iterate, numbered
from catdsl.semantics.plan import Plan, RunContext
from catdsl.semantics.progress import BATCH_PROGRESS
from catdsl.semantics.values import has_nonfinite, join_components, split_components, width
from catdsl.typesys.family_spec import FamilyRole

PlanOf = Callable[[Schedule], Plan]
NO_OPTIONS = optimizers.Options()


class LossLayout(abc.ABC):
    """What every backend's objective shares: where the data, the ports and the params go among
    the loss plan's sources, the mean of the per-example losses, and the errors that explain a
    mean loss that is not finite. A backend's objective adds the passes (`mean`,
    `mean_and_gradient`) and a checked re-run (`_checked_run`)."""

    count: int | None

    def __init__(self, loss: Any, loss_diagram: Diagram, data: tuple | None, label: str):
        """`loss` is the loss's compiled plan (its `dom`, `cod` and `sources` are read); `data`
        is the flat tuple of the data point's arrays (None without data)."""
        if len(loss.cod) != 1:
            raise CatRuntimeError("R0605", f"the loss of `{label}` must have one output wire")
        self.label = label
        user_ports = [p for p in loss_diagram.ports if p.kind != "param"]
        elements = (*loss.dom.atoms, *(p.atom for p in user_ports))
        if data is None:
            if elements:
                raise CatRuntimeError(
                    "R0605", f"`{label}` needs training data: its loss takes `{loss.dom}`"
                )
            columns: list = []
            self.count = None
        else:
            columns = _columns(data, elements, label)
            self.count = int(np.shape(data[0])[0]) if data and np.ndim(data[0]) else 0
            if not self.count:
                raise CatRuntimeError("R0605", f"the training data of `{label}` is empty")
        by_name = {p.name: columns[len(loss.dom) + i] for i, p in enumerate(user_ports)}
        self.values: list = list(columns[: len(loss.dom)])
        self.data_positions: list[int] = list(range(len(loss.dom)))  # the per-example values
        self.param_slots: list[tuple[int, str]] = []
        for source in loss.sources:
            if source.kind == "param":
                self.param_slots.append((len(self.values), source.name))
                self.values.append(None)
            elif source.name in by_name:
                self.data_positions.append(len(self.values))
                self.values.append(by_name[source.name])
            else:
                raise CatRuntimeError(
                    "R0605", f"nothing feeds the port `{source.name}` of the loss of `{label}`"
                )
        self._positions = tuple(position for position, _ in self.param_slots)

    @abc.abstractmethod
    def mean(self, params: Mapping[str, Any]) -> np.ndarray:
        """The mean loss at `params`."""

    @abc.abstractmethod
    def mean_and_gradient(
        self, params: Mapping[str, Any], rows: np.ndarray | None = None, mode: Mode = EVALUATION
    ) -> tuple[np.ndarray, dict]:
        """The mean loss and its gradient w.r.t. the params (numpy arrays), in `mode`, over
        every example or only the examples `rows`."""

    @abc.abstractmethod
    def _checked_run(self, values: list, mode: Mode) -> None:
        """Run the loss checked at the source values `values`, raising what the checks find."""

    def _values(self, params: Mapping[str, np.ndarray], rows: np.ndarray | None = None) -> list:
        """The loss plan's source values: the hoisted data and ports (only the examples
        `rows`, when given), then the params."""
        values = list(self.values)
        if rows is not None:
            for position in self.data_positions:
                values[position] = values[position][rows]
        try:
            for position, name in self.param_slots:
                values[position] = params[name]
        except KeyError:
            missing = next(name for _, name in self.param_slots if name not in params)
            raise CatRuntimeError(
                "R0604", f"the parameters given to `{self.label}` lack `{missing}`"
            ) from None
        return values

    def _checked_mean(
        self,
        loss: Any,
        values: list,
        trusted: bool = False,
        mode: Mode = EVALUATION,
        count: int | None = None,
    ) -> np.ndarray:
        """The mean of the per-example losses, raising the most telling error when it is not
        finite (see `_not_finite`)."""
        count = self.count if count is None else count
        mean = np.asarray(loss if count is None else np.add.reduce(loss, 0) / count)
        if not (math.isfinite(mean) if mean.ndim == 0 else np.isfinite(mean).all()):
            self._not_finite(values, trusted, mode)
        return mean

    def _not_finite(self, values: list, trusted: bool, mode: Mode = EVALUATION) -> NoReturn:
        """Raise for a non-finite mean loss the most telling error `_explain` finds, else
        R0606."""
        self._explain(values, mode)
        raise CatRuntimeError(
            "R0606",
            f"the mean loss of `{self.label}` is not finite",
            help=f"{_magnitudes(self._params(values))}; try a smaller `lr`",
        )

    def _explain(self, values: list, mode: Mode = EVALUATION) -> None:
        """Raise for a run gone wrong at `values`: a non-finite param (a diverged earlier step,
        a bad checkpoint), else the first box a checked run finds producing NaN/inf or refusing
        its input (so diverging logits name `affine`, the box that overflowed, not `softmax`,
        which refused them). Return when neither explains it."""
        for position, name in self.param_slots:
            if has_nonfinite(values[position]):
                raise CatRuntimeError(
                    "R0413",
                    f"the param `{name}` given to `{self.label}` is not finite",
                    help="an earlier training step diverged (try a smaller `lr`), or the state "
                    "it started from (a checkpoint, loaded params) holds it",
                )
        try:
            self._checked_run(values, mode)
        except CatRuntimeError as exc:
            if exc.diagnostic.code == "R0415":
                exc.diagnostic = _with_help(
                    exc.diagnostic, f"{_magnitudes(self._params(values))}; try a smaller `lr`"
                )
            raise exc from None

    def _params(self, values: list) -> dict:
        return {name: values[position] for position, name in self.param_slots}


class Objective(LossLayout):
    """The mean loss over the (hoisted) data and its gradient w.r.t. the params, on numpy."""

    def __init__(self, loss: Plan, loss_diagram: Diagram, data: tuple | None, label: str):
        """`data` is the flat tuple of the data point's arrays (None without data)."""
        super().__init__(loss, loss_diagram, data, label)
        self.plan: Plan = loss
        self._floors = _floored_boxes(loss)
        self.need = tuple(i in self._positions for i in range(len(self.values)))
        self._seed_array: np.ndarray | None = None
        self._validated: tuple | None = None  # the param shapes of a validated pass
        self._context = RunContext(check=False)
        self._training = RunContext(check=False)  # its mode is set by each step

    def _layout(self, values: list) -> tuple | None:
        """The params' shapes (None for a value that is not an array): what validation saw."""
        try:
            return tuple([values[p].shape for p in self._positions])
        except AttributeError:
            return None

    def _checked_run(self, values: list, mode: Mode) -> None:
        with np.errstate(all="ignore"):
            self.plan.execute(values, RunContext(check=True, mode=mode))

    def mean(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The mean loss at `params`."""
        values = self._values(params)
        (loss,) = self.plan.execute(values, self._context)
        return self._checked_mean(loss, values)

    def mean_and_gradient(
        self,
        params: Mapping[str, np.ndarray],
        rows: np.ndarray | None = None,
        mode: Mode = EVALUATION,
    ) -> tuple[np.ndarray, dict]:
        """The mean loss and its gradient in `mode`, over every example or only the examples
        `rows`, from one forward and one reverse pass (validating only when the params' shapes
        are new; for a minibatch, the validating pass runs once on all the data first, so the
        examples of later batches are checked too)."""
        values = self._values(params)
        layout = self._layout(values)
        trusted = layout is not None and layout == self._validated
        if rows is not None:
            if not trusted:  # validate every example once, then run the batch trusted
                self.mean(params)
                self._validated = layout
                trusted = layout is not None
            values = self._values(params, rows)
        count = self.count if rows is None else len(rows)
        context = self._training
        context.mode = mode
        try:
            (loss,), tape = self.plan.execute_taped(values, context, trusted)
        except CatRuntimeError:
            self._explain(values, mode)  # a diverged param or an earlier bad box, if any
            raise
        mean = self._checked_mean(loss, values, trusted, mode, count)
        if self._floors:
            self._no_hidden_infinity(tape, values, count)
        self._validated = layout
        cots = self.plan.pull_back(tape, (self._seed(loss, count),), self.need)
        grads = {
            name: cots[p] if cots[p] is not None else np.zeros_like(values[p])
            for p, name in self.param_slots
        }
        return mean, grads

    def _seed(self, loss: Any, count: int | None) -> np.ndarray:
        """The output cotangent 1/N per example of the N (1 without data), remade only when
        the loss's shape or dtype changes (N is the loss's first axis)."""
        seed = self._seed_array
        if seed is None or seed.shape != loss.shape or seed.dtype != loss.dtype:
            weight = 1.0 if count is None else 1.0 / count
            seed = self._seed_array = np.full(loss.shape, weight, dtype=loss.dtype)
        return seed

    def _no_hidden_infinity(self, tape: Any, values: list, examples: int | None) -> None:
        """Raise when a floored kernel's losses stand for −ln 0 (see the module docstring)."""
        for index, hidden, producer in self._floors:
            count = hidden(tape.residuals[index])
            if not count:
                continue
            instr = self.plan.instrs[index]
            of = f" of {examples}" if examples is not None else ""
            origin = f"`{producer.label}`" if producer is not None else "its input"
            diagnostic = Diagnostic(
                "R0606",
                f"the mean loss of `{self.label}` is infinite: `{instr.label}` got the "
                f"probability 0 for the target of {count}{of} example(s), whose loss −ln 0 "
                f"its floor shows as a finite {_floor_text(instr)} with no gradient",
                instr.span,
                help=f"the probabilities from {origin} underflow to 0 when its inputs grow "
                f"huge: an earlier step diverged; {_magnitudes(self._params(values))}; try a "
                "smaller `lr`",
                labels=(Label(producer.span, "gave the probability 0"),)
                if producer is not None and producer.span is not None
                else (),
            )
            error = CatRuntimeError("R0606", diagnostic.message, instr.span)
            error.diagnostic = diagnostic
            raise error


def _floored_boxes(plan: Plan) -> tuple:
    """(index, hook, producer instruction or None) of each instruction of `plan` whose kernel
    has a floor that can hide an infinite loss (`hidden_infinities`), with the instruction
    that produced its first input."""
    made_by = {slot: instr for instr in plan.instrs if not instr.is_check for slot in instr.outs}
    found = []
    for index, instr in enumerate(plan.instrs):
        hook = getattr(getattr(instr.op, "kernel", None), "hidden_infinities", None)
        if hook is not None:
            producer = made_by.get(instr.ins[0]) if instr.ins else None
            found.append((index, hook, producer))
    return tuple(found)


def _floor_text(instr: Any) -> str:
    floor = getattr(instr.op.kernel, "floor", None)
    return f"−ln({floor:g}) = {-math.log(floor):.6f}" if floor else "loss"


def _magnitudes(params: Mapping[str, Any]) -> str:
    """The real params by their largest entry, largest first (the one that grew leads)."""
    sizes = []
    for name, value in params.items():
        if isinstance(value, np.ndarray) and value.size and value.dtype.kind == "f":
            largest = float(np.max(np.abs(value)))
            sizes.append((largest if not math.isnan(largest) else math.inf, name))
    if not sizes:
        return "no param is real"
    shown = ", ".join(f"`{name}` {size:.3g}" for size, name in sorted(sizes, reverse=True)[:3])
    return f"the largest param entries are {shown}"


def _with_help(diagnostic: Diagnostic, help: str) -> Diagnostic:
    joined = f"{diagnostic.help}; {help}" if diagnostic.help else help
    return dataclasses.replace(diagnostic, help=joined)


def _columns(flat: tuple, elements: Sequence, label: str) -> list:
    """Split the data's arrays into one batched value per element atom of the loss."""
    needed = sum(width(a) for a in elements)
    if len(flat) != needed:
        raise CatRuntimeError(
            "R0605",
            f"the training data of `{label}` has {len(flat)} component(s) per example, "
            f"the loss needs {needed}",
        )
    return split_components(flat, elements)


class TrainOp:
    """One train box as a plan op (not differentiable: training is not differentiated). What it
    does comes from its family's spec: start a state, read its params, evaluate the mean loss,
    or take one update step by the optimizer's rule."""

    uses_context = True

    def __init__(
        self,
        box: TrainBox,
        objective: LossLayout | None,
        hyper: Mapping[str, float],
        opts: optimizers.Options = NO_OPTIONS,
    ):
        self.family = box.family
        self.optimizer = box.spec.optimizer
        self.names = tuple(box.params)
        self.only = tuple(box.only)
        self.objective, self.hyper, self.options = objective, hyper, opts
        self.rates = tuple(hyper.values())
        self.differentiable = (False,) * len(box.inputs)
        role = box.spec.role
        self.defers_scan = role is FamilyRole.STEP  # see `plan`: loops scan at the end
        self._step = {
            FamilyRole.STEP: self._update,
            FamilyRole.INIT: self._init,
            FamilyRole.READ: self._read,
            FamilyRole.MEAN_LOSS: self._mean_loss,
            FamilyRole.COUNT: self._count,
        }[role]
        self.run = self._step  # `run(ctx, *xs)`: the role's own method, called directly

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        return self._step(ctx, *xs), None

    def vjp(self, residual: object, *dys: Any) -> tuple:
        return (None,) * len(self.differentiable)

    def _gradient(self, ctx: RunContext, params: Mapping) -> dict:
        """The gradient of one training step, the run's next: its loss in training mode."""
        assert self.objective is not None, "a stepping family has an objective"
        ctx.clock.steps += 1
        mode = Mode(training=True, step=ctx.clock.steps)
        mean, grads = self.objective.mean_and_gradient(params, mode=mode)
        if ctx.losses is not None:
            ctx.losses.append(float(mean) if mean.ndim == 0 else float(np.sum(mean)))
        return grads

    def _init(self, ctx: RunContext, *values: Any) -> tuple:
        assert self.optimizer is not None
        params = dict(zip(self.names, values, strict=True))
        return optimizers.initial_state(self.optimizer, params, self.hyper)

    def _read(self, ctx: RunContext, state: dict) -> tuple:
        return (state["params"],)

    def _count(self, ctx: RunContext, state: dict) -> tuple:
        return (state["step"],)

    def _mean_loss(self, ctx: RunContext, params: Mapping) -> tuple:
        assert self.objective is not None, "MeanLoss has an objective"
        return (self.objective.mean(params),)

    def _update(self, ctx: RunContext, state: Any) -> tuple:
        assert self.optimizer is not None
        if self.options.batch is not None:
            return (self._epoch(ctx, state),)
        grads = self._gradient(ctx, optimizers.params_of(self.optimizer, state))
        if self.only:  # `only = [...]`: the listed params move, the others stay as they are
            grads = {name: grads[name] for name in self.only}
        return (optimizers.update(self.optimizer, state, grads, self.rates, self.options),)

    def _epoch(self, ctx: RunContext, state: Any) -> Any:
        """One epoch of minibatch updates; the loss history gets the epoch's training loss."""
        assert self.optimizer is not None and self.objective is not None
        count = self.objective.count
        assert count is not None, "the checker refuses `batch` without data"
        objective = self.objective

        def gradient(params: Mapping, rows: np.ndarray, update: int) -> tuple[np.ndarray, dict]:
            return objective.mean_and_gradient(params, rows, Mode(training=True, step=update))

        final, loss = optimizers.run_epoch(
            self.optimizer, state, self.rates, self.options, count, gradient, BATCH_PROGRESS.get()
        )
        if ctx.losses is not None:
            ctx.losses.append(loss)
        return final


def train_op(step: Train, plan_of: PlanOf) -> TrainOp:
    """Bind a train step on numpy: the loss plan, the hoisted data, the validated
    hyperparameters."""

    def objective(step: Train, label: str) -> Objective:
        assert step.loss is not None
        data = _evaluate_data(step.data, plan_of, label)
        return Objective(plan_of(step.loss), step.loss.diagram, data, label)

    return bind_train(step, objective)


ObjectiveOf = Callable[[Train, str], LossLayout]
"""`objective_of(step, label)`: a backend's objective of a train step that evaluates its loss
(its data evaluated once)."""


def bind_train(step: Train, objective_of: ObjectiveOf) -> TrainOp:
    """Bind a train step with the hyperparameters and options validated and, when the family
    evaluates its loss, the objective a backend makes of it (`objective_of`)."""
    box = step.box
    label = box.label
    hyper: Mapping[str, float] = box.hyper or {}
    opts = NO_OPTIONS
    if box.spec.role is FamilyRole.STEP:
        assert box.spec.optimizer is not None
        opts = optimizers.options(box.spec.optimizer, hyper, box.schedule, box.span)
        hyper = optimizers.hyperparameters(box.spec.optimizer, hyper, box.span)
    if not box.evaluates_loss or step.loss is None:
        return TrainOp(box, None, hyper, opts)
    try:
        objective = objective_of(step, label)
    except CatRuntimeError as exc:
        raise exc.at(box.span) from None
    return TrainOp(box, objective, hyper, opts)


def _evaluate_data(data: Schedule | None, plan_of: PlanOf, label: str) -> tuple | None:
    """Run the data point once (checked); keep the flat tuple of its arrays."""
    if data is None:
        return None
    plan = plan_of(data)
    closed_point(plan, label)
    return join_components(plan.run((), check=True), plan.cod.atoms)


def closed_point(plan: Any, label: str) -> None:
    """R0605 unless the compiled data point `plan` (any backend's: its `sources` and `dom` are
    read) needs no input: training data is a closed point."""
    if plan.sources or plan.dom.atoms:
        needs = ", ".join(f"`{s.name}`" for s in plan.sources) or f"`{plan.dom}`"
        raise CatRuntimeError(
            "R0605", f"the training data of `{label}` must be a closed point, but it needs {needs}"
        )


# ---------------------------------------------------------------- entry points for front ends


def run_steps(
    step: Plan,
    state: Sequence,
    n: int,
    *,
    ports: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    hooks: LoopHooks | None = None,
    check: bool = True,
) -> tuple:
    """Apply the compiled endomorphism `step` n times to `state` (what `step ^ n` does), with
    progress, `on_step`, checkpoints and the loss history as `hooks` ask."""
    return hooked_steps(
        step, step.execute, state, n, ports=ports, params=params, hooks=hooks, check=check
    )


Execute = Callable[[Sequence, RunContext], tuple]
"""`execute(values, ctx)`: one application of a compiled step to its positional source values
(the state, then its named sources), numpy values in and out, in the run's context."""


def hooked_steps(
    step: Any,
    execute: Execute,
    state: Sequence,
    n: int,
    *,
    ports: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    hooks: LoopHooks | None = None,
    check: bool = True,
) -> tuple:
    """`run_steps` for any backend: `step` is its compiled step (its `name`, `gather` and
    `check_sources` are used) and `execute` runs it once."""
    hooks = hooks if hooks is not None else LoopHooks()
    values = step.gather(tuple(state), ports, params)
    extra = values[len(state) :]
    ctx = RunContext(check, {}, None, hooks.loss_history, looping=True)
    if check:
        step.check_sources(values, ctx.dims)
    label = f"{step.name or 'step'} ^ {n}"
    with np.errstate(all="ignore") if check else contextlib.nullcontext():
        body = numbered(lambda s: execute((*s, *extra), ctx), ctx.clock, hooks)
        final = iterate(body, tuple(state), n, hooks, label)
    if check and any(map(has_nonfinite, final)):  # the loop's state is scanned once, at the end
        bad = diverged(final)
        if bad is None or not n:
            raise nonfinite_error(label, final, None)
        raise CatRuntimeError(
            "R0413",
            f"{bad} is not finite after step {n} of `{label}`",
            help="the training diverged: try a smaller `lr`",
        )
    return final


def initial_state(diagram: Diagram, params: Mapping[str, np.ndarray]) -> tuple:
    """The starting state of the (first) training step found in `diagram`: `(params,)` for
    TrainStep, `(MomentumState,)` with zero velocity, `(AdamState,)` with zero moments."""
    box = find_train_box(diagram)
    if box is None:
        raise CatRuntimeError("R0605", f"`{diagram.name or 'this'}` contains no training step")
    names = box.params
    missing = [n for n in names if n not in params]
    if missing:
        raise CatRuntimeError("R0102", f"no value for the param(s) {', '.join(missing)}")
    assert box.spec.optimizer is not None
    return optimizers.initial_state(box.spec.optimizer, {n: params[n] for n in names})


def find_train_box(diagram: Diagram) -> TrainBox | None:
    """The first TrainStep / Momentum / Adam box, looking inside refs and loops."""
    for box in diagram.boxes():
        match box:
            case TrainBox() if box.spec.role is FamilyRole.STEP:
                return box
            case RefBox(sub=Diagram() as sub) | PowerBox(sub=sub):
                found = find_train_box(sub)
                if found is not None:
                    return found
    return None
