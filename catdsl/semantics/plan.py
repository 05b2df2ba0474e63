"""A compiled diagram: a flat, topologically ordered list of ops over integer register slots.

The numpy backend (`numpy_backend.py`) binds a schedule into a `Plan` once; running it costs
the ops and little else. Slots hold the diagram's inputs, its named sources (user ports and
params, by name), the hoisted constants and every intermediate wire; structural boxes are slot
aliases and cost nothing. Three loops share the instructions:

- `run`: forward only, registers freed after their last use (`check=True` adds the object
  boundary checks and reports the first box whose output is NaN/inf: the floating-point
  status flags watch the run, and only a raised flag or a refusing box re-runs it with a scan
  after every box, to name the first bad one; `check=False` runs no checks). Such a watched
  run, and every plan it invokes, scans nothing; once a plan has run a few times it runs as
  straight-line code (`semantics.straight`), and once it has run on the same source shapes and
  dtypes without an error, its kernels run their `trusted_run` (no shape checks, no residual)
  and the object checks a validated layout guarantees (`invariants.layout_only`) are skipped.
  Inside a loop (`RunContext.looping`, set by `f ^ n` and `run_steps`) a box whose op
  `defers_scan` (a training step) and whose outputs are all the plan's outputs, i.e. the loop's
  state, is not scanned every step: the loop scans its state when it ends, and a training step
  checks its mean loss, hence the state it got, every step. A plan that is one such unscanned
  instruction from its sources to its outputs (a training step's) calls the op directly;
- `forward`: also records each op's residual on a `Tape` (`execute_taped(..., trusted=True)`
  calls each op's `trusted_forward`, which skips the input validation, for inputs shaped like
  an already validated run: the training objective's later steps);
- `backward`: the reverse plan, visiting only ops on a path from a requested source (the
  "needs gradient" set is computed once per request and cached) and pulling the output
  cotangents back through each op's VJP; fan-out cotangents add up.

Every op follows one protocol: `run(*xs) -> outputs`, `forward(*xs) -> (outputs, residual)`,
`vjp(residual, *dys) -> one cotangent per input (or None)`, plus `differentiable`, one flag per
input; kernel ops add `trusted_forward` and `vjp_for(needed)` (see `semantics.kernel`).
Kernels are called directly; ops that need the run's context (check mode, dim bindings, loop
hooks) read it from the reserved register `CTX`, passed as their first argument.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, Protocol

import numpy as np

from catdsl.diagram.depth import deep, resume_collector
from catdsl.diagram.schedule import Source
from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics import straight
from catdsl.semantics.invariants import Checker, Env, entry_error, nonfinite_error
from catdsl.semantics.kernel import EVALUATION, Mode, StepClock
from catdsl.semantics.sources import gather_sources
from catdsl.semantics.straight import Line, straight_line
from catdsl.semantics.values import accumulate, has_nonfinite, is_differentiable, zeros_like
from catdsl.typesys.types import Atom, Prod

CTX = 0
"""The register slot that holds the run's `RunContext` (read by the ops that use it)."""


NESTING = 100
"""Plans nested deeper than this (shared definitions invoking shared definitions) run under
`diagram.depth.deep`, whose recursion limit leaves room for them."""


class Op(Protocol):
    """What a plan instruction calls. Kernels run as `run(*xs)`; ops with `uses_context`
    (loops, functors, training, checks) get the run's context first: `run(ctx, *xs)`."""

    uses_context: bool

    @property
    def differentiable(self) -> tuple[bool, ...]: ...

    def run(self, *xs: Any) -> tuple: ...

    def forward(self, *xs: Any) -> tuple[tuple, object]: ...

    def vjp(self, residual: object, *dys: Any) -> tuple: ...


@dataclass
class RunContext:
    """Per-run state for the ops that use it: check mode, dim bindings, loop hooks, loss sink,
    the run's count of training steps and the mode kernels that ask for it run in."""

    check: bool = True
    dims: Env = field(default_factory=dict)
    hooks: Any = None  # a `LoopHooks`, used by the first top-level `^ n` loop that runs
    losses: list[float] | None = None  # training ops append each step's mean loss here
    looping: bool = False  # the plan is the body of a loop (see the module docstring)
    clock: StepClock = field(default_factory=StepClock)  # shared with every nested context
    mode: Mode = EVALUATION  # training only inside a training step's loss
    watched: bool = False  # a checked run watched by the flags: no plan scans (`_run_checked`)

    def child(self, looping: bool = False) -> RunContext:
        """The context of a nested plan: same checks, dims, clock, mode and watching, hooks
        used up by the parent."""
        return RunContext(
            self.check,
            self.dims,
            None,
            self.losses,
            looping,
            clock=self.clock,
            mode=self.mode,
            watched=self.watched,
        )


@dataclass(frozen=True, init=False)
class Instr:
    """One instruction: an op reading `ins` slots and writing fresh `outs` slots."""

    op: Op
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    label: str
    span: Span | None
    is_check: bool = False

    def __init__(
        self,
        op: Op,
        ins: tuple[int, ...],
        outs: tuple[int, ...],
        label: str,
        span: Span | None,
        is_check: bool = False,
    ) -> None:
        # One dict update instead of the frozen dataclass's `object.__setattr__` per field:
        # binding makes one instruction per box.
        self.__dict__.update(op=op, ins=ins, outs=outs, label=label, span=span, is_check=is_check)


class Tape:
    """What `Plan.forward` records for `Plan.backward`: residuals and the sources' values."""

    __slots__ = ("outputs", "residuals", "sources")

    def __init__(self, sources: list, residuals: list) -> None:
        self.sources, self.residuals = sources, residuals
        self.outputs: dict[int, tuple] = {}  # of multi-output instructions


class Plan:
    """A compiled diagram `dom -> cod` (see the module docstring)."""

    def __init__(
        self,
        *,
        dom: Prod,
        cod: Prod,
        name: str | None,
        template: list,
        in_slots: tuple[int, ...],
        sources: tuple[Source, ...],
        source_slots: tuple[int, ...],
        out_slots: tuple[int, ...],
        instrs: list[Instr],
        slot_atoms: Sequence[Atom | None],
        source_checkers: tuple[Checker | None, ...],
    ):
        self.dom, self.cod, self.name = dom, cod, name
        self.sources = sources
        self.instrs = instrs
        self._template = template
        self._slots = in_slots + source_slots
        first = self._slots[0] if self._slots else 1
        contiguous = self._slots == tuple(range(first, first + len(self._slots)))
        self._source_span = slice(first, first + len(self._slots)) if contiguous else None
        self._n_inputs = len(in_slots)
        self._out_slots = out_slots
        self._outputs = _getter(out_slots)
        self._slot_atoms = slot_atoms
        self._source_checkers = source_checkers  # one per positional source (None: no check)
        self._plain = [i for i, ins in enumerate(instrs) if not ins.is_check]
        subs = [sub for i in instrs if isinstance(sub := getattr(i.op, "sub", None), Plan)]
        self.nesting: int = 1 + max((sub.nesting for sub in subs), default=0)
        self._reverse: dict[tuple[bool, ...], tuple] = {}
        self._last_reverse: tuple = (None, ((), ()))  # the last request and its reverse plan
        self._validated: set[tuple] = set()  # source layouts a watched checked run passed
        self._watched_runs = 0  # its code is written out after `straight.WRITE_AFTER` of them

    # What a reverse pass reads, worked out when first asked: a plan that is only run (a
    # network of a thousand params called once) never asks.
    @cached_property
    def source_differentiable(self) -> tuple[bool, ...]:
        """Whether cotangents flow along each positional source (inputs, then named ones)."""
        atoms = self._slot_atoms
        return tuple(_differentiable(atoms[s]) for s in self._slots)

    @cached_property
    def _source_index(self) -> dict[str, int]:
        """The position of each named source among the positional ones."""
        first = self._n_inputs
        return {s.name: first + i for i, s in enumerate(self.sources)}

    # The loops' step tuples, each built on first use (a plan that is only run never builds
    # its taped ones); a cached property is a plain attribute read afterwards.
    @cached_property
    def _slot_differentiable(self) -> list[bool]:
        """Whether cotangents flow along each slot (asked by the first reverse pass only)."""
        return [_differentiable(a) for a in self._slot_atoms]

    @cached_property
    def _fast(self) -> tuple:
        return self._steps(self._plain, "run")

    @cached_property
    def _fast_taped(self) -> tuple:
        return self._steps(self._plain, "forward")

    @cached_property
    def _trusted_taped(self) -> tuple:
        return self._steps(self._plain, "trusted_forward")

    @cached_property
    def _checked(self) -> tuple:
        return self._steps(range(len(self.instrs)), "run", scan=True)

    @cached_property
    def _checked_unscanned(self) -> tuple:
        return self._steps(range(len(self.instrs)), "run")

    @cached_property
    def _checked_loop(self) -> tuple:
        return self._steps(range(len(self.instrs)), "run", scan=True, looping=True)

    @cached_property
    def _checked_taped(self) -> tuple:
        return self._steps(range(len(self.instrs)), "forward", scan=True)

    @cached_property
    def _straight_checked(self) -> Callable | None:
        return self._straight(trusted=False)

    @cached_property
    def _straight_trusted(self) -> Callable | None:
        return self._straight(trusted=True)

    @cached_property
    def _fast_direct(self) -> Callable | None:
        return self._direct_call(self._fast)

    @cached_property
    def _checked_loop_direct(self) -> Callable | None:
        return self._direct_call(self._checked_loop)

    def __repr__(self) -> str:
        name = f"{self.name} : " if self.name else ""
        return f"<Plan {name}{self.dom} -> {self.cod}, {len(self.instrs)} instructions>"

    # ---------------------------------------------------------------- public API
    def _room(self, what: str) -> AbstractContextManager[None]:
        """Room for deep recursion when this plan nests many calls (see `diagram.depth`)."""
        return deep(what) if self.nesting > NESTING else nullcontext()

    def run(
        self,
        inputs: Sequence = (),
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        check: bool = True,
        hooks: Any = None,
    ) -> tuple:
        """Run forward only. `check` validates objects and reports the first box whose output
        is NaN or infinite (see `_run_checked`); `hooks` (a `LoopHooks`) drive the first
        top-level `^ n` loop (progress, checkpoints)."""
        values = self.gather(inputs, ports, params)
        ctx = RunContext(check, {}, hooks)
        if self.nesting > NESTING:
            with deep("running"):
                return self._run(values, ctx)
        return self._run(values, ctx)

    def _run(self, values: Sequence, ctx: RunContext) -> tuple:
        """`run` from positional source values (see `run`)."""
        if not ctx.check:
            return self.execute(values, ctx)
        if ctx.hooks is not None:  # a run with side effects is run once, scanned
            with np.errstate(all="ignore"):
                self.check_sources(values, ctx.dims)
                return self.execute(values, ctx)
        return self._run_checked(values, ctx)

    def _run_checked(self, values: Sequence, ctx: RunContext) -> tuple:
        """A checked run that scans no box: the objects' checks run where values enter them,
        and the floating-point status flags (overflow, invalid, division by zero) stand in for
        a NaN/inf scan after every box. Only when a flag is raised or a box refuses its input
        does the run start again with every box scanned, which names the first box whose
        output is not finite (R0415) or gives the first failing stage's error, as a fully
        scanned run would; a flag that left no NaN or inf behind then just costs the rerun.
        The sources are checked first, in the same error-state context (one per call): a
        refused source is reported as it is, and the flags its checks raise are dropped (they
        say nothing about the run)."""
        raised: list[str] = []
        ctx.watched = True
        with np.errstate(
            call=lambda kind, _flag: raised.append(kind),
            over="call",
            invalid="call",
            divide="call",
            under="ignore",
        ):
            self.check_sources(values, ctx.dims)
            raised.clear()
            dims = dict(ctx.dims)
            try:
                outputs = self.execute(values, ctx)
            except CatRuntimeError:
                raised.append("refused")
            except Exception:  # a trusted kernel given what validation refuses: the rerun explains
                raised.append("failed")
        if not raised:
            return outputs
        with np.errstate(all="ignore"):
            return self.execute(values, RunContext(ctx.check, dims, ctx.hooks))

    def forward(
        self,
        inputs: Sequence = (),
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        check: bool = False,
    ) -> tuple[tuple, Tape]:
        """Run forward and record the tape that `backward` needs."""
        values = self.gather(inputs, ports, params)
        ctx = RunContext(check, {})
        if check:
            self.check_sources(values, ctx.dims)
        with self._room("running"):
            return self.execute_taped(values, ctx)

    def backward(self, tape: Tape, output_cotangents: Sequence, wrt: set[str] | frozenset) -> dict:
        """Cotangents of the requested sources: `{name: array}` for ports and params, and
        `"inputs"` -> one cotangent per input (None for integer wires) when asked for."""
        unknown = set(wrt) - set(self._source_index) - {"inputs"}
        if unknown:
            raise KeyError(f"nothing named {sorted(unknown)} feeds `{self.name or 'this plan'}`")
        need = [False] * len(self._slots)
        if "inputs" in wrt:
            need[: self._n_inputs] = [True] * self._n_inputs
        for name in wrt - {"inputs"}:
            need[self._source_index[name]] = True
        with self._room("differentiating"):
            cots = self.pull_back(tape, output_cotangents, tuple(need))
        result: dict[str, Any] = {}
        for name in wrt - {"inputs"}:
            pos = self._source_index[name]
            result[name] = _or_zeros(cots[pos], tape.sources[pos])
        if "inputs" in wrt:
            result["inputs"] = tuple(
                _or_zeros(cots[i], tape.sources[i]) if self.source_differentiable[i] else None
                for i in range(self._n_inputs)
            )
        return result

    # ---------------------------------------------------------------- positional interface
    def gather(
        self, inputs: Sequence, ports: Mapping[str, Any] | None, params: Mapping[str, Any] | None
    ) -> list:
        """The positional source values: the inputs, then each named source."""
        return gather_sources(self.name, self.dom, self.sources, inputs, ports, params)

    def check_sources(self, values: Sequence, env: Env) -> None:
        """Validate the inputs, ports and params where they enter their objects."""
        checkers = self._source_checkers
        for position, (checker, value) in enumerate(zip(checkers, values, strict=True)):
            if checker is not None:
                problem = checker(value, env)
                if problem is not None:
                    raise self._entry_error(position, problem)

    def _entry_error(self, position: int, problem: tuple[str, str]) -> CatRuntimeError:
        """The error of a positional source its check refused: an input by its number, a port
        or param by its name (worked out only when one is refused)."""
        if position < self._n_inputs:
            where = f"`{self.name}`" if self.name else "the morphism"
            subject, atom = f"input {position + 1} of {where}", self.dom.atoms[position]
        else:
            source = self.sources[position - self._n_inputs]
            subject, atom = f"the {source.kind} `{source.name}`", source.atom
        return entry_error(problem, subject, atom, None)

    def execute(self, values: Sequence, ctx: RunContext) -> tuple:
        """Run forward from positional source values (used by loops and functors)."""
        if ctx.watched and ctx.check:  # nothing scanned: the caller reruns scanned if need be
            return self._execute_watched(values, ctx)
        if not ctx.check:
            steps, direct = self._fast, self._fast_direct
        elif ctx.looping:
            steps, direct = self._checked_loop, self._checked_loop_direct
        else:
            steps, direct = self._checked, None
        if direct is not None:
            try:
                return direct(ctx, *values)
            except CatRuntimeError as exc:
                raise exc.at(self.instrs[steps[0][5]].span) from None
        return self._execute_steps(steps, values, ctx)

    def _execute_watched(self, values: Sequence, ctx: RunContext) -> tuple:
        """A watched run (see `_run_checked`): the loop for the first runs, then the written-out
        code, trusted on a source layout this plan has already run without an error (its shape
        checks then passed; its values are watched by the flags on every run)."""
        self._watched_runs += 1
        layout = _layout(values)
        trusted = layout is not None and layout in self._validated
        written = None
        if self._watched_runs > straight.WRITE_AFTER:
            written = self._straight_trusted if trusted else self._straight_checked
        if written is None:
            outputs = self._execute_steps(self._checked_unscanned, values, ctx)
        else:
            outputs = written(ctx, *values)
        if layout is not None and not trusted:
            if len(self._validated) >= LAYOUTS:
                self._validated.clear()
            self._validated.add(layout)
        return outputs

    def _execute_steps(self, steps: tuple, values: Sequence, ctx: RunContext) -> tuple:
        """Run `steps` over the registers (see `execute`)."""
        regs, index = self._registers(values, ctx), 0
        try:
            for run, args, out, outs, frees, index, scan in steps:
                ys = run(*args(regs))
                if out:
                    regs[out] = ys[0]
                else:
                    for slot, y in zip(outs, ys, strict=False):
                        regs[slot] = y
                if scan and any(map(has_nonfinite, ys)):
                    raise nonfinite_error(self.instrs[index].label, ys, None)
                for slot in frees:
                    regs[slot] = None
        except CatRuntimeError as exc:
            raise exc.at(self.instrs[index].span) from None
        return self._outputs(regs)

    def execute_taped(
        self, values: Sequence, ctx: RunContext, trusted: bool = False
    ) -> tuple[tuple, Tape]:
        """Run forward from positional source values, recording residuals; `trusted` skips the
        kernels' input validation (for values shaped like an already validated run's)."""
        regs = self._registers(values, ctx)
        tape = Tape(list(values), [None] * len(self.instrs))
        residuals, outputs, index = tape.residuals, tape.outputs, 0
        if ctx.check:
            steps = self._checked_taped
        else:
            steps = self._trusted_taped if trusted else self._fast_taped
        try:
            for forward, args, out, outs, frees, index, scan in steps:
                ys, residuals[index] = forward(*args(regs))
                if out:
                    regs[out] = ys[0]
                else:
                    for slot, y in zip(outs, ys, strict=False):
                        regs[slot] = y
                    if len(ys) > 1:
                        outputs[index] = ys
                if scan and any(map(has_nonfinite, ys)):
                    raise nonfinite_error(self.instrs[index].label, ys, None)
                for slot in frees:
                    regs[slot] = None
        except CatRuntimeError as exc:
            raise exc.at(self.instrs[index].span) from None
        return self._outputs(regs), tape

    def pull_back(
        self, tape: Tape, dys: Sequence, need: tuple[bool, ...], seeds: Sequence | None = None
    ) -> list:
        """One cotangent per positional source (None where none flows), for `need`. `seeds`
        (one per positional source, or None) start the sources' sums: an invoked plan adds its
        cotangents onto its caller's, in the order its inlined body would."""
        cot: list = [None] * len(self._template)
        if seeds is not None:
            for slot, seed in zip(self._slots, seeds, strict=True):
                cot[slot] = seed
        for slot, dy in zip(self._out_slots, dys, strict=True):
            cot[slot] = accumulate(cot[slot], dy)
        residuals = tape.residuals
        steps, wanted = self._reverse_plan(need)
        for vjp, out, outs, targets, index, seeded in steps:
            if out:
                dy = cot[out]
                if dy is None:
                    continue
                cot[out] = None
                if seeded is not None:
                    _seeded_pull(vjp, residuals[index], (dy,), targets, seeded, cot)
                    continue
                dxs = vjp(residuals[index], dy)
            else:
                dy = [cot[s] for s in outs]
                if all(d is None for d in dy):
                    continue
                produced = tape.outputs[index]
                dy = [zeros_like(y) if d is None else d for d, y in zip(dy, produced, strict=True)]
                for slot in outs:
                    cot[slot] = None
                if seeded is not None:
                    _seeded_pull(vjp, residuals[index], dy, targets, seeded, cot)
                    continue
                dxs = vjp(residuals[index], *dy)
            for j, slot in targets:
                dx = dxs[j]
                if dx is not None:
                    total = cot[slot]
                    cot[slot] = dx if total is None else accumulate(total, dx)
        result: list = [None] * len(self._slots)
        for position, slot in wanted:
            result[position] = cot[slot]
        return result

    # ---------------------------------------------------------------- internals
    def _registers(self, values: Sequence, ctx: RunContext) -> list:
        """The registers of one run: the template, the context and the source values."""
        regs = list(self._template)
        regs[CTX] = ctx
        span = self._source_span
        if span is not None and len(values) == span.stop - span.start:
            regs[span] = values
            return regs
        for slot, value in zip(self._slots, values, strict=True):
            regs[slot] = value
        return regs

    def _steps(
        self, order: Sequence[int], method: str, scan: bool = False, looping: bool = False
    ) -> tuple:
        """The loop's tuples (call, argument getter, outs, slots to free afterwards, index,
        whether to scan the outputs for NaN/inf: `scan`, except for deferred loop state), built
        with the cyclic collector paused (they all stay alive)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._build_steps(order, method, scan, looping)
        finally:
            if collecting:
                resume_collector()

    def _build_steps(self, order: Sequence[int], method: str, scan: bool, looping: bool) -> tuple:
        instrs = self.instrs
        last_use: dict[int, int] = {}
        for i in order:
            instr = instrs[i]
            for slot in instr.ins:
                last_use[slot] = i
            for slot in instr.outs:
                last_use.setdefault(slot, i)
        keep = {CTX, *self._out_slots}
        frees: dict[int, list[int]] = {}
        for slot, i in last_use.items():
            if slot not in keep:
                frees.setdefault(i, []).append(slot)
        steps: list[tuple] = []
        append = steps.append
        for i in order:
            instr = instrs[i]
            op, outs = instr.op, instr.outs
            ins = (CTX, *instr.ins) if op.uses_context else instr.ins
            call = getattr(op, method, None) or op.forward  # trusted: kernels only
            scanned = scan and not (looping and self._is_deferred_state(instr))
            freed = frees.get(i)
            append((call, _getter(ins), _single(outs), outs, tuple(freed or ()), i, scanned))
        return tuple(steps)

    def _straight(self, trusted: bool) -> Callable | None:
        """The checked run without scans as one generated function `(ctx, *sources) ->
        outputs` (`semantics.straight`); `trusted` runs each kernel's `trusted_run` where it
        has one (else only those of kernels that validate nothing). None for a plan too long
        to write out."""
        if len(self.instrs) > straight.MAX_LINES:
            return None
        lines = []
        for instr in self.instrs:
            op = instr.op
            if trusted and getattr(op, "layout_only", False):
                continue  # what it checks, the validated layout and the flags guarantee
            ins = (CTX, *instr.ins) if op.uses_context else instr.ins
            fast = getattr(op, "trusted_run", None) if len(instr.outs) == 1 else None
            if not trusted and getattr(op, "validates", True):
                fast = None
            line = (
                Line(op.run, ins, instr.outs) if fast is None else Line(fast, ins, instr.outs, True)
            )
            lines.append(line)
        keep = frozenset((CTX, *self._out_slots))
        return straight_line(lines, (CTX, *self._slots), self._template, self._out_slots, keep)

    def _direct_call(self, steps: tuple) -> Callable | None:
        """`call(ctx, *sources) -> outputs` when `steps` is one unscanned instruction reading
        exactly the plan's sources and writing exactly its outputs (a training step's plan),
        which then runs without registers; else None."""
        if len(steps) != 1:
            return None
        call, _, _, _, _, index, scan = steps[0]
        instr = self.instrs[index]
        if scan or instr.ins != self._slots or instr.outs != self._out_slots:
            return None
        return call if instr.op.uses_context else lambda ctx, *xs: call(*xs)

    def defers_scan(self) -> bool:
        """Whether, inside a loop, this plan's outputs go unscanned (each is written by an op
        that defers its scan): an invoked plan then defers as its inlined body would."""
        writers = {slot: i.op for i in self.instrs for slot in i.outs}
        ops = [writers.get(slot) for slot in self._out_slots]
        return bool(ops) and all(getattr(op, "defers_scan", False) for op in ops)

    def _is_deferred_state(self, instr: Instr) -> bool:
        """Whether a loop may skip scanning this instruction's outputs every step: its op
        defers the scan and every output is one of the plan's outputs (the loop's state)."""
        return getattr(instr.op, "defers_scan", False) and set(instr.outs) <= set(self._out_slots)

    def _reverse_plan(self, need: tuple[bool, ...]) -> tuple[tuple, tuple]:
        """The reverse steps of a request and the (position, slot) pairs of the sources it
        wants; the last request's are kept, so a caller repeating its `need` tuple (training,
        loops) pays no lookup."""
        request, found = self._last_reverse
        if request is not need:
            wanted = tuple((i, s) for i, s in enumerate(self._slots) if need[i])
            found = (self._reverse_steps(need), wanted)
            self._last_reverse = (need, found)
        return found

    def _reverse_steps(self, need: tuple[bool, ...]) -> tuple:
        """The reverse plan for one request, computed once: the steps (vjp, single output slot
        or 0, outs, targets, index, seeded) of the ops fed by a needed source; `seeded` is None,
        or for an op with `vjp_seeded` (an invoked plan) which inputs continue their slot's sum
        (the first input reading each needed slot)."""
        steps = self._reverse.get(need)
        if steps is not None:
            return steps
        needs = [False] * len(self._template)
        for slot, wanted in zip(self._slots, need, strict=True):
            needs[slot] = wanted and self._slot_differentiable[slot]
        kept = []
        for index, instr in enumerate(self.instrs):
            flags = instr.op.differentiable
            in_need = tuple(
                needs[s] and (flags[j] if j < len(flags) else True) for j, s in enumerate(instr.ins)
            )
            if any(in_need) and any(self._slot_differentiable[s] for s in instr.outs):
                for slot in instr.outs:
                    needs[slot] = self._slot_differentiable[slot]
                targets = tuple((j, s) for j, s in enumerate(instr.ins) if in_need[j])
                vjp_for = getattr(instr.op, "vjp_for", None)  # kernels may skip unneeded work
                vjp = vjp_for(in_need) if vjp_for is not None else instr.op.vjp
                seeded = None
                vjp_seeded = getattr(instr.op, "vjp_seeded", None)
                if vjp_seeded is not None:  # seed each needed slot at its first input only
                    firsts = {s: j for j, s in reversed(targets)}
                    seeded = tuple(firsts.get(s) == j for j, s in enumerate(instr.ins))
                    vjp = vjp_seeded
                kept.append((vjp, _single(instr.outs), instr.outs, targets, index, seeded))
        steps = self._reverse[need] = tuple(reversed(kept))
        return steps


def _seeded_pull(
    vjp: Callable, residual: object, dys: Sequence, targets: tuple, seeded: tuple, cot: list
) -> None:
    """Pull back through an invoked plan: it continues the sum of each slot it reads first
    (its seed, replaced by the result), so sums come out as its inlined body's; a slot read
    again by a later input adds that input's cotangent as usual."""
    seeds: list = [None] * len(seeded)
    for j, slot in targets:
        if seeded[j]:
            seeds[j] = cot[slot]
    dxs = vjp(residual, seeds, *dys)
    for j, slot in targets:
        dx = dxs[j]
        if dx is None:
            continue
        if seeded[j]:
            cot[slot] = dx
        else:
            total = cot[slot]
            cot[slot] = dx if total is None else accumulate(total, dx)


LAYOUTS = 32
"""How many validated source layouts a plan remembers (it forgets them all past that)."""


def _layout(values: Sequence) -> tuple | None:
    """The shapes and dtypes of a run's source values, or None when one is not an array (a
    record, a list, an absent `Option`): a layout a watched run validated may run trusted."""
    try:
        return tuple((v.shape, v.dtype) for v in values)
    except AttributeError:
        return None


def _differentiable(atom: Atom | None) -> bool:
    """Whether cotangents flow along a slot of `atom` (None: the reserved slot)."""
    return atom is not None and is_differentiable(atom)


def _single(outs: tuple[int, ...]) -> int:
    """The one output slot of a single-output instruction, else 0 (slot 0 is the context)."""
    return outs[0] if len(outs) == 1 else 0


def _getter(slots: tuple[int, ...]) -> Callable[[list], tuple]:
    """A fast `registers -> tuple of the values in slots`."""
    if len(slots) >= 2:
        return itemgetter(*slots)
    if len(slots) == 1:
        (slot,) = slots
        return lambda regs: (regs[slot],)
    return lambda regs: ()


def _or_zeros(cotangent: object, value: object) -> object:
    return zeros_like(value) if cotangent is None else cotangent
