"""A schedule bound to torch (`TorchPlan`): registers, hoisted constant tensors and bound steps,
run at the tensor level (`TorchPlan.execute(tensors, TensorRun(check, dims))`).

The torch backend (`torch_backend`) builds these plans and converts values at the boundary; a
caller that holds tensors already (reverse mode, an exported module) runs a plan directly. A
training step inside a plan runs its op (`training.TrainOp`) on numpy values: its state is
copied off the device, updated by the optimizer's spec, and copied back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catdsl.diagram.schedule import Schedule
from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics.invariants import Env, nonfinite_error
from catdsl.semantics.kernel import EVALUATION, Mode, StepClock
from catdsl.semantics.plan import RunContext
from catdsl.semantics.sources import gather_sources
from catdsl.semantics.values import (
    components,
    is_differentiable,
    join_components,
    pack,
    split_components,
    width,
)

TorchFn = Callable[..., tuple[Any, ...]]
"""A bound rule: tensors in, a tuple of tensors out."""


def to_numpy(value: Any) -> Any:
    """A value with its tensors as numpy arrays (tuples, records and None kept)."""
    if isinstance(value, tuple):
        return tuple(to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


@dataclass
class TensorRun:
    """What one tensor-level run (`TorchPlan.execute`) shares with its nested plans: whether it
    checks, the dims bound, and the `Mode` handed to rules that set `uses_mode` (dropout).
    `TensorRun(False, {})` runs unchecked, keeping autograd. A run of training steps adds the
    loss history the steps append to and the run's step count."""

    check: bool
    dims: Env
    mode: Mode = EVALUATION
    losses: list[float] | None = None
    clock: StepClock = field(default_factory=StepClock)


@dataclass
class _Call:
    """A primitive's bound rule on the registers `ins`, writing `outs`."""

    fn: TorchFn
    atoms_in: tuple[Any, ...]
    atoms_out: tuple[Any, ...]
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    label: str
    span: Span | None
    uses_mode: bool = False
    subs: tuple[TorchPlan, ...] = ()  # the plans of its morphism arguments (`fold`'s op, unit)


@dataclass
class _Loop:
    """`f ^ n`: `body` applied `n` times to the state (the first `n_dom` inputs)."""

    body: TorchPlan
    n: int
    n_dom: int
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass
class _Map:
    """`List(f)` / `Option(f)`: `body` on the whole batch of elements (or on the one present)."""

    body: TorchPlan
    optional: bool
    elem_in: tuple[Any, ...]
    elem_out: tuple[Any, ...]
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass
class _Invoke:
    """A large shared definition: its one `body` plan run on the registers `ins`."""

    body: TorchPlan
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass
class _Check:
    """Values entering nominal objects, checked in numpy in a checked run."""

    checks: tuple[Callable[[Any, Env], None] | None, ...]
    ins: tuple[int, ...]


@dataclass
class _Train:
    """A training box's op (`training.TrainOp`), run on numpy values: `to_tensor` brings its
    outputs back to the device."""

    op: Any
    to_tensor: Callable[[Any], Any]
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    span: Span | None


@dataclass
class _Unpack:
    """An object over a product taken apart (`fst[Pair]`): the value of `whole` in `ins`
    written to `outs` as its parts (autograd packs their cotangents again)."""

    whole: Any
    parts: tuple[Any, ...]
    ins: tuple[int, ...]
    outs: tuple[int, ...]


_Step = _Call | _Loop | _Map | _Invoke | _Check | _Train | _Unpack


class TorchApplied:
    """A morphism argument's plan as a torch rule calls it (`fold`'s `op`): a function on flat
    component tensors, run in the calling run (its checks, dims and mode); it is a run of
    tensors, so autograd records every application."""

    def __init__(self, sub: TorchPlan, run: TensorRun):
        self.sub, self.tensor_run = sub, run
        self.dom, self.cod = sub.dom.atoms, sub.cod.atoms

    def run(self, *xs: Any) -> tuple:
        """The outputs, as flat component tensors."""
        ys = self.sub.execute(split_components(xs, self.dom), self.tensor_run)
        return join_components(ys, self.cod)


class TorchPlan:
    """A schedule bound to torch: registers (one per slot), hoisted constants and steps."""

    def __init__(
        self,
        sched: Schedule,
        template: list[Any],
        steps: list[_Step],
        source_checks: list[Callable[[Any, Env], None] | None],
    ):
        self.name, self.dom, self.cod = sched.name, sched.dom, sched.cod
        self.sources = sched.sources
        self.in_slots = (*sched.in_slots, *sched.source_slots)
        self.out_slots = sched.out_slots
        self.template = template
        self.steps = steps
        self.source_checks = source_checks
        atoms = [sched.slots[s] for s in self.in_slots]
        self.source_differentiable = tuple(a is not None and is_differentiable(a) for a in atoms)

    def gather(
        self, inputs: Sequence, ports: Mapping[str, Any] | None, params: Mapping[str, Any] | None
    ) -> list:
        """The positional source values: the inputs, then each named source."""
        return gather_sources(self.name, self.dom, self.sources, inputs, ports, params)

    def check_sources(self, values: Sequence, dims: Env) -> None:
        """Validate the inputs, ports and params (numpy values) where they enter their objects."""
        for check, value in zip(self.source_checks, values, strict=True):
            if check is not None:
                check(value, dims)

    def execute(self, values: Sequence, run: TensorRun) -> tuple:
        """The outputs from positional source tensors."""
        regs = list(self.template)
        for slot, value in zip(self.in_slots, values, strict=True):
            regs[slot] = value
        for step in self.steps:
            xs = [regs[i] for i in step.ins]
            match step:
                case _Call():
                    ys = self.call(step, xs, run)
                case _Loop(body=body, n=n, n_dom=n_dom):
                    state, extra = tuple(xs[:n_dom]), xs[n_dom:]
                    for _ in range(n):
                        state = body.execute((*state, *extra), run)
                    ys = state
                case _Map():
                    ys = self.map(step, xs, run)
                case _Invoke(body=body):
                    ys = body.execute(xs, run)
                case _Train():
                    ys = self.train(step, xs, run)
                case _Unpack(whole=whole, parts=parts):
                    ys = tuple(split_components(components(xs[0], whole), parts))
                case _Check(checks=checks):
                    if run.check:
                        for check, x in zip(checks, xs, strict=True):
                            if check is not None:
                                check(to_numpy(x), run.dims)
                    continue
            for slot, y in zip(step.outs, ys, strict=True):
                regs[slot] = y
        return tuple(regs[i] for i in self.out_slots)

    @staticmethod
    def call(step: _Call, xs: list, run: TensorRun) -> tuple:
        """One primitive on its wires; its outputs scanned for NaN/inf in a checked run."""
        flat = join_components(xs, step.atoms_in)
        if step.subs:
            flat = (*(TorchApplied(sub, run) for sub in step.subs), *flat)
        try:
            ys = step.fn(*flat, mode=run.mode) if step.uses_mode else step.fn(*flat)
        except CatRuntimeError as exc:
            raise exc.at(step.span) from None
        if run.check and any(_nonfinite(y) for y in ys):
            raise nonfinite_error(step.label, to_numpy(tuple(ys)), step.span)
        return tuple(split_components(ys, step.atoms_out))

    @staticmethod
    def train(step: _Train, xs: list, run: TensorRun) -> tuple:
        """A training box on numpy copies of its inputs, in a context sharing the run's checks,
        dims, loss history and step count."""
        ctx = RunContext(run.check, run.dims, None, run.losses, clock=run.clock, mode=run.mode)
        try:
            ys = step.op.run(ctx, *(to_numpy(x) for x in xs))
        except CatRuntimeError as exc:
            raise exc.at(step.span) from None
        return tuple(step.to_tensor(y) for y in ys)

    @staticmethod
    def map(step: _Map, xs: list, run: TensorRun) -> tuple:
        """`List(f)` on the whole batch (rules are batch-polymorphic); `Option(f)`, None kept."""
        if step.optional and xs[0] is None:
            return (None,)
        flat = (xs[0],) if sum(width(a) for a in step.elem_in) == 1 else xs[0]
        inputs = [*split_components(flat, step.elem_in), *xs[1:]]
        ys = step.body.execute(inputs, run)
        return (pack(join_components(ys, step.elem_out), step.elem_out),)


def _nonfinite(value: Any) -> bool:
    """Whether a floating tensor holds a NaN or an infinity."""
    return (
        hasattr(value, "is_floating_point")
        and value.is_floating_point()
        and not bool(value.isfinite().all())
    )
