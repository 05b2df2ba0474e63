"""A checked program's definitions as callable morphisms, run on the program's backend.

A morphism lowers to the diagram IR and compiles once, on first call, with the program's
backend (numpy by default); later calls cost the kernels. Parameters are initialised once per
program and shared by its morphisms. The commands built on top (training, law checks,
gradcheck, drawing) are added by `api.Program`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from catdsl.errors import CatError, CatRuntimeError, Diagnostic
from catdsl.frontend.json_form import output_form, record_form
from catdsl.std.init import INITIALISERS
from catdsl.typesys import terms as T
from catdsl.typesys.program import CheckedProgram, ParamInfo
from catdsl.typesys.types import Port, Prod

if TYPE_CHECKING:
    from catdsl.diagram.ir import Diagram
    from catdsl.semantics.backend import Backend
    from catdsl.semantics.kernel import KernelTable


class _NoInput:
    """The input of a call that gives none (`point()`), told apart from `None` (an absent
    `Option`)."""

    def __repr__(self) -> str:
        return "no input"


NO_INPUT: Any = _NoInput()
"""What `Morphism.__call__` and `vjp` get when no input is passed."""


def _takes_none(atom: object) -> bool:
    """Whether None is a value of `atom`: an `Option`, by itself or as an object."""
    from catdsl.typesys.types import Carrier, carrier_of

    carrier = carrier_of(atom)  # type: ignore[arg-type]
    return isinstance(carrier, Carrier) and carrier.kind == "Option"


def _truth(b: object) -> str:
    """A truth value as a program writes it: `true` or `false`."""
    return "true" if b else "false"


def _coerced(value: object, atom, dtype, what: str) -> object:
    """`coerce(value, atom, dtype)`, with data of the wrong structure reported as E0803."""
    from catdsl.semantics.values import coerce

    try:
        return coerce(value, atom, dtype)
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        if "inhomogeneous" in str(err):
            reason = "its rows have different lengths"
        elif isinstance(err, AttributeError) and "items" in str(err):
            reason = "a record is given as a JSON object, one entry per field"
        else:
            reason = f"it does not have that structure ({err})"
        raise CatError(
            [Diagnostic("E0803", f"{what} is not a value of `{atom}`: {reason}")]
        ) from None


def _generic_not_run(name: str, params: tuple[str, ...], checked: CheckedProgram) -> Diagnostic:
    """A generic definition stands for one morphism per object: it runs once instantiated."""
    example = next(iter(checked.objects), "Real")
    written = f"{name}[{', '.join(example for _ in params)}]"
    return Diagnostic(
        "R0510",
        f"`{name}` is generic (`{name}[{', '.join(params)}]`): it runs once its objects are known",
        help=f"run an instance, e.g. `let {name.lower()}_here = {written}`",
    )


def _raise_with_sources(err: CatRuntimeError, sources: dict[str, str]) -> CatError:
    return CatError([err.diagnostic], sources)


def init_param(info: ParamInfo, dtype=np.float64) -> np.ndarray:
    """A parameter's initial value from its initialiser, literal or file."""
    shape = info.shape  # worked out from the dims afresh at each read: read once
    if info.init == "literal":
        value = np.asarray(info.literal, dtype=dtype)
    elif info.init == "load":
        from catdsl.files import load_array_file

        assert info.path is not None, "the checker gives a loaded param its file"
        try:
            value = np.asarray(load_array_file(info.path)[0], dtype=dtype)
        except CatRuntimeError as err:  # point at the `param` that names the file
            raise err.at(info.span) from None
    else:  # (`INITIALISERS` imported once with the module, not once per param)
        value = INITIALISERS[info.init](shape, dtype, **dict(info.init_args))
    if value.shape != shape:
        raise CatRuntimeError(
            "R0410",
            f"param `{info.name}` is declared `{info.carrier}` but its value has shape "
            f"{value.shape}",
            info.span,
        )
    return value


class BaseProgram:
    """A checked program: its definitions as callable morphisms, its params and laws."""

    def __init__(
        self,
        checked: CheckedProgram,
        dtype: str = "float64",
        backend: Backend[Any] | None = None,
        kernels: KernelTable | None = None,
    ):
        if checked.diagnostics:
            raise CatError(list(checked.diagnostics), checked.sources)
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be float64 or float32, not {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.checked = checked
        self.file = checked.file
        self._params: dict[str, np.ndarray] | None = None
        self._morphisms: dict[str, Morphism] = {}
        self._backend = backend
        self.plugin_kernels = dict(kernels or {})  # of the plugins the program imports

    @property
    def backend(self) -> Backend[Any]:
        """The backend the morphisms compile and run on (numpy, unless one was given)."""
        if self._backend is None:
            from catdsl.frontend.backends import default_backend

            self._backend = default_backend(self.dtype, self.plugin_kernels)
        return self._backend

    # ---------------------------------------------------------------- names
    @property
    def names(self) -> list[str]:
        """The definitions that run: all but the generic ones, which run once instantiated."""
        return [n for n, d in self.checked.definitions.items() if not d.params]

    def __contains__(self, name: str) -> bool:
        return name in self.checked.definitions

    def __getitem__(self, name: str) -> Morphism:
        if name not in self.checked.definitions:
            from catdsl.typesys.hints import did_you_mean

            hint = did_you_mean(name, self.names)
            raise CatError(
                [
                    Diagnostic(
                        "E0801",
                        f"no definition named `{name}` in {self.file}",
                        help=hint or f"definitions: {', '.join(self.names)}",
                    )
                ]
            )
        definition = self.checked.definitions[name]
        if definition.params:
            raise CatError([_generic_not_run(name, definition.params, self.checked)])
        if name not in self._morphisms:
            self._morphisms[name] = Morphism(self, name, definition.term)
        return self._morphisms[name]

    # ---------------------------------------------------------------- params
    @property
    def params(self) -> dict[str, np.ndarray]:
        """Current parameter values by name (initialised on first use)."""
        if self._params is None:
            try:
                self._params = {
                    n: init_param(i, self.dtype) for n, i in self.checked.params.items()
                }
            except CatRuntimeError as err:
                raise _raise_with_sources(err, self.checked.sources) from None
        return self._params

    def params_json_form(self, params: dict[str, np.ndarray]) -> dict:
        """Parameter values by name as JSON data (`train --json`)."""
        return record_form(params, {n: i.carrier for n, i in self.checked.params.items()})

    def load_params(self, path: str) -> int | None:
        """Replace parameter values from a `.npz` file: one array per param (`--save` of a
        `Params(...)` point writes one) or a checkpoint of `catdsl train --checkpoint`, whose
        params are taken from its state. Names and shapes must fit, and nothing changes unless
        every array does. Returns the checkpoint's step count, or None for a file of arrays."""
        from catdsl.files import load_named_arrays

        data = load_named_arrays(path)
        step = None
        if _CHECKPOINT_LAYOUT in data:
            data, step = _checkpoint_params(path)
        new: dict[str, np.ndarray] = {}
        for name in data:
            if name not in self.checked.params:
                raise CatError(
                    [
                        Diagnostic(
                            "E0802",
                            f"`{path}` holds `{name}`, which is not a param of {self.file}",
                        )
                    ]
                )
            raw = np.asarray(data[name])
            if raw.dtype.kind not in "biuf":  # complex, strings, dates: no real value to keep
                kind = "complex numbers" if raw.dtype.kind == "c" else f"dtype {raw.dtype}"
                raise CatError(
                    [
                        Diagnostic(
                            "E0802",
                            f"`{name}` in `{path}` holds {kind}, but params are real numbers",
                            help="save real arrays (float64 or float32) for params",
                        )
                    ]
                )
            value = raw.astype(self.dtype)
            expected = self.checked.params[name].shape
            if value.shape != expected:
                raise CatError(
                    [
                        Diagnostic(
                            "E0802",
                            f"`{name}` in `{path}` has shape {value.shape}, expected {expected}",
                        )
                    ]
                )
            new[name] = value
        self.params.update(new)  # only once every array fits: all or nothing
        return step

    def save_value(self, path: str, value: object) -> None:
        from catdsl.files import save_npz_atomic

        save_npz_atomic(path, _flatten_named(value, "value"))

    def __repr__(self) -> str:
        return (
            f"<Program {self.file}: {len(self.names)} definitions, {len(self.checked.laws)} laws>"
        )


@dataclass(frozen=True, eq=False, repr=False)
class ShownProd(Prod):
    """A product of objects as the API hands it out: a `Prod` (equal to the same atoms as a
    plain one) whose repr is how catdsl writes it, `TokenId * TokenId`, not its fields."""

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prod) and self.atoms == other.atoms

    def __hash__(self) -> int:
        return hash((self.atoms,))


@dataclass
class Morphism:
    """A typed definition: `dom`, `cod`, `ports`; call it on numpy values."""

    program: BaseProgram
    name: str
    term: T.Term

    @cached_property
    def dom(self) -> Prod:
        """The domain, shown as catdsl writes it (`TokenId * TokenId`)."""
        return ShownProd(self.term.dom.atoms)

    @cached_property
    def cod(self) -> Prod:
        """The codomain, shown as catdsl writes it (`Distribution`)."""
        return ShownProd(self.term.cod.atoms)

    @property
    def ports(self) -> dict[str, str]:
        """User ports (not learnable params) by name, with their objects."""
        return {p.name: str(p.atom) for p in self.term.ports if p.kind == "port"}

    @property
    def param_ports(self) -> tuple[Port, ...]:
        return tuple(p for p in self.term.ports if p.kind == "param")

    @property
    def type_text(self) -> str:
        ports = "".join(f"[{p.name}: {p.atom}]" for p in self.term.ports if p.kind == "port")
        return f"{self.dom} -> {self.cod}{(' ' + ports) if ports else ''}"

    @cached_property
    def diagram(self) -> Diagram:
        from catdsl.diagram.lower import lower

        definitions = self.program.checked.definitions
        consts = {n: d.term for n, d in definitions.items() if d.kind == "data"}
        return lower(self.term, self.name, consts=consts)

    @cached_property
    def plan(self) -> Any:
        """The compiled form of the definition (a `Plan` on the numpy backend)."""
        try:
            return self.program.backend.compile(self.diagram)
        except CatRuntimeError as err:
            raise _raise_with_sources(err, self.program.checked.sources) from None

    def inputs_from(self, value: object) -> tuple:
        """Python / numpy input to one value per domain wire."""

        atoms = self.dom.atoms
        if not atoms:
            if value is not NO_INPUT and value is not None:
                raise CatError(
                    [
                        Diagnostic(
                            "E0803",
                            f"`{self.name}` is a point (`Unit -> {self.cod}`) and takes no input",
                        )
                    ]
                )
            return ()
        if value is NO_INPUT or (value is None and not (len(atoms) == 1 and _takes_none(atoms[0]))):
            raise CatError([Diagnostic("E0803", f"`{self.name}` needs an input of `{self.dom}`")])
        if len(atoms) == 1:
            parts = (value,)
        else:
            if not isinstance(value, list | tuple) or len(value) != len(atoms):
                raise CatError(
                    [
                        Diagnostic(
                            "E0803",
                            f"`{self.name}` takes `{self.dom}`: give {len(atoms)} components",
                        )
                    ]
                )
            parts = tuple(value)
        try:
            dtype = self.program.dtype
            return tuple(
                _coerced(v, a, dtype, f"the input of `{self.name}`")
                for v, a in zip(parts, atoms, strict=True)
            )
        except CatRuntimeError as err:
            raise _raise_with_sources(err, self.program.checked.sources) from None

    def ports_from(self, ports: dict) -> dict:

        wanted = {p.name: p for p in self.term.ports if p.kind == "port"}
        missing = [n for n in wanted if n not in ports]
        extra = [n for n in ports if n not in wanted]
        if missing or extra:
            what = f"missing port `{missing[0]}`" if missing else f"unknown port `{extra[0]}`"
            raise CatError(
                [
                    Diagnostic(
                        "E0804",
                        f"`{self.name}`: {what}",
                        help=f"ports: {', '.join(wanted) or 'none'}",
                    )
                ]
            )
        return {
            n: _coerced(v, wanted[n].atom, self.program.dtype, f"port `{n}`")
            for n, v in ports.items()
        }

    @cached_property
    def _element_ranks(self) -> tuple[tuple[int, ...], dict[str, int]]:
        """The element rank of each domain wire and of each user port, by name (params are
        not compared: a morphism of 1,000 params would work out 1,000 ranks for nothing)."""
        from catdsl.typesys.types import element_rank

        return tuple(element_rank(a) for a in self.dom.atoms), {
            p.name: element_rank(p.atom) for p in self.term.ports if p.kind == "port"
        }

    def check_batches(self, inputs: tuple, ports: dict) -> None:
        """Every batched input and port must have the same batch (leading) axes."""
        ranks, port_ranks = self._element_ranks
        named = [
            (f"input {k + 1}", v, r) for k, (v, r) in enumerate(zip(inputs, ranks, strict=True))
        ]
        named += [(f"port `{n}`", v, port_ranks[n]) for n, v in ports.items()]
        batches = [
            (what, value.shape[: value.ndim - rank])
            for what, value, rank in named
            if isinstance(value, np.ndarray) and value.ndim > rank
        ]
        if len({shape for _, shape in batches}) > 1:
            listed = ", ".join(f"{what} has {shape}" for what, shape in batches)
            raise CatError(
                [
                    Diagnostic(
                        "E0803",
                        f"`{self.name}`: the batch axes differ ({listed})",
                        help="give every batched input and port the same number of rows",
                    )
                ]
            )

    @cached_property
    def _array_input(self) -> np.dtype | None:
        """The dtype of an array that enters this morphism's one domain wire as it is, when
        a call with such an array and no ports may skip converting it, `check_batches` (one
        batched value agrees with itself) and the backend's indirection: a morphism without
        user ports, of one array wire, on the numpy backend. None when there is no such call.
        `coerce` returns an exact `np.ndarray` of this dtype unchanged."""
        from catdsl.semantics.numpy_backend import NumpyBackend
        from catdsl.semantics.values import array_dtype
        from catdsl.typesys.types import Carrier, Record, carrier_of

        atoms = self.dom.atoms
        if len(atoms) != 1 or isinstance(atoms[0], Record) or self.ports:
            return None
        if type(self.program.backend).run is not NumpyBackend.run:
            return None
        carrier = carrier_of(atoms[0])
        if not (isinstance(carrier, Carrier) and carrier.spec.is_array):
            return None
        return array_dtype(carrier, self.program.dtype)

    def __call__(self, *values: object, **ports: object) -> object:
        """The outputs for an input: one value per domain wire, given as separate arguments
        (`loss(x, y)`) or as one tuple (`loss((x, y))`); a point takes none."""
        if len(values) == 1 and not ports:  # one array of the right dtype: straight to the plan
            x, dtype = values[0], self._array_input
            if dtype is not None and type(x) is np.ndarray and x.dtype == dtype:
                try:
                    outputs = self.plan.run((x,), None, self.program.params)
                except CatRuntimeError as err:
                    raise _raise_with_sources(err, self.program.checked.sources) from None
                return outputs[0] if len(outputs) == 1 else tuple(outputs)
        wires = len(self.dom)
        if len(values) > 1 and wires not in (0, len(values)):
            wanted = "one value" if wires == 1 else f"{wires} components"
            raise CatError(
                [
                    Diagnostic(
                        "E0803",
                        f"`{self.name}` takes `{self.dom}`: give {wanted}, not {len(values)}",
                    )
                ]
            )
        value = values if len(values) > 1 else (values[0] if values else NO_INPUT)
        inputs = self.inputs_from(value)
        port_values = self.ports_from(ports)
        self.check_batches(inputs, port_values)
        try:
            outputs = self.run(inputs, port_values)
        except CatRuntimeError as err:
            raise _raise_with_sources(err, self.program.checked.sources) from None
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def run(self, inputs: tuple, ports: dict, *, check: bool = True) -> tuple:
        """The outputs on the program's backend, from converted inputs and ports."""
        backend = self.program.backend
        return backend.run(self.plan, inputs, ports, self.program.params, check=check)

    def vjp(self, value: object, cotangent: Any, **ports: object) -> dict:
        """Reverse derivative: the cotangents of the inputs, ports and params for an output
        cotangent (one per codomain wire, as a tuple when there are several)."""
        inputs = self.inputs_from(value)
        port_values = self.ports_from(ports)
        cots = (cotangent,) if len(self.cod) == 1 else tuple(cotangent)
        cots = tuple(np.asarray(c, dtype=np.float64) for c in cots)
        wrt = {"inputs", *port_values, *(p.name for p in self.param_ports)}
        try:
            backend, params = self.program.backend, self.program.params
            _, grads = backend.vjp(self.plan, inputs, port_values, params, cots, wrt)
        except CatRuntimeError as err:
            raise _raise_with_sources(err, self.program.checked.sources) from None
        return grads

    def json_form(self, value: object) -> object:
        """A value this morphism returned, as JSON data (`run --json`)."""
        return output_form(value, self.cod)

    def format_value(self, value: object) -> str:
        """Arrays to 6 digits; records one field per line with dotted names; the elements of
        finite ordered objects by name."""
        if isinstance(value, dict):
            return "\n".join(f"{k} = {v}" for k, v in _dotted(value))
        if value is None:
            return "none"  # an absent `Option`
        if _names_elements(self.cod):
            import json

            form = self.json_form(value)
            return form if isinstance(form, str) else json.dumps(form)
        with np.printoptions(precision=6, suppress=True):
            if isinstance(value, tuple):
                return "(" + ", ".join(self.format_value(v) for v in value) + ")"
            array = np.asarray(value)
            if array.ndim == 0 and array.dtype.kind == "f":
                text = f"{array.item():.6g}"
                return text if any(c in text for c in ".ein") else f"{text}.0"
            if array.dtype.kind == "b":  # truth values as a program writes them
                return np.array2string(array, formatter={"bool": _truth})
            return str(array)

    def _repr_svg_(self) -> str | None:
        """SVG for Jupyter, or None without Graphviz (Jupyter then shows the repr)."""
        from catdsl.render.output import repr_svg

        return repr_svg(self.diagram)

    def _repr_html_(self) -> str:
        """HTML for Jupyter: the name and type, then the string diagram when Graphviz is
        there (else a line saying it is not)."""
        return html_card(f"{self.name} : {self.type_text}", [], self._repr_svg_())

    def __repr__(self) -> str:
        return f"<Morphism {self.name} : {self.type_text}>"


def _names_elements(t: object) -> bool:
    """Whether a type holds elements of a finite ordered object (shown by name)."""
    from catdsl.typesys.types import Carrier, Obj

    if isinstance(t, Prod):
        return any(_names_elements(a) for a in t.atoms)
    if isinstance(t, Obj):
        return bool(t.elements) or _names_elements(t.carrier)
    return isinstance(t, Carrier) and t.elem is not None and _names_elements(t.elem)


def _dotted(record: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_dotted(value, f"{name}."))
        else:
            with np.printoptions(precision=6, suppress=True):
                rows.append((name, str(np.asarray(value))))
    return rows


def _flatten_named(value: object, prefix: str) -> dict[str, np.ndarray]:
    if isinstance(value, dict):
        out: dict[str, np.ndarray] = {}
        for k, v in value.items():
            out.update(_flatten_named(v, k if prefix == "value" else f"{prefix}.{k}"))
        return out
    if isinstance(value, tuple | list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten_named(v, f"{prefix}.{i}"))
        return out
    return {prefix: np.asarray(value)}


_CHECKPOINT_LAYOUT = "__layout__"
"""The entry that marks a `.npz` file as a training checkpoint (`semantics.checkpoint`)."""


def _checkpoint_params(path: str) -> tuple[dict[str, np.ndarray], int]:
    """The params a training checkpoint holds, and its step count: the state of a step is the
    params record itself (`TrainStep`) or a record whose `params` field is that record
    (`Momentum`, `Adam`)."""
    from catdsl.semantics.checkpoint import load_checkpoint

    state, step, _losses, _identity = load_checkpoint(path)
    record = state[0] if len(state) == 1 else None
    if isinstance(record, dict) and isinstance(record.get("params"), dict):
        record = record["params"]
    if not isinstance(record, dict) or not all(isinstance(v, np.ndarray) for v in record.values()):
        raise CatError(
            [
                Diagnostic(
                    "E0802",
                    f"the checkpoint `{path}` does not hold the state of one training step",
                    help="give a checkpoint written by `catdsl train --checkpoint`",
                )
            ]
        )
    return record, step


def checkpoint_in_epochs(path: str) -> bool:
    """Whether a training checkpoint counts epochs of minibatches, not single steps: its
    optimizer state counts more updates (one per minibatch) than the checkpoint counts
    iterations of its step."""
    from catdsl.semantics.checkpoint import load_checkpoint

    state, step, _losses, _identity = load_checkpoint(path)
    record = state[0] if len(state) == 1 else None
    updates = record.get("step") if isinstance(record, dict) else None
    return updates is not None and int(np.asarray(updates)) != step


def html_card(title: str, rows: list[tuple[str, str]], svg: str | None) -> str:
    """A title, a table of (name, type) rows and a drawing, for `_repr_html_`."""
    from html import escape

    parts = [f"<div><p><code>{escape(title)}</code></p>"]
    if rows:
        body = "".join(
            f"<tr><td><code>{escape(n)}</code></td><td><code>{escape(t)}</code></td></tr>"
            for n, t in rows
        )
        parts.append(f"<table>{body}</table>")
    if svg is None:
        parts.append("<p><i>(the drawing needs Graphviz's <code>dot</code>)</i></p>")
    else:  # inline: the <svg> element without the XML declaration and doctype before it
        parts.append(svg[svg.find("<svg") :] if "<svg" in svg else escape(svg))
    parts.append("</div>")
    return "".join(parts)
