"""The PyTorch backend (forward only): a schedule bound to torch rules, run on a torch device.

The backend owns no numerics: it is given a table of torch rules by primitive name (as the numpy
backend is given its kernel table), where a rule is `factory(in_ranks, **static)` returning a
function from tensors to a tuple of tensors. Values cross the boundary as numpy: inputs, ports,
params and constants are validated where they enter their objects exactly as on numpy (the same
`invariants` checks, on the numpy values), converted to tensors of the backend's dtype on its
device, and the outputs come back as numpy arrays. Inside a checked run, the values entering
nominal objects (a definition's `Check` steps: `Simplex` rows, index ranges) are copied back to
numpy and checked there, and every primitive's outputs are scanned for NaN/inf (R0415); the rules
themselves raise the kernels' codes for operands that do not fit (index ranges, shapes, empty or
non-finite logits). Reverse mode and training are not implemented here yet (R0811).

torch is optional: this module imports it only when a backend is made, and a missing torch is an
`ImportError` saying what to install.

| code  | raised when |
| ----- | ----------- |
| R0810 | a primitive has no torch rule |
| R0811 | reverse mode or training is asked of the torch backend |
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.depth import deep
from catdsl.diagram.ir import ConstBox, Diagram
from catdsl.diagram.schedule import Call, Check, Invoke, Loop, Map, Schedule, Train, schedule
from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics.constants import checked_constant
from catdsl.semantics.invariants import Env, make_check, nonfinite_error
from catdsl.semantics.kernel import EVALUATION, Mode
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.sources import gather_sources
from catdsl.semantics.values import (
    elements_of,
    join_components,
    pack,
    split_components,
    width,
)

TorchFn = Callable[..., tuple[Any, ...]]
"""A bound rule: tensors in, a tuple of tensors out."""

TorchRule = Callable[..., TorchFn]
"""`rule(in_ranks, **static) -> TorchFn`: the torch meaning of one primitive box."""

TorchRules = Mapping[str, TorchRule]
"""Torch rules by primitive name: what the torch backend is given to bind primitives."""

INSTALL_HINT = "the torch backend needs PyTorch: install it with `pip install torch`"


def import_torch() -> Any:
    """The torch module; its absence is an `ImportError` saying what to install."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


def unsupported(what: str) -> CatRuntimeError:
    """The error for a part of the backend protocol torch does not offer yet."""
    return CatRuntimeError(
        "R0811",
        f"{what} is not supported on the torch backend yet",
        help="run it on the numpy backend (the default): drop `--backend torch` / `backend=`",
    )


class TorchBackend:
    """Compiles diagrams to `TorchPlan`s running `rules` on `device` in float `dtype`."""

    def __init__(self, rules: TorchRules, dtype: DTypeLike = np.float64, device: str = "cpu"):
        self.torch = import_torch()
        self.rules = rules
        self.dtype = np.dtype(dtype)
        self.device = self.torch.device(device)
        if self.device.type == "cuda" and not self.torch.cuda.is_available():
            raise ImportError(f"the device `{device}` needs a CUDA build of torch and a GPU")

    def compile(self, diagram: Diagram) -> TorchPlan:
        """The plan of `diagram` (and of every sub-diagram it holds)."""
        with deep("compiling"):
            return _Binder(self).plan(schedule(diagram))

    def run(
        self,
        compiled: TorchPlan,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        check: bool = True,
        hooks: LoopHooks | None = None,
    ) -> tuple[Any, ...]:
        if hooks is not None:
            raise unsupported("a loop with progress, checkpoints or a loss history")
        values = compiled.gather(inputs, ports, params)
        dims: Env = {}
        if check:
            compiled.check_sources(values, dims)
        tensors = [self.to_tensor(v) for v in values]
        with self.torch.no_grad():
            outputs = compiled.execute(tensors, TensorRun(check, dims))
        return tuple(to_numpy(y) for y in outputs)

    def vjp(
        self,
        compiled: TorchPlan,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        cotangents: Sequence[Any],
        wrt: set[str],
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        raise unsupported("reverse mode (vjp, gradcheck)")

    def train(
        self,
        compiled: TorchPlan,
        state: Sequence[Any],
        n: int,
        *,
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        hooks: LoopHooks | None = None,
        check: bool = True,
    ) -> tuple[Any, ...]:
        raise unsupported("training")

    def initial_state(self, diagram: Diagram, params: Mapping[str, Any]) -> tuple[Any, ...]:
        raise unsupported("training")

    def to_tensor(self, value: Any) -> Any:
        """A value with its arrays as tensors on the device (floats in the backend's dtype)."""
        if isinstance(value, tuple):
            return tuple(self.to_tensor(v) for v in value)
        if isinstance(value, dict):
            return {k: self.to_tensor(v) for k, v in value.items()}
        if isinstance(value, np.ndarray | np.generic):
            array = np.asarray(value)
            if array.dtype.kind in "USO":
                return array  # symbols have no tensor form: they stay numpy (the rules know)
            if array.dtype.kind == "f":
                array = array.astype(self.dtype, copy=False)
            return self.torch.tensor(array, device=self.device)  # a copy: inputs stay untouched
        return value


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
    `TensorRun(False, {})` runs unchecked, keeping autograd."""

    check: bool
    dims: Env
    mode: Mode = EVALUATION


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


_Step = _Call | _Loop | _Map | _Invoke | _Check


class TorchPlan:
    """A schedule bound to torch: registers (one per slot), hoisted constants and steps."""

    def __init__(
        self,
        sched: Schedule,
        template: list[Any],
        steps: list[_Step],
        source_checks: list[Callable[[Any, Env], None] | None],
    ):
        self.name, self.dom = sched.name, sched.dom
        self.sources = sched.sources
        self.in_slots = (*sched.in_slots, *sched.source_slots)
        self.out_slots = sched.out_slots
        self.template = template
        self.steps = steps
        self.source_checks = source_checks

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
        try:
            ys = step.fn(*flat, mode=run.mode) if step.uses_mode else step.fn(*flat)
        except CatRuntimeError as exc:
            raise exc.at(step.span) from None
        if run.check and any(_nonfinite(y) for y in ys):
            raise nonfinite_error(step.label, to_numpy(tuple(ys)), step.span)
        return tuple(split_components(ys, step.atoms_out))

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


class _Binder:
    """One binding: the backend, and the plans made so far (one per schedule)."""

    def __init__(self, backend: TorchBackend):
        self.backend = backend
        self.plans: dict[int, TorchPlan] = {}

    def plan(self, sched: Schedule) -> TorchPlan:
        """The plan of `sched`, made once per schedule."""
        key = id(sched)
        if key not in self.plans:
            self.plans[key] = self.build(sched)
        return self.plans[key]

    def build(self, sched: Schedule) -> TorchPlan:
        """Hoisted constants as tensors, one bound step per scheduled step, and the checks of
        the plan's inputs and sources."""
        template: list[Any] = [None] * len(sched.slots)
        for constant in sched.constants:
            values = self.constant(constant.box)
            for slot, value in zip(constant.slots, values, strict=True):
                template[slot] = self.backend.to_tensor(value)
        steps = [self.step(step) for step in sched.steps]
        where = f"`{sched.name}`" if sched.name else "the morphism"
        checks = [make_check(a, f"input {i + 1} of {where}") for i, a in enumerate(sched.dom.atoms)]
        checks += [make_check(s.atom, f"the {s.kind} `{s.name}`") for s in sched.sources]
        return TorchPlan(sched, template, steps, checks)

    def step(self, step: Call | Loop | Map | Invoke | Train | Check) -> _Step:
        """The bound form of one step; a training box is R0811."""
        match step:
            case Call(box=box):
                fn = self.rule(box.name, dict(box.static or {}), tuple(box.in_ranks), box.span)
                uses_mode = getattr(fn, "uses_mode", False)
                return _Call(
                    fn, box.inputs, box.outputs, step.ins, step.outs, box.label, box.span, uses_mode
                )
            case Loop(box=box, body=body):
                return _Loop(self.plan(body), box.n, box.n_domain_inputs, step.ins, step.outs)
            case Map(box=box, body=body):
                elem_in, elem_out = elements_of(box.inputs[0]), elements_of(box.outputs[0])
                optional = box.functor == "Option"
                return _Map(self.plan(body), optional, elem_in, elem_out, step.ins, step.outs)
            case Invoke(body=body):
                return _Invoke(self.plan(body), step.ins, step.outs)
            case Check():
                subject = f"the output of `{step.label}`"
                checks = tuple(
                    make_check(a, subject, step.span) if a is not None else None for a in step.atoms
                )
                return _Check(checks, step.ins)
            case Train(box=box):
                raise unsupported(f"the training box `{box.label}`").at(box.span)

    def rule(
        self, name: str, static: dict[str, Any], in_ranks: tuple[int, ...], span: Span | None
    ) -> TorchFn:
        """The bound torch rule of a primitive box (R0810 without one, R0404 for constant
        arguments the rule does not take)."""
        rule = self.backend.rules.get(name)
        if rule is None:
            raise CatRuntimeError(
                "R0810",
                f"the primitive `{name}` has no torch rule",
                span,
                help="run this program on the numpy backend (the default)",
            )
        try:
            inspect.signature(rule).bind(in_ranks, **static)
        except TypeError as exc:
            raise CatRuntimeError(
                "R0404", f"bad static arguments for `{name}`: {exc}", span
            ) from None
        try:
            return rule(in_ranks, **static)
        except CatRuntimeError as exc:
            raise exc.at(span) from None

    def constant(self, box: ConstBox) -> list[Any]:
        """A const box's numpy values, one per output atom, checked once (as on numpy)."""
        return checked_constant(box, self.backend.dtype)
