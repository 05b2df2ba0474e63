"""The numpy backend: a schedule bound to numpy kernels as a fast `Plan`, and how to run it.

Binding gives each `Call` step the kernel its primitive's factory builds (from the kernel table
the backend is given, never imported), each `Loop` / `Map` / `Invoke` / `Train` step its
sub-plans (one per sub-schedule, so a shared definition's plan is bound once and called from
every use), each `Check` step its validators, and each hoisted constant its value, loaded and
converted to the backend's dtype and checked once.

| code  | raised when |
| ----- | ----------- |
| R0102 | a plan is run without one of its inputs, ports or params |
| R0103 | a primitive has no kernel |
| R0404 | a primitive's constant arguments do not fit its kernel |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.depth import deep
from catdsl.diagram.ir import ConstBox, Diagram, PrimBox
from catdsl.diagram.schedule import (
    RESERVED,
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
from catdsl.errors import CatRuntimeError
from catdsl.semantics.constants import checked_constant
from catdsl.semantics.invariants import CheckerMemo, layout_only, make_check, memo_checker
from catdsl.semantics.kernel import Kernel, KernelTable, build_kernel
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.ops import (
    CheckOp,
    FunctorOp,
    InvokeOp,
    KernelOp,
    ModalKernelOp,
    MorphismKernelOp,
    PowerOp,
    UnpackOp,
    kernel_op,
)
from catdsl.semantics.plan import CTX, Instr, Op, Plan
from catdsl.semantics.training import initial_state, run_steps, train_op
from catdsl.typesys.types import Carrier, Obj


class NumpyBackend:
    """Compiles diagrams to numpy `Plan`s for values of float `dtype`, with `kernels`."""

    def __init__(self, kernels: KernelTable, dtype: DTypeLike = np.float64):
        self.kernels = kernels
        self.dtype = np.dtype(dtype)

    def compile(self, diagram: Diagram) -> Plan:
        """The plan of `diagram` (and of every sub-diagram it holds)."""
        return bind(schedule(diagram), self.kernels, self.dtype)

    def run(
        self,
        compiled: Plan,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        check: bool = True,
        hooks: LoopHooks | None = None,
    ) -> tuple[Any, ...]:
        return compiled.run(inputs, ports, params, check=check, hooks=hooks)

    def vjp(
        self,
        compiled: Plan,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        cotangents: Sequence[Any],
        wrt: set[str],
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        outputs, tape = compiled.forward(inputs, ports, params)
        seeds = tuple(
            np.zeros(np.shape(y)) if dy is None else dy
            for dy, y in zip(cotangents, outputs, strict=True)
        )
        return outputs, compiled.backward(tape, seeds, wrt)

    def train(
        self,
        compiled: Plan,
        state: Sequence[Any],
        n: int,
        *,
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        hooks: LoopHooks | None = None,
        check: bool = True,
    ) -> tuple[Any, ...]:
        return run_steps(compiled, state, n, ports=ports, params=params, hooks=hooks, check=check)

    def initial_state(self, diagram: Diagram, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return initial_state(diagram, params)


def bind(root: Schedule, kernels: KernelTable, dtype: np.dtype) -> Plan:
    """The plan of a schedule (each sub-schedule bound once)."""
    with deep("compiling"):
        return _Binder(kernels, dtype).plan(root)


class _Binder:
    """Shared state of one binding: the kernel table, the dtype and the plans made so far."""

    def __init__(self, kernels: KernelTable, dtype: np.dtype):
        self.kernels, self.dtype = kernels, dtype
        self.plans: dict[int, Plan] = {}
        self.validated: set[tuple[str, tuple[str, ...]]] = set()  # (primitive, static names)
        self.validated_plain: set[str] = set()  # the primitives validated without constants

    def plan(self, sched: Schedule) -> Plan:
        """The plan of `sched`, made once per schedule."""
        key = id(sched)
        if key not in self.plans:
            self.plans[key] = self.build(sched)
        return self.plans[key]

    def build(self, sched: Schedule) -> Plan:
        assert RESERVED == CTX, "the plan keeps its run context in the schedule's reserved slot"
        template: list[Any] = [None] * len(sched.slots)
        for constant in sched.constants:
            for slot, value in zip(constant.slots, self.constant(constant.box), strict=True):
                template[slot] = value
        instrs: list[Instr] = []
        for step in sched.steps:
            if step.__class__ is Call and not step.subs:  # the most common step, bound inline
                box = step.box
                instrs.append(Instr(self.kernel_op(box), step.ins, step.outs, box.label, box.span))
            elif (instr := self.instr(step)) is not None:
                instrs.append(instr)
        memo: CheckerMemo = {}  # the params of one type share a checker
        checkers = [memo_checker(a, memo) for a in sched.dom.atoms]
        checkers += [memo_checker(s.atom, memo) for s in sched.sources]
        return Plan(
            dom=sched.dom,
            cod=sched.cod,
            name=sched.name,
            template=template,
            in_slots=sched.in_slots,
            sources=sched.sources,
            source_slots=sched.source_slots,
            out_slots=sched.out_slots,
            instrs=instrs,
            slot_atoms=sched.slots,
            source_checkers=tuple(checkers),
        )

    def instr(self, step: Call | Loop | Map | Invoke | Train | Check | Unpack) -> Instr | None:
        """The instruction of one step (None for a check with nothing to check)."""
        op: Op
        match step:
            case Call(box=box, subs=()):
                op = self.kernel_op(box)
            case Call(box=box, subs=subs):
                plans = [self.plan(sub) for sub in subs]
                op = MorphismKernelOp(self.kernel(box), plans, box.inputs, box.outputs)
            case Loop(box=box, body=body):
                op = PowerOp(self.plan(body), box.n, box.inputs, box.port_names, box.label)
            case Invoke(box=box, body=body):
                n = box.n_domain_inputs
                atoms = (*box.inputs[:n], *(s.atom for s in body.sources))
                op = InvokeOp(self.plan(body), atoms)
            case Map(box=box, body=body):
                sub = self.plan(body)
                op = FunctorOp(box.functor, sub, box.inputs, box.outputs, box.port_names)
            case Train(box=box):
                op = train_op(step, self.plan)
            case Unpack(box=box):
                op = UnpackOp(box.inputs[0], box.outputs)
            case Check():
                subject = f"the output of `{step.label}`"
                checks = [
                    make_check(a, subject, step.span) if a is not None else None for a in step.atoms
                ]
                if not any(checks):
                    return None
                layout = all(a is None or layout_only(a) for a in step.atoms)
                check_op = CheckOp(checks, layout)
                return Instr(check_op, step.ins, (), step.label, step.span, is_check=True)
        return Instr(op, step.ins, step.outs, box.label, box.span)

    def kernel_op(self, box: PrimBox) -> Op:
        """The op of a primitive box without morphism arguments: `ops.kernel_op`, with the
        common case (each wire one array, no packing) recognised without asking `width`."""
        kernel = self.kernel(box)
        for atom in (*box.inputs, *box.outputs):
            carrier = atom.carrier if atom.__class__ is Obj else atom
            if carrier.__class__ is not Carrier or carrier.kind == "List":
                return kernel_op(kernel, box.inputs, box.outputs)
        return (ModalKernelOp if kernel.uses_mode else KernelOp)(kernel, box.inputs)

    def kernel(self, box: PrimBox) -> Kernel:
        """The kernel of a primitive box, from the table's factory; the constant arguments
        are checked against the factory's signature once per primitive and set of names."""
        factory = self.kernels.get(box.name)
        if factory is None:
            raise CatRuntimeError("R0103", f"the primitive `{box.name}` has no kernel", box.span)
        key: tuple[str, tuple[str, ...]] | None = None
        if not box.static:  # most primitives: nothing to copy or sort
            if box.name in self.validated_plain:
                return factory(tuple(box.in_ranks))
            static: dict[str, object] = {}
        else:
            static = dict(box.static)
            key = (box.name, tuple(sorted(static)))
            if key in self.validated:
                return factory(tuple(box.in_ranks), **static)
        try:
            kernel = build_kernel(factory, box.name, static, box.in_ranks)
        except CatRuntimeError as exc:
            raise exc.at(box.span) from None
        if key is None:
            self.validated_plain.add(box.name)
        else:
            self.validated.add(key)
        return kernel

    def constant(self, box: ConstBox) -> list[Any]:
        """The hoisted values of a const box, one per output atom, checked once."""
        return checked_constant(box, self.dtype)
