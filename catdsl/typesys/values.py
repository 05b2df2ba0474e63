"""Params and data points: initialisers, literals, loaded files."""

from __future__ import annotations

import math

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.boundary import BoundaryChecker, finish
from catdsl.typesys.carriers import MASK_POLARITY
from catdsl.typesys.environment import Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.limits import BYTES_PER_NUMBER, MAX_SEED, human_bytes, memory_budget
from catdsl.typesys.literals import (
    NOTHING,
    LiteralReader,
    LiteralValue,
    Some,
    flatten,
    is_literal,
    is_optional,
    plain,
)
from catdsl.typesys.objects import broken_between, broken_by
from catdsl.typesys.program import Definition, ParamInfo
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.reserved import INITIALISERS
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import UNIT, Atom, Carrier, Obj, Prod, carrier_of, component_names
from catdsl.typesys.unify import Subst

_INITIALISER_ARGUMENTS = {
    "zeros": (),
    "ones": (),
    "normal": ("mean", "std", "seed"),
    "uniform": ("low", "high", "seed"),
    "course_init": ("seed", "scale"),
}


class ValueChecker:
    """Checks `param` and `data` declarations: their types, initialisers and literals."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        types: TypeReader,
        literals: LiteralReader,
        expressions: ExpressionChecker,
        boundary: BoundaryChecker,
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.types = types
        self.literals = literals
        self.expressions = expressions
        self.boundary = boundary
        self._budget: int | None = None
        self._param_types: dict[int, tuple[Prod, Carrier]] = {}
        """The param types checked so far, by identity (the type is kept, so its id is not
        reused): the type reader gives one object for each distinct way an array type is
        written."""

    # ---------------------------------------------------------------- params
    def param(self, decl: ast.ParamDecl) -> ParamInfo:
        t = self.types.type(decl.type)
        known = self._param_types.get(id(t))
        if known is not None and known[0] is t:
            carrier = known[1]
        else:
            carrier = self._param_carrier(decl, t)
            self._param_types[id(t)] = (t, carrier)
        order = self.env.position(decl.name)
        init = decl.init
        if isinstance(init, ast.Name) and init.name in INITIALISERS:
            return ParamInfo(decl.name, carrier, init.name, (), span=decl.span, order=order)
        if isinstance(init, ast.Call) and isinstance(init.func, ast.Name):
            fname = init.func.name
            if fname == "load":
                path = self.literals.load_path(init)
                return ParamInfo(decl.name, carrier, "load", path=path, span=decl.span, order=order)
            if fname in INITIALISERS:
                kwargs = self._initialiser_arguments(fname, init)
                return ParamInfo(decl.name, carrier, fname, kwargs, span=decl.span, order=order)
        if isinstance(init, ast.ListLiteral | ast.Literal):
            value = self.literals.literal(init)
            self.literals.check_shape(value, carrier, init.span, decl.name)
            return ParamInfo(
                decl.name, carrier, "literal", literal=value, span=decl.span, order=order
            )
        raise self.reporter.fail(M.param_initialiser(decl.name), init.span)

    def _param_carrier(self, decl: ast.ParamDecl, t: Prod) -> Carrier:
        """The carrier of a param's type: real, every size known, within the memory budget.
        What it checks depends on the type alone, so a type the reader gives again (the same
        object: `Real[D, D]` written for every layer) is checked once; a failure is never
        remembered, so each param that has it reports it at its own name and span."""
        carrier = t.atoms[0] if len(t) == 1 else None
        if not isinstance(carrier, Carrier) or carrier.kind != "Real":
            raise self.reporter.fail(M.param_not_real(decl.name), decl.type.span)
        free = [str(d) for d in carrier.shape.dims if d.value is None]
        if free:
            raise self.reporter.fail(M.param_free_dim(decl.name, free[0]), decl.type.span)
        self._check_budget("param", decl.name, carrier, decl.type.span)
        return carrier

    def _initialiser_arguments(self, fname: str, call: ast.Call) -> tuple[tuple[str, object], ...]:
        allowed = _INITIALISER_ARGUMENTS[fname]
        out: dict[str, object] = {}
        for i, arg in enumerate(call.args):
            key = arg.name if arg.name is not None else (allowed[i] if i < len(allowed) else None)
            if key is None or key not in allowed:
                message = M.initialiser_argument(fname, key or i + 1, allowed)
                raise self.reporter.fail(message, arg.span)
            written = arg.value
            value = (
                written.value  # a plain number, as `number` reads it, without the call
                if type(written) is ast.Literal and type(written.value) in (int, float)
                else self.literals.number(written)
            )
            if key == "seed" and not (isinstance(value, int) and 0 <= value <= MAX_SEED):
                message = M.seed_out_of_range(fname, value, MAX_SEED)
                raise self.reporter.fail(message, arg.value.span)
            out[key] = value
        return tuple(out.items())

    def _check_budget(self, kind: str, name: str, t: object, span: Span) -> None:
        """A param or a loaded data point whose numbers would not fit in the memory budget is
        refused here, before a run tries to allocate it."""
        count = _fixed_count(t)
        if self._budget is None:  # the setting is read once per program, not once per param
            self._budget = memory_budget()
        budget = self._budget
        if count * BYTES_PER_NUMBER > budget:
            size = human_bytes(count * BYTES_PER_NUMBER)
            message = M.over_budget(kind, name, t, count, size, human_bytes(budget))
            raise self.reporter.fail(message, span)

    # ---------------------------------------------------------------- data
    def data(self, decl: ast.DataDecl) -> Definition:
        t = self.types.type(decl.type)
        value = decl.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.name == "load"
        ):
            path = self.literals.load_path(value)
            self._check_budget("data", decl.name, t if len(t) != 1 else t.atoms[0], decl.type.span)
            term: T.Term = T.Const(UNIT, t, decl.span, name=decl.name, path=path)
        elif is_literal(value):
            elements = _elements(t)
            literal = self.literals.literal(value, _mentions(t, "Symbol"), elements)
            self._check_data_literal(literal, t, value.span, decl.name)
            term = T.Const(UNIT, t, decl.span, name=decl.name, value=plain(literal))
        else:
            subst = Subst()  # one table: the body's variables are resolved with the boundary's
            body = self.expressions.check(value, subst, expected=(UNIT, t))
            self.boundary.check(body, UNIT, t, subst, decl.name, value.span)
            term = finish(
                T.Ref(UNIT, t, decl.span, name=decl.name, body=body, kind="data", ports=body.ports),
                subst,
            )
        return Definition(decl.name, "data", term, decl.span, decl.span.file)

    def _check_data_literal(self, value: LiteralValue, t: Prod, span: Span, name: str) -> None:
        if len(t) == 1:
            atom = t.atoms[0]
            self._check_atom_literal(value, atom, carrier_of(atom), span, name)
            return
        if not isinstance(value, tuple) or len(value) != len(t):
            raise self.reporter.fail(M.literal_components(name, t), span)
        for item, atom in zip(value, t.atoms, strict=True):
            self._check_atom_literal(item, atom, carrier_of(atom), span, name)

    def _check_atom_literal(
        self,
        value: LiteralValue,
        atom: Atom,
        carrier: Carrier | Prod | None,
        span: Span,
        name: str,
    ) -> None:
        if isinstance(carrier, Prod):  # an object over a product: one component per wire
            if not isinstance(value, tuple) or len(value) != len(carrier):
                message = M.literal_object_components(name, atom, carrier)
                raise self.reporter.fail(message, span)
            for item, inner in zip(value, carrier.atoms, strict=True):
                self._check_atom_literal(item, inner, carrier_of(inner), span, name)
            if isinstance(atom, Obj):
                self._check_components(value, atom, carrier, span, name)
            return
        if not isinstance(carrier, Carrier):
            return
        if carrier.kind == "Option" and carrier.elem is not None:
            self._check_option_literal(value, atom, carrier.elem, span, name)
            return
        if carrier.spec.is_array and (
            is_optional(value) or any(is_optional(v) for v in flatten(value))
        ):
            raise self.reporter.fail(M.optional_not_option(atom), span)
        if carrier.spec.is_array:
            self.literals.check_shape(value, carrier, span, name)
            self._check_entries(value, atom, carrier, span)
            self._check_members(value, atom, span)
            if isinstance(atom, Obj) and isinstance(value, int | float | str):
                self._check_invariants(value, atom, span, name)
        if carrier.spec.bounded:
            flat = flatten(value)
            bad = [v for v in flat if not isinstance(v, int) or isinstance(v, bool)]
            if bad:
                raise self.reporter.fail(M.literal_not_index(atom, bad[0]), span)
            indices = [v for v in flat if isinstance(v, int)]
            bound = carrier.bound.value if carrier.bound is not None else None
            out = [v for v in indices if v < 0 or (bound is not None and v >= bound)]
            if out:
                raise self.reporter.fail(M.index_out_of_range(out[0], atom, bound), span)
        if carrier.kind in MASK_POLARITY:
            row = _closed_row(value, carrier.kind == "BlockMask")
            if row is not None:
                raise self.reporter.fail(M.mask_row_closed(name, atom, carrier.kind, row), span)
        if carrier.kind == "List" and carrier.elem is not None:
            if is_optional(value):
                raise self.reporter.fail(M.optional_not_option(atom), span)
            if not isinstance(value, tuple):
                raise self.reporter.fail(M.literal_not_list(atom), span)
            elem = carrier.elem
            for item in value:
                if len(elem) == 1:
                    inner = elem.atoms[0]
                    self._check_atom_literal(item, inner, carrier_of(inner), span, name)
                elif not isinstance(item, tuple) or len(item) != len(elem):
                    raise self.reporter.fail(M.literal_list_items(atom, elem), span)

    def _check_invariants(self, value: float | str, obj: Obj, span: Span, name: str) -> None:
        """A single number or symbol written for an object is checked against the object's
        invariants here, so a literal that can never enter it (a zero feature count, a blank
        port name) is refused by `catdsl check`, not first by a run (E0382)."""
        broken = next((p for p in obj.where if broken_by(p, value)), None)
        if broken is not None:
            message = M.literal_breaks_invariant(name, obj, str(broken), value)
            raise self.reporter.fail(message, span)

    def _check_components(
        self, value: tuple, obj: Obj, carrier: Prod, span: Span, name: str
    ) -> None:
        """The components of a literal of an object over a product against the comparisons
        of its `where` clause that name them (`Start <= End`), E0382."""
        values = {
            n: value[i]
            for n, i in component_names(carrier).items()
            if isinstance(value[i], int | float) and not isinstance(value[i], bool)
        }
        for predicate in obj.where:
            if broken_between(predicate, values):
                named = [s for s in (predicate.left, predicate.right) if isinstance(s, str)]
                found = {n: values[n] for n in named}
                message = M.components_break_invariant(name, obj, str(predicate), found)
                raise self.reporter.fail(message, span)

    def _check_entries(self, value: LiteralValue, atom: Atom, carrier: Carrier, span: Span) -> None:
        """A `Symbol` literal is strings, and strings are the literals of `Symbol` only."""
        flat = flatten(value)
        if carrier.kind == "Symbol":
            bad = next((v for v in flat if not isinstance(v, str)), None)
            if bad is not None:
                raise self.reporter.fail(M.symbol_literal(atom, bad), span)
        elif any(isinstance(v, str) for v in flat):
            raise self.reporter.fail(M.string_as_value(), span)
        if carrier.kind in ("Nat", "Int"):
            bad = next((v for v in flat if not isinstance(v, int) or isinstance(v, bool)), None)
            if bad is None and carrier.kind == "Nat":
                bad = next((v for v in flat if isinstance(v, int) and v < 0), None)
            if bad is not None:
                raise self.reporter.fail(M.whole_number_literal(atom, carrier.kind, bad), span)

    def _check_members(self, value: LiteralValue, atom: Atom, span: Span) -> None:
        """Every entry of a literal of an object `where value in S` is an entry of S."""
        if not isinstance(atom, Obj):
            return
        for p in atom.where:
            if p.op == "in":
                bad = next((v for v in flatten(value) if v not in p.members), None)
                if bad is not None:
                    message = M.not_a_member(bad, atom, str(p.right), p.members)
                    raise self.reporter.fail(message, span)

    def _check_option_literal(
        self, value: LiteralValue, atom: Atom, elem: Prod, span: Span, name: str
    ) -> None:
        """An `Option` literal is `none`, or `some(x)` with x a literal of the element."""
        if value is NOTHING:
            return
        if not isinstance(value, Some):
            raise self.reporter.fail(M.option_literal(atom, value), span)
        inner = value.value
        if _holds_nothing(inner, elem):
            raise self.reporter.fail(M.nested_nothing(atom), span)
        if len(elem) == 1:
            only = elem.atoms[0]
            self._check_atom_literal(inner, only, carrier_of(only), span, name)
            return
        if not isinstance(inner, tuple) or len(inner) != len(elem):
            raise self.reporter.fail(M.literal_object_components(name, atom, elem), span)
        for item, part in zip(inner, elem.atoms, strict=True):
            self._check_atom_literal(item, part, carrier_of(part), span, name)


def _elements(t: object) -> dict[str, int]:
    """The positions of the elements of the finite ordered objects a type mentions."""
    if isinstance(t, Prod):
        return {k: v for a in t.atoms for k, v in _elements(a).items()}
    if isinstance(t, Obj):
        own = {name: i for i, name in enumerate(t.elements)}
        return {**_elements(t.carrier), **own}
    if isinstance(t, Carrier) and t.elem is not None:
        return _elements(t.elem)
    return {}


def _mentions(t: object, kind: str) -> bool:
    """Whether a carrier of `kind` occurs in a type (inside objects and containers too)."""
    if isinstance(t, Prod):
        return any(_mentions(a, kind) for a in t.atoms)
    if isinstance(t, Obj):
        return _mentions(t.carrier, kind)
    if isinstance(t, Carrier):
        return t.kind == kind or (t.elem is not None and _mentions(t.elem, kind))
    return False


def _holds_nothing(value: LiteralValue, elem: Prod) -> bool:
    """Whether an option's element is itself an absent option (`some(none)`), which has no
    run-time value apart from `none`."""
    if len(elem) != 1:
        return False
    carrier = carrier_of(elem.atoms[0])
    return isinstance(carrier, Carrier) and carrier.kind == "Option" and value is NOTHING


def _closed_row(value: LiteralValue, blocked_when: bool) -> tuple[int, ...] | None:
    """The index of the first innermost row of a mask literal whose cells are all
    `blocked_when` (no key left open), or None."""
    if not isinstance(value, tuple):
        return None
    if value and not isinstance(value[0], tuple):
        return () if all(cell is blocked_when for cell in value) else None
    for i, item in enumerate(value):
        inner = _closed_row(item, blocked_when)
        if inner is not None:
            return (i, *inner)
    return None


def _fixed_count(t: object) -> int:
    """How many numbers a value of `t` holds where its sizes are all known (0 where not)."""
    if isinstance(t, Prod):
        return sum(_fixed_count(a) for a in t.atoms)
    if isinstance(t, Obj):
        return _fixed_count(t.carrier)
    if isinstance(t, Carrier) and t.spec.is_array:
        dims = [d.value for d in t.shape.dims]
        if any(v is None for v in dims):
            return 0
        return math.prod(v for v in dims if v is not None)
    return 0
