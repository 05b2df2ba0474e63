"""The PyTorch backend: a schedule bound to torch rules, run on a torch device.

The backend owns no numerics: it is given a table of torch rules by primitive name (as the numpy
backend is given its kernel table), where a rule is `factory(in_ranks, **static)` returning a
function from tensors to a tuple of tensors. Values cross the boundary as numpy: inputs, ports,
params and constants are validated where they enter their objects exactly as on numpy (the same
`invariants` checks, on the numpy values), converted to tensors of the backend's dtype on its
device, and the outputs come back as numpy arrays. Inside a checked run, the values entering
nominal objects (a definition's `Check` steps: `Simplex` rows, index ranges) are copied back to
numpy and checked there, and every primitive's outputs are scanned for NaN/inf (R0415); the rules
themselves raise the kernels' codes for operands that do not fit (index ranges, shapes, empty or
non-finite logits). Reverse mode is torch's autograd over the same tensor-level run (`vjp`:
the cotangents come back as numpy, zeros where none flows, as on numpy). Training runs a train
box's op on numpy copies of its state with an objective whose gradient is autograd's
(`torch_training`), and iterates a step with the numpy backend's hooked loop
(`training.hooked_steps`).

torch is optional: this module imports it only when a backend is made, and a missing torch is an
`ImportError` saying what to install.

| code  | raised when |
| ----- | ----------- |
| R0810 | a primitive has no torch rule |
| R0811 | `run` is asked to drive a loop with progress or checkpoints (`hooks`) |
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.depth import deep
from catdsl.diagram.ir import ConstBox, Diagram
from catdsl.diagram.schedule import (
    Call,
    Check,
    Invoke,
    Loop,
    Map,
    Schedule,
    Train,
    Unpack,
    schedule,
)
from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics.constants import checked_constant
from catdsl.semantics.invariants import Env, make_check
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.plan import RunContext
from catdsl.semantics.torch_plan import (
    TensorRun,
    TorchFn,
    TorchPlan,
    _Call,
    _Check,
    _Invoke,
    _Loop,
    _Map,
    _Step,
    _Train,
    _Unpack,
    to_numpy,
)
from catdsl.semantics.torch_training import DataParallel, TorchObjective
from catdsl.semantics.training import bind_train, closed_point, hooked_steps, initial_state
from catdsl.semantics.values import elements_of, join_components, zeros_like

__all__ = ["TensorRun", "TorchBackend", "TorchFn", "TorchPlan", "TorchRule", "TorchRules"]

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
        self.parallel: DataParallel | None = None  # set in each process of a data-parallel run

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
        unknown = set(wrt) - {s.name for s in compiled.sources} - {"inputs"}
        if unknown:
            where = compiled.name or "this plan"
            raise KeyError(f"nothing named {sorted(unknown)} feeds `{where}`")
        values = compiled.gather(inputs, ports, params)
        n_inputs = len(compiled.dom.atoms)
        wanted = set(range(n_inputs)) if "inputs" in wrt else set()
        wanted |= {n_inputs + i for i, s in enumerate(compiled.sources) if s.name in wrt}
        tensors, leaves = [], {}
        for position, value in enumerate(values):
            tensor = self.to_tensor(value)
            if position in wanted:
                leaves[position] = _watched(tensor)
            tensors.append(tensor)
        with self.torch.enable_grad():
            outputs = compiled.execute(tensors, TensorRun(False, {}))
        pairs = [
            (y, self.torch.as_tensor(dy, dtype=y.dtype, device=y.device))
            for output, cot in zip(outputs, cotangents, strict=True)
            for y, dy in _paired(output, cot)
        ]
        watched = [leaf for position in sorted(leaves) for leaf in leaves[position]]
        grads: tuple = (None,) * len(watched)
        if pairs and watched:
            ys, dys = zip(*pairs, strict=True)
            grads = self.torch.autograd.grad(ys, watched, dys, allow_unused=True)
        found = {id(leaf): grad for leaf, grad in zip(watched, grads, strict=True)}
        cotangent = {
            position: _cotangent(tensors[position], values[position], found) for position in leaves
        }
        result: dict[str, Any] = {
            s.name: cotangent[n_inputs + i] for i, s in enumerate(compiled.sources) if s.name in wrt
        }
        if "inputs" in wrt:
            result["inputs"] = tuple(
                cotangent[i] if compiled.source_differentiable[i] else None for i in range(n_inputs)
            )
        return to_numpy(outputs), result

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
        def execute(values: Sequence, ctx: RunContext) -> tuple:
            run = TensorRun(ctx.check, ctx.dims, ctx.mode, ctx.losses, ctx.clock)
            with self.torch.no_grad():
                outputs = compiled.execute([self.to_tensor(v) for v in values], run)
            return tuple(to_numpy(y) for y in outputs)

        return hooked_steps(
            compiled, execute, state, n, ports=ports, params=params, hooks=hooks, check=check
        )

    def initial_state(self, diagram: Diagram, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return initial_state(diagram, params)

    def to_tensor(self, value: Any) -> Any:
        """A value with its arrays as tensors on the device (floats in the backend's dtype;
        arrays of symbols stay numpy arrays, as torch holds numbers only)."""
        if isinstance(value, tuple):
            return tuple(self.to_tensor(v) for v in value)
        if isinstance(value, dict):
            return {k: self.to_tensor(v) for k, v in value.items()}
        if isinstance(value, np.ndarray | np.generic):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":  # symbols (strings): torch has no such tensors
                return array
            if array.dtype.kind == "f":
                array = array.astype(self.dtype, copy=False)
            return self.torch.tensor(array, device=self.device)  # a copy: inputs stay untouched
        return value


def _watched(value: Any) -> list:
    """The floating tensors inside a source value, each made a leaf that records gradients."""
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _watched(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _watched(v)]
    if hasattr(value, "is_floating_point") and value.is_floating_point():
        return [value.requires_grad_(True)]
    return []


def _paired(output: Any, cotangent: Any) -> list[tuple[Any, Any]]:
    """(output tensor, its cotangent) for every floating tensor of an output that depends on a
    watched source, with a given cotangent (None stands for zeros, which add nothing)."""
    if cotangent is None or output is None:
        return []
    if isinstance(output, tuple):
        return [p for y, dy in zip(output, cotangent, strict=True) for p in _paired(y, dy)]
    if isinstance(output, dict):
        return [p for key, y in output.items() for p in _paired(y, cotangent[key])]
    if getattr(output, "requires_grad", False):
        return [(output, cotangent)]
    return []


def _cotangent(tensor: Any, value: Any, found: Mapping[int, Any]) -> Any:
    """A source's cotangent in numpy, shaped like its value: the gradient autograd found for
    each of its leaves, zeros where none flowed (as the numpy backend gives)."""
    if isinstance(tensor, tuple):
        return tuple(_cotangent(t, v, found) for t, v in zip(tensor, value, strict=True))
    if isinstance(tensor, dict):
        return {k: _cotangent(tensor[k], value[k], found) for k in tensor}
    grad = found.get(id(tensor))
    return zeros_like(value) if grad is None else grad.detach().cpu().numpy()


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

    def step(self, step: Call | Loop | Map | Invoke | Train | Check | Unpack) -> _Step:
        """The bound form of one step (a training box: its op, with a torch objective)."""
        match step:
            case Call(box=box):
                fn = self.rule(box.name, dict(box.static or {}), tuple(box.in_ranks), box.span)
                uses_mode = getattr(fn, "uses_mode", False)
                subs = tuple(self.plan(sub) for sub in step.subs)
                return _Call(
                    fn,
                    box.inputs,
                    box.outputs,
                    step.ins,
                    step.outs,
                    box.label,
                    box.span,
                    uses_mode,
                    subs,
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
                op = bind_train(step, self.objective)
                return _Train(op, self.backend.to_tensor, step.ins, step.outs, box.span)
            case Unpack(box=box):
                return _Unpack(box.inputs[0], tuple(box.outputs), step.ins, step.outs)

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

    def objective(self, step: Train, label: str) -> TorchObjective:
        """The torch objective of a train box: its loss plan, and its data evaluated once."""
        assert step.loss is not None, "a family that evaluates its loss has one"
        data = None
        if step.data is not None:
            plan = self.plan(step.data)
            closed_point(plan, label)
            outputs = self.backend.run(plan, (), None, None, check=True)
            data = join_components(outputs, plan.cod.atoms)
        backend = self.backend
        loss = self.plan(step.loss)
        return TorchObjective(
            loss, step.loss.diagram, data, label, backend.to_tensor, backend.torch, backend.parallel
        )

    def constant(self, box: ConstBox) -> list[Any]:
        """A const box's numpy values, one per output atom, checked once (as on numpy)."""
        return checked_constant(box, self.backend.dtype)
