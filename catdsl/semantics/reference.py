"""A slow, obvious interpreter of the diagram IR: the meaning the fast plans are tested against.

It walks a diagram box by box, micrograd-style: every box's forward pass records, on a tape,
the wires it read, the wires it wrote and how to pull cotangents back through it; the reverse
pass replays the tape backwards, adding up the cotangents of wires used more than once. There
are no slots, no aliasing, no hoisting and no compiled plan: a `ref` is evaluated in place,
`f ^ n` evaluates its body n times, `List(f)` evaluates its body on the whole batch (kernels are
batch-polymorphic), and a training box computes its objective with a reverse pass of its own.
Primitives use the kernels of the table it is given, as the numpy backend does. It validates
nothing (no object checks, no NaN scan): it computes values, for comparison. Like a plan's run,
each run counts its training steps from 0 and evaluates a step's loss in training mode (the
kernels that ask, `dropout`, are told; see `semantics.kernel.Mode`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.ir import (
    INPUT,
    OUTPUT,
    Box,
    ConstBox,
    Diagram,
    FunctorBox,
    ParamBox,
    PortBox,
    PowerBox,
    PrimBox,
    RefBox,
    StructBox,
    TrainBox,
)
from catdsl.semantics import optimizers
from catdsl.semantics.constants import constant_values
from catdsl.semantics.kernel import EVALUATION, KernelTable, Mode, StepClock
from catdsl.semantics.values import (
    accumulate,
    elements_of,
    join_components,
    pack,
    split_components,
    width,
    zeros_like,
)
from catdsl.typesys.family_spec import FamilyRole
from catdsl.typesys.types import Atom

PullBack = Callable[[list[Any]], Sequence[Any]]


class Var:
    """A value on a wire, and the cotangent gathered for it in the reverse pass."""

    __slots__ = ("grad", "value")

    def __init__(self, value: Any) -> None:
        self.value: Any = value
        self.grad: Any = None


@dataclass
class Tape:
    """What the forward pass did, in order: (inputs, outputs, pull-back) per box."""

    entries: list[tuple[list[Var], list[Var], PullBack]]

    def record(self, ins: list[Var], outs: list[Var], pull_back: PullBack) -> None:
        self.entries.append((ins, outs, pull_back))

    def backward(self) -> None:
        """Pull the outputs' cotangents back to every input, newest box first. A box some of
        whose outputs got no cotangent sees zeros there."""
        for ins, outs, pull_back in reversed(self.entries):
            dys = [o.grad for o in outs]
            if all(d is None for d in dys):
                continue
            dys = [zeros_like(o.value) if d is None else d for d, o in zip(dys, outs, strict=True)]
            for x, dx in zip(ins, pull_back(dys), strict=True):
                if dx is not None:
                    x.grad = accumulate(x.grad, dx)


class Reference:
    """Evaluates diagrams and their reverse pass with the kernels of `kernels`, in `dtype`."""

    def __init__(self, kernels: KernelTable, dtype: DTypeLike = np.float64):
        self.kernels = kernels
        self.dtype = np.dtype(dtype)
        self.clock = StepClock()  # the training steps of the current run
        self.mode = EVALUATION  # training while a step's loss is evaluated

    # ---------------------------------------------------------------- entry points
    def run(
        self,
        diagram: Diagram,
        inputs: Sequence[Any] = (),
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[Any, ...]:
        """The outputs of `diagram` on `inputs`, ports and params by name."""
        self.clock = StepClock()
        return self.outputs(diagram, inputs, ports, params)

    def outputs(
        self,
        diagram: Diagram,
        inputs: Sequence[Any] = (),
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[Any, ...]:
        """`run` within the current run (its count of training steps goes on)."""
        sources = _vars({**(ports or {}), **(params or {})})
        outs = self.evaluate(diagram, [Var(x) for x in inputs], {}, sources, Tape([]))
        return tuple(o.value for o in outs)

    def vjp(
        self,
        diagram: Diagram,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        cotangents: Sequence[Any],
        wrt: set[str],
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The outputs and the cotangents of the sources in `wrt` (names, and `"inputs"` for
        one per input) for the output `cotangents`; a source nothing flows to gets zeros."""
        self.clock = StepClock()
        sources = _vars({**(ports or {}), **(params or {})})
        ins = [Var(x) for x in inputs]
        tape = Tape([])
        outs = self.evaluate(diagram, ins, {}, sources, tape)
        for out, dy in zip(outs, cotangents, strict=True):
            out.grad = accumulate(out.grad, dy)
        tape.backward()
        grads: dict[str, Any] = {
            name: _or_zeros(sources[name]) for name in wrt - {"inputs"} if name in sources
        }
        if "inputs" in wrt:
            grads["inputs"] = tuple(_or_zeros(x) for x in ins)
        return tuple(o.value for o in outs), grads

    # ---------------------------------------------------------------- the walk
    def evaluate(
        self,
        diagram: Diagram,
        ins: list[Var],
        ports: Mapping[str, Var],
        sources: dict[str, Var],
        tape: Tape,
    ) -> list[Var]:
        """The output wires of `diagram` fed by `ins`; its params and ports come from `ports`
        (a use's port wires) or else from the run's `sources`."""
        wires: dict[tuple[str, int], Var] = {(INPUT, i): x for i, x in enumerate(ins)}
        for box in diagram.boxes():
            if box.id == INPUT:
                continue
            xs = [wires[(w.box, w.port)] for w in diagram.incoming(box.id)]
            if box.id == OUTPUT:
                return xs
            for port, y in enumerate(self.box(box, xs, ports, sources, tape)):
                wires[(box.id, port)] = y
        raise ValueError("a diagram without an output box")

    def box(
        self,
        box: Box,
        xs: list[Var],
        ports: Mapping[str, Var],
        sources: dict[str, Var],
        tape: Tape,
    ) -> list[Var]:
        """The output wires of one box."""
        match box:
            case ParamBox(name=name) | PortBox(name=name):
                if name in ports:
                    return [ports[name]]
                if name not in sources:
                    raise KeyError(f"no value for the {box.kind} `{name}`")
                return [sources[name]]
            case StructBox(structure="unpack"):
                return self.unpack(box, xs[0], tape)
            case StructBox(structure="swap", split=split):
                return xs[split:] + xs[:split]
            case StructBox(structure="copy"):
                return xs * (len(box.outputs) // max(len(xs), 1))
            case StructBox(structure="discard"):
                return []
            case ConstBox():
                return [Var(v) for v in self.constant(box)]
            case RefBox(sub=Diagram() as sub):
                n = box.n_domain_inputs
                inner = dict(zip(box.port_names, xs[n:], strict=True))
                return self.evaluate(sub, xs[:n], inner, sources, tape)
            case PrimBox():
                return self.primitive(box, xs, tape)
            case PowerBox():
                return self.power(box, xs, tape)
            case FunctorBox():
                return self.functor(box, xs, tape)
            case TrainBox():
                return [Var(y) for y in self.train(box, [x.value for x in xs])]
        raise ValueError(f"the reference cannot evaluate a box of kind {box.kind!r}")

    def primitive(self, box: PrimBox, xs: list[Var], tape: Tape) -> list[Var]:
        """A kernel on the arrays of its wires (wires of lists of products hold several)."""
        kernel = self.kernels[box.name](tuple(box.in_ranks), **dict(box.static or {}))
        flat = join_components([x.value for x in xs], box.inputs)
        morphisms = [_Applied(self, sub) for sub in box.subs]
        ys, residual = (
            kernel.forward_in(self.mode, *flat)
            if kernel.uses_mode
            else kernel.forward(*morphisms, *flat)
        )
        outs = [Var(y) for y in split_components(ys, box.outputs)]

        def pull_back(dys: list[Any]) -> list[Any]:
            dxs = kernel.vjp(residual, *join_components(dys, box.outputs))
            grouped = split_components(dxs, box.inputs)
            return [_none_if_empty(g) for g in grouped]

        tape.record(xs, outs, pull_back)
        return outs

    def unpack(self, box: StructBox, x: Var, tape: Tape) -> list[Var]:
        """An object over a product taken apart: one wire per part; the parts' cotangents
        are packed again (zeros for a part that got none)."""
        whole = box.inputs[0]
        outs = [Var(v) for v in split_components(_flat(x.value, (whole,)), box.outputs)]

        def pull_back(dys: list[Any]) -> list[Any]:
            filled = [
                zeros_like(o.value) if d is None else d for d, o in zip(dys, outs, strict=True)
            ]
            return [tuple(join_components(filled, box.outputs))]

        tape.record([x], outs, pull_back)
        return outs

    def power(self, box: PowerBox, xs: list[Var], tape: Tape) -> list[Var]:
        """`f ^ n`: the body evaluated n times on its own tapes; the port cotangents of all
        iterations add up before they leave the box."""
        n_dom = box.n_domain_inputs
        state = [x.value for x in xs[:n_dom]]
        extra = [x.value for x in xs[n_dom:]]
        runs: list[tuple[list[Var], list[Var], list[Var], Tape]] = []
        for _ in range(box.n):
            run = self.nested(box.sub, state, box.port_names, extra)
            runs.append(run)
            state = [o.value for o in run[2]]
        outs = [Var(s) for s in state]

        def pull_back(dys: list[Any]) -> list[Any]:
            d_state: list[Any] = list(dys)
            d_ports: list[Any] = [None] * len(extra)
            for run in reversed(runs):
                ins, port_vars, results, inner = run
                for out, dy in zip(results, d_state, strict=True):
                    out.grad = accumulate(out.grad, dy)
                inner.backward()
                d_state = [x.grad for x in ins]
                d_ports = [accumulate(a, p.grad) for a, p in zip(d_ports, port_vars, strict=True)]
                _clear(run)
            return [*d_state, *d_ports]

        tape.record(xs, outs, pull_back)
        return outs

    def functor(self, box: FunctorBox, xs: list[Var], tape: Tape) -> list[Var]:
        """`List(f)`: the body on the whole batch, element components unpacked and packed
        again; `Option(f)`: the body on the value, None staying None."""
        if box.functor == "Option" and xs[0].value is None:
            return [Var(None)]
        elem_in, elem_out = elements_of(box.inputs[0]), elements_of(box.outputs[0])
        inputs = split_components(_flat(xs[0].value, elem_in), elem_in)
        extra = [x.value for x in xs[box.n_domain_inputs :]]
        ins, port_vars, results, inner = self.nested(box.sub, inputs, box.port_names, extra)
        out = Var(pack(join_components([r.value for r in results], elem_out), elem_out))

        def pull_back(dys: list[Any]) -> list[Any]:
            cots = split_components(_flat(dys[0], elem_out), elem_out)
            for result, dy in zip(results, cots, strict=True):
                result.grad = accumulate(result.grad, dy)
            inner.backward()
            d_elems = [x.grad for x in ins]
            d_dom = None
            if any(d is not None for d in d_elems):
                d_dom = pack(join_components(d_elems, elem_in), elem_in)
            return [d_dom, *(p.grad for p in port_vars)]

        tape.record(xs, [out], pull_back)
        return [out]

    def nested(
        self, sub: Diagram, inputs: Sequence[Any], port_names: Sequence[str], extra: Sequence[Any]
    ) -> tuple[list[Var], list[Var], list[Var], Tape]:
        """One evaluation of a loop's or functor's body on fresh wires: its input wires, port
        wires, output wires and tape. The body's params and ports are the box's ports."""
        ins = [Var(x) for x in inputs]
        port_vars = [Var(x) for x in extra]
        inner = Tape([])
        ports = dict(zip(port_names, port_vars, strict=True))
        results = self.evaluate(sub, ins, ports, {}, inner)
        return ins, port_vars, results, inner

    # ---------------------------------------------------------------- constants and training
    def constant(self, box: ConstBox) -> list[Any]:
        """A const box's values, one per output atom, in this interpreter's dtype."""
        return constant_values(box, self.dtype)

    def train(self, box: TrainBox, xs: list[Any]) -> tuple[Any, ...]:
        """One training box: initialise a state, read its params, evaluate the mean loss, or
        take one update step from the full-batch gradient."""
        spec, optimizer = box.spec, box.spec.optimizer
        if spec.role is FamilyRole.MEAN_LOSS:
            return (self.objective(box, xs[0], gradient=False)[0],)
        assert optimizer is not None, "every other family is an optimizer's"
        if spec.role is FamilyRole.INIT:
            params = dict(zip(box.params, xs, strict=True))
            return optimizers.initial_state(optimizer, params, box.hyper)
        if spec.role is FamilyRole.READ:
            return (xs[0]["params"],)
        if spec.role is FamilyRole.COUNT:
            return (xs[0]["step"],)
        rates = tuple(optimizers.hyperparameters(optimizer, box.hyper, box.span).values())
        opts = optimizers.options(optimizer, box.hyper, box.schedule, box.span)
        if opts.batch is not None:
            assert box.data is not None, "the checker refuses `batch` without data"
            count = int(np.shape(join_components(self.outputs(box.data), box.data.cod.atoms)[0])[0])

            def gradient(
                params: Mapping[str, Any], rows: np.ndarray, update: int
            ) -> tuple[np.ndarray, dict]:
                mode = Mode(training=True, step=update)
                return self.objective(box, params, mode=mode, rows=rows)

            state, _ = optimizers.run_epoch(optimizer, xs[0], rates, opts, count, gradient)
            return (state,)
        self.clock.steps += 1
        mode = Mode(training=True, step=self.clock.steps)
        grads = self.objective(box, optimizers.params_of(optimizer, xs[0]), mode=mode)[1]
        if box.only:
            grads = {name: grads[name] for name in box.only}
        return (optimizers.update(optimizer, xs[0], grads, rates, opts),)

    def objective(
        self,
        box: TrainBox,
        params: Mapping[str, Any],
        gradient: bool = True,
        mode: Mode = EVALUATION,
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The mean loss over the training data (or its examples `rows`) at `params`, and its
        gradient: the loss on the whole batch in `mode`, pulled back with the cotangent 1/N per
        example."""
        loss = box.loss
        assert loss is not None, "a training box that evaluates its loss holds one"
        user_ports = [p for p in loss.ports if p.kind != "param"]
        elements = (*loss.dom.atoms, *(p.atom for p in user_ports))
        count: int | None = None
        columns: list[Any] = []
        if box.data is not None:
            flat = join_components(self.outputs(box.data), box.data.cod.atoms)
            if rows is not None:
                flat = tuple(column[rows] for column in flat)
            columns = split_components(flat, elements)
            count = int(np.shape(flat[0])[0])
        n = len(loss.dom)
        sources = _vars({p.name: columns[n + i] for i, p in enumerate(user_ports)})
        param_vars = {name: Var(value) for name, value in params.items()}
        sources.update(param_vars)
        tape = Tape([])
        outer, self.mode = self.mode, mode
        try:
            (out,) = self.evaluate(loss, [Var(c) for c in columns[:n]], {}, sources, tape)
        finally:
            self.mode = outer
        value = out.value
        mean = np.asarray(value if count is None else np.add.reduce(value, 0) / count)
        if not gradient:
            return mean, {}
        weight = 1.0 if count is None else 1.0 / count
        out.grad = np.full(value.shape, weight, dtype=value.dtype)
        tape.backward()
        return mean, {name: _or_zeros(var) for name, var in param_vars.items()}


class _Applied:
    """A morphism argument of a primitive (`fold`'s `op`) as its kernel calls it: the
    sub-diagram evaluated on fresh wires of flat component arrays, each call on its own tape."""

    def __init__(self, reference: Reference, sub: Diagram) -> None:
        self.reference, self.sub = reference, sub
        self.dom, self.cod = sub.dom.atoms, sub.cod.atoms

    def run(self, *xs: Any) -> tuple:
        return self.forward(*xs)[0]

    def forward(self, *xs: Any) -> tuple[tuple, object]:
        values = split_components(xs, self.dom)
        ins, _, results, inner = self.reference.nested(self.sub, values, (), ())
        return join_components([r.value for r in results], self.cod), (ins, results, inner)

    def vjp(self, residual: Any, *dys: Any) -> tuple:
        ins, results, inner = residual
        for result, dy in zip(results, split_components(dys, self.cod), strict=True):
            result.grad = accumulate(result.grad, dy)
        inner.backward()
        return tuple(
            d
            for x, atom in zip(ins, self.dom, strict=True)
            for d in ((None,) * width(atom) if x.grad is None else _flat(x.grad, (atom,)))
        )


def _none_if_empty(cotangent: Any) -> Any:
    """None for a product cotangent none of whose components got anything."""
    if isinstance(cotangent, tuple) and all(c is None for c in cotangent):
        return None
    return cotangent


def _vars(values: Mapping[str, Any]) -> dict[str, Var]:
    return {name: Var(value) for name, value in values.items()}


def _or_zeros(var: Var) -> Any:
    return zeros_like(var.value) if var.grad is None else var.grad


def _flat(value: Any, atoms: Sequence[Atom]) -> tuple[Any, ...]:
    """The arrays of a container value whose element is `atoms`."""
    return (value,) if sum(width(a) for a in atoms) == 1 else tuple(value)


def _clear(run: tuple[list[Var], list[Var], list[Var], Tape]) -> None:
    """Forget the cotangents of one evaluation of a loop's body, so a later reverse pass
    starts afresh."""
    ins, port_vars, results, inner = run
    for var in (*ins, *port_vars, *results):
        var.grad = None
    for entry_ins, entry_outs, _ in inner.entries:
        for var in (*entry_ins, *entry_outs):
            var.grad = None
