"""The ops a plan calls: kernels, `f ^ n` loops, shared definitions, the List and Option
functors, boundary checks.

Each follows the `plan.Op` protocol. Kernels see one array per component: a wire whose atom is
a `List` of a product (or an object over a product) is unpacked into its component arrays
before the kernel and packed again after it, so `windows(2)` yields one `TrainingSet` wire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from catdsl.semantics.invariants import Check
from catdsl.semantics.kernel import Kernel
from catdsl.semantics.loop import iterate, numbered
from catdsl.semantics.plan import Plan, RunContext, Tape
from catdsl.semantics.values import (
    accumulate,
    components,
    elements_of,
    is_differentiable,
    join_components,
    pack,
    split_components,
    width,
    zeros_like,
)
from catdsl.typesys.types import Atom


def kernel_op(kernel: Kernel, ins: Sequence[Atom], outs: Sequence[Atom]) -> KernelOp:
    """The op of a `prim` box: direct when every wire is one array, else packing; a kernel
    that `uses_mode` (each of its wires one array) is told the run's mode."""
    for atom in (*ins, *outs):
        if width(atom) != 1:
            break
    else:
        return ModalKernelOp(kernel, ins) if kernel.uses_mode else KernelOp(kernel, ins)
    if kernel.uses_mode:
        raise ValueError(f"`{kernel.name}` uses the run's mode and takes one array per wire")
    return PackedKernelOp(kernel, ins, outs)


class KernelOp:
    """A kernel whose inputs and outputs are one array per wire: called directly."""

    uses_context = False

    def __init__(self, kernel: Kernel, ins: Sequence[Atom]):
        self.kernel = kernel
        self.in_atoms = tuple(ins)  # one per array the kernel takes
        self.run, self.forward, self.vjp = kernel.forward_only, kernel.forward, kernel.vjp
        overridden = type(kernel).trusted_forward is not Kernel.trusted_forward
        self.trusted_forward = kernel.trusted_forward if overridden else kernel.forward
        self.trusted_run = kernel.trusted_run
        self.validates = kernel.validates

    @cached_property
    def differentiable(self) -> tuple[bool, ...]:
        """One flag per input: the kernel's, where cotangents flow along the input's wire
        (worked out when first asked: a plan that is only run never asks)."""
        flags = tuple(self.kernel.differentiable)
        return tuple(
            (flags[i] if i < len(flags) else flags[-1]) and is_differentiable(a)
            for i, a in enumerate(self.in_atoms)
        )

    def vjp_for(self, needed: tuple[bool, ...]) -> Callable[..., tuple]:
        """The kernel's VJP for a reverse pass that wants only the `needed` inputs."""
        return self.kernel.vjp_for(needed)


class ModalKernelOp(KernelOp):
    """A kernel that runs differently in a training step (`dropout`): it gets the run's
    context first and is called with its mode (`Kernel.forward_in`)."""

    uses_context = True

    def __init__(self, kernel: Kernel, ins: Sequence[Atom]):
        super().__init__(kernel, ins)
        self.run = self._run
        self.forward = self.trusted_forward = self._forward
        self.trusted_run = None  # it needs the run's mode

    def _run(self, *args: Any) -> tuple:
        ctx, *xs = args  # the run's context, then the inputs
        return self.kernel.forward_in(ctx.mode, *xs)[0]

    def _forward(self, *args: Any) -> tuple[tuple, object]:
        ctx, *xs = args
        return self.kernel.forward_in(ctx.mode, *xs)


class PackedKernelOp(KernelOp):
    """A kernel some of whose wires carry several arrays (lists of products)."""

    def __init__(self, kernel: Kernel, ins: Sequence[Atom], outs: Sequence[Atom]):
        flat_ins = [a for a in ins for _ in range(width(a))]
        super().__init__(kernel, flat_ins)
        self.ins, self.outs = tuple(ins), tuple(outs)
        per_atom = split_components(self.differentiable, ins)
        self.differentiable = tuple(
            any(components(f, a)) for f, a in zip(per_atom, ins, strict=True)
        )
        self.run = self._run
        self.forward = self._forward
        self.trusted_forward = self._trusted_forward
        self.trusted_run = None  # its wires are packed
        self.vjp = self._vjp

    def vjp_for(self, needed: tuple[bool, ...]) -> Callable[..., tuple]:
        """The packing VJP (it pulls back every component)."""
        return self._vjp

    def _run(self, *xs: Any) -> tuple:
        ys = self.kernel.forward_only(*join_components(xs, self.ins))
        return tuple(split_components(ys, self.outs))

    def _forward(self, *xs: Any) -> tuple[tuple, object]:
        ys, residual = self.kernel.forward(*join_components(xs, self.ins))
        return tuple(split_components(ys, self.outs)), residual

    def _trusted_forward(self, *xs: Any) -> tuple[tuple, object]:
        ys, residual = self.kernel.trusted_forward(*join_components(xs, self.ins))
        return tuple(split_components(ys, self.outs)), residual

    def _vjp(self, residual: object, *dys: Any) -> tuple:
        dxs = self.kernel.vjp(residual, *join_components(dys, self.outs))
        grouped = split_components(dxs, self.ins)
        return tuple(
            None if isinstance(g, tuple) and all(c is None for c in g) else g for g in grouped
        )


class SubPlanOp:
    """Shared plumbing of ops that run a compiled sub-diagram: the box's inputs are its domain
    wires then its ports; the sub-plan's named sources are fed from those ports by name."""

    uses_context = True

    def __init__(self, sub: Plan, box_inputs: Sequence[Atom], port_names: Sequence[str]):
        self.sub = sub
        self.n_dom = len(box_inputs) - len(port_names)
        position = {name: self.n_dom + i for i, name in enumerate(port_names)}
        missing = [s.name for s in sub.sources if s.name not in position]
        if missing:
            raise ValueError(f"the sub-diagram's sources {missing} are not fed by the box")
        self.port_map = tuple(position[s.name] for s in sub.sources)
        self.differentiable = tuple(is_differentiable(a) for a in box_inputs)
        self.need = sub.source_differentiable
        self.n_in = len(box_inputs)

    def extra(self, xs: Sequence) -> list:
        """The sub-plan's named source values, from the box's port inputs."""
        return [xs[j] for j in self.port_map]

    def scatter(self, d_dom: Sequence, d_sources: Sequence) -> tuple:
        """Box input cotangents from the sub-plan's domain and named-source cotangents."""
        result: list = [*d_dom, *([None] * (self.n_in - self.n_dom))]
        for j, d in zip(self.port_map, d_sources, strict=True):
            result[j] = accumulate(result[j], d)
        return tuple(result)


class PowerOp(SubPlanOp):
    """`f ^ n`: the sub-plan applied n times; the first top-level loop of a run with hooks
    shows progress, calls `on_step`, records losses and checkpoints (see `loop.iterate`)."""

    def __init__(
        self, sub: Plan, n: int, box_inputs: Sequence[Atom], port_names: Sequence[str], label: str
    ):
        super().__init__(sub, box_inputs, port_names)
        self.n, self.label = n, label

    def run(self, ctx: RunContext, *xs: Any) -> tuple:
        state, extra = tuple(xs[: self.n_dom]), self.extra(xs)
        child = ctx.child(looping=True)  # the enclosing plan scans the loop's final state
        execute = self.sub.execute
        hooks, ctx.hooks = ctx.hooks, None
        if hooks is not None:
            child.losses = hooks.loss_history
            body = numbered(lambda s: execute((*s, *extra), child), child.clock, hooks)
            return iterate(body, state, self.n, hooks, self.label)
        for _ in range(self.n):
            state = execute((*state, *extra), child)
        return state

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        state, extra = tuple(xs[: self.n_dom]), self.extra(xs)
        child, tapes = ctx.child(), []
        for _ in range(self.n):
            state, tape = self.sub.execute_taped((*state, *extra), child)
            tapes.append(tape)
        return state, tapes

    def vjp(self, residual: object, *dys: Any) -> tuple:
        d_state: Sequence = dys
        d_sources: list = [None] * len(self.port_map)
        assert isinstance(residual, list), "the forward pass keeps one tape per iteration"
        for tape in reversed(residual):
            cots = self.sub.pull_back(tape, d_state, self.need)
            d_state = cots[: self.n_dom]
            d_sources = [
                accumulate(a, b) for a, b in zip(d_sources, cots[self.n_dom :], strict=True)
            ]
        return self.scatter(d_state, d_sources)


class InvokeOp(SubPlanOp):
    """A large `ref`: its definition's shared sub-plan run once on the box's inputs (domain
    wires, then the values of the sub-plan's sources, in order). The sub-plan sees the run's
    context (checks, dims, loop hooks) as an inlined body would."""

    def __init__(self, sub: Plan, box_inputs: Sequence[Atom]):
        names = [s.name for s in sub.sources]
        super().__init__(sub, box_inputs, names)
        self.defers_scan = sub.defers_scan()

    @staticmethod
    def _child(ctx: RunContext) -> RunContext:
        return RunContext(
            ctx.check,
            ctx.dims,
            ctx.hooks,
            ctx.losses,
            ctx.looping,
            clock=ctx.clock,
            mode=ctx.mode,
            watched=ctx.watched,
        )

    def run(self, ctx: RunContext, *xs: Any) -> tuple:
        child = self._child(ctx)
        try:
            return self.sub.execute(xs, child)
        finally:
            ctx.hooks = child.hooks

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        return self.sub.execute_taped(xs, self._child(ctx))

    def trusted_forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        return self.sub.execute_taped(xs, self._child(ctx), trusted=True)

    def vjp(self, residual: object, *dys: Any) -> tuple:
        assert isinstance(residual, Tape), "the forward pass keeps the body's tape"
        return tuple(self.sub.pull_back(residual, dys, self.need))

    def vjp_seeded(self, residual: object, seeds: Sequence, *dys: Any) -> tuple:
        """The VJP continuing the caller's sums: `seeds[j]`, the cotangent gathered so far for
        the slot of input j, is where the body starts adding (the result replaces it), so the
        sums come out bit for bit as the inlined body's."""
        assert isinstance(residual, Tape), "the forward pass keeps the body's tape"
        return tuple(self.sub.pull_back(residual, dys, self.need, seeds))


class FunctorOp(SubPlanOp):
    """`List(f)` (the sub-plan on arrays with a leading axis: kernels are batch-polymorphic)
    and `Option(f)` (None stays None)."""

    def __init__(
        self,
        functor: str,
        sub: Plan,
        box_inputs: Sequence[Atom],
        box_outputs: Sequence[Atom],
        port_names: Sequence[str],
    ):
        super().__init__(sub, box_inputs, port_names)
        if self.n_dom != 1 or len(box_outputs) != 1:
            raise ValueError(f"`{functor}(f)` must map one {functor} wire to one")
        self.optional = functor == "Option"
        self.elem_in = elements_of(box_inputs[0])
        self.elem_out = elements_of(box_outputs[0])

    def _inputs(self, xs: Sequence) -> list:
        flat = (xs[0],) if sum(width(a) for a in self.elem_in) == 1 else xs[0]
        return [*split_components(flat, self.elem_in), *self.extra(xs)]

    def _pack(self, ys: Sequence) -> object:
        return pack(join_components(ys, self.elem_out), self.elem_out)

    def _pack_in(self, ds: Sequence) -> object:
        return pack(join_components(ds, self.elem_in), self.elem_in)

    def run(self, ctx: RunContext, *xs: Any) -> tuple:
        if self.optional and xs[0] is None:
            return (None,)
        return (self._pack(self.sub.execute(self._inputs(xs), ctx.child())),)

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        if self.optional and xs[0] is None:
            return (None,), None
        ys, tape = self.sub.execute_taped(self._inputs(xs), ctx.child())
        return (self._pack(ys),), tape

    def vjp(self, residual: object, *dys: Any) -> tuple:
        if residual is None or dys[0] is None:
            return (None,) * self.n_in
        flat = (dys[0],) if sum(width(a) for a in self.elem_out) == 1 else dys[0]
        d_out = split_components(flat, self.elem_out)
        assert isinstance(residual, Tape), "the forward pass keeps the body's tape"
        cots = self.sub.pull_back(residual, d_out, self.need)
        d_elems = cots[: len(self.elem_in)]
        d_dom = None if all(d is None for d in d_elems) else self._pack_in(d_elems)
        return self.scatter([d_dom], cots[len(self.elem_in) :])


class Applied:
    """A morphism argument's sub-plan as the primitive's kernel calls it (the `Morphism`
    protocol): on flat component arrays, in the context of the call."""

    def __init__(self, sub: Plan, ctx: RunContext):
        self.sub, self.ctx = sub, ctx
        self.dom, self.cod = sub.dom.atoms, sub.cod.atoms

    def run(self, *xs: Any) -> tuple:
        ys = self.sub.execute(split_components(xs, self.dom), self.ctx)
        return join_components(ys, self.cod)

    def forward(self, *xs: Any) -> tuple[tuple, object]:
        ys, tape = self.sub.execute_taped(split_components(xs, self.dom), self.ctx)
        return join_components(ys, self.cod), tape

    def vjp(self, residual: object, *dys: Any) -> tuple:
        assert isinstance(residual, Tape), "the forward pass keeps the body's tape"
        cots = self.sub.pull_back(
            residual, split_components(dys, self.cod), self.sub.source_differentiable
        )
        return tuple(
            d
            for cot, atom in zip(cots[: len(self.dom)], self.dom, strict=True)
            for d in ((None,) * width(atom) if cot is None else components(cot, atom))
        )


class MorphismKernelOp:
    """A primitive with morphism arguments (`fold(op, unit)`): its kernel gets one `Applied`
    per argument, in the run's context, before its arrays (a wire of a list of products is
    its component arrays, as for `PackedKernelOp`)."""

    uses_context = True

    def __init__(
        self, kernel: Kernel, subs: Sequence[Plan], ins: Sequence[Atom], outs: Sequence[Atom]
    ):
        self.kernel, self.subs = kernel, tuple(subs)
        self.ins, self.outs = tuple(ins), tuple(outs)
        self.sub = max(self.subs, key=lambda p: p.nesting)  # for the plan's nesting depth
        flags = tuple(kernel.differentiable)
        self.differentiable = tuple(
            (flags[i] if i < len(flags) else flags[-1]) and is_differentiable(a)
            for i, a in enumerate(ins)
        )

    def _applied(self, ctx: RunContext) -> list[Applied]:
        child = ctx.child()
        return [Applied(sub, child) for sub in self.subs]

    def run(self, ctx: RunContext, *xs: Any) -> tuple:
        flat = join_components(xs, self.ins)
        ys, _ = self.kernel.forward(*self._applied(ctx), *flat)
        return tuple(split_components(ys, self.outs))

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        flat = join_components(xs, self.ins)
        ys, residual = self.kernel.forward(*self._applied(ctx), *flat)
        return tuple(split_components(ys, self.outs)), residual

    def vjp(self, residual: object, *dys: Any) -> tuple:
        dxs = self.kernel.vjp(residual, *join_components(dys, self.outs))
        grouped = split_components(dxs, self.ins)
        return tuple(
            None if isinstance(g, tuple) and all(c is None for c in g) else g for g in grouped
        )


class UnpackOp:
    """An object over a product taken apart into its parts (`fst[Pair]`); the VJP packs the
    parts' cotangents again (zeros for a part that got none)."""

    uses_context = False

    def __init__(self, whole: Atom, parts: Sequence[Atom]):
        self.whole, self.parts = whole, tuple(parts)
        self.differentiable: tuple[bool, ...] = (is_differentiable(whole),)

    def run(self, value: Any) -> tuple:
        return tuple(split_components(components(value, self.whole), self.parts))

    def forward(self, value: Any) -> tuple[tuple, object]:
        return self.run(value), value

    def vjp(self, residual: object, *dys: Any) -> tuple:
        if all(d is None for d in dys):
            return (None,)
        values = self.run(residual)
        filled = [zeros_like(v) if d is None else d for d, v in zip(dys, values, strict=True)]
        return (tuple(join_components(filled, self.parts)),)


class CheckOp:
    """Validates values where they enter nominal objects (only in checked runs)."""

    uses_context = True

    def __init__(self, checks: Sequence[Check | None], layout_only: bool = False):
        self.checks = tuple(checks)
        self.differentiable = (False,) * len(self.checks)
        self.layout_only = layout_only  # a trusted plain call skips it (`invariants.layout_only`)

    def run(self, ctx: RunContext, *xs: Any) -> tuple:
        for check, x in zip(self.checks, xs, strict=True):
            if check is not None:
                check(x, ctx.dims)
        return ()

    def forward(self, ctx: RunContext, *xs: Any) -> tuple[tuple, object]:
        return (self.run(ctx, *xs) if ctx.check else ()), None

    def vjp(self, residual: object, *dys: Any) -> tuple:
        return (None,) * len(self.checks)
