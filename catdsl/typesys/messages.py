"""Every diagnostic the checker and the loader give: its code and its wording.

The typing rules decide *that* something is wrong and gather the facts; the functions here
say it. Each returns a `Message` (code, text, help, notes, labels); the texts are compared
byte for byte by the golden tests and quoted in docs/errors.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Protocol

from catdsl.errors import Diagnostic, Label, Span
from catdsl.typesys.carriers import MASK_POLARITY
from catdsl.typesys.family_spec import (
    Family,
    FamilyRole,
    FieldKind,
    Hyper,
    HyperKind,
    OptimizerSpec,
    ScheduleSpec,
)
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.primitives import PrimSpec
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Shape, carrier_of
from catdsl.typesys.unify import Mismatch, Reason


class Code(Enum):
    """The diagnostic codes of the checker and the loader (docs/errors.md explains each)."""

    DECLARED_TWICE = "E0002"
    CYCLE = "E0003"
    COMPOSITION = "E0201"
    WIRE_COUNT = "E0202"
    PAIRING_DOMAINS = "E0203"
    NOMINAL_ENTRY = "E0204"
    SIGNATURE = "E0205"
    ARGUMENT_SHAPE = "E0206"
    ARRAY_ARGUMENT = "E0208"
    PORT_TWO_OBJECTS = "E0209"
    PORT_UNFED = "E0210"
    UNKNOWN_WIRE = "E0301"
    BARE_MORPHISM = "E0302"
    DIM_AS_MORPHISM = "E0303"
    MISSING_ARGUMENTS = "E0304"
    INITIALISER_AS_MORPHISM = "E0305"
    UNKNOWN_NAME = "E0306"
    WRONG_ARGUMENTS = "E0307"
    STRING_AS_MORPHISM = "E0309"
    STRUCTURAL_ARITY = "E0310"
    TOO_MANY_BINDINGS = "E0311"
    BINDING_NOT_DATA = "E0312"
    NOT_CALLABLE = "E0313"
    MORPHISM_CALLED = "E0314"
    EXPONENT = "E0315"
    NOT_ENDOMORPHISM = "E0316"
    MISSING_DATA = "E0317"
    MEAN_OF_SEVERAL = "E0318"
    DATA_TYPE = "E0319"
    HYPER_PARAMETER = "E0320"
    NOTHING_TO_TRAIN = "E0321"
    OPTION_NEEDS_COUNT = "E0322"
    NOT_A_SCHEDULE = "E0323"
    BATCH_WITHOUT_DATA = "E0324"
    DISCRETE_GRADIENT = "E0330"
    BAD_STATIC = "E0360"
    TRAIN_THROUGH_EVALUATION = "E0361"
    NOT_A_MEMBER = "E0370"
    MEMBER_SET = "E0371"
    UNKNOWN_TYPE = "E0401"
    UNKNOWN_DIM = "E0402"
    NOT_A_DIM = "E0403"
    MALFORMED_CARRIER = "E0404"
    NOT_A_TYPE = "E0405"
    NONPOSITIVE_SIZE = "E0406"
    INVARIANT = "E0407"
    PARAM_NOT_REAL = "E0408"
    PARAM_FREE_DIM = "E0409"
    PARAM_INITIALISER = "E0410"
    INITIALISER_ARGUMENT = "E0411"
    NUMBER_EXPECTED = "E0412"
    BAD_LOAD = "E0413"
    NOT_A_LITERAL = "E0414"
    LITERAL_SHAPE = "E0415"
    INDEX_RANGE = "E0416"
    PORT_SEVERAL_OBJECTS = "E0417"
    OUT_OF_RANGE = "E0418"
    OVER_BUDGET = "E0419"
    GENERIC_ARITY = "E0340"
    TYPE_PARAMETER = "E0341"
    FUNCTOR_MAP = "E0342"
    NOT_A_FUNCTOR = "E0343"
    STRUCTURE_FIELDS = "E0344"
    STRUCTURE_MAP = "E0345"
    FUNCTOR_WITHOUT_MAPS = "E0346"
    PREORDER_LOGIC = "E0347"
    MASK_ROW_CLOSED = "E0350"
    MASK_POLARITY = "E0351"
    LOSS_OUTSIDE_MODEL = "E0352"
    ONLY_PARAMS = "E0353"
    OPTION_LITERAL = "E0420"
    NOT_AN_OPTION = "E0421"
    SYMBOL_LITERAL = "E0422"
    WHOLE_NUMBER_LITERAL = "E0423"
    LAW_SIDES = "E0501"
    LAW_TOLERANCE = "E0502"
    HOLE = "E0601"
    UNKNOWN_MODULE = "E0701"
    IMPORT_CYCLE = "E0702"
    UNREADABLE_IMPORT = "E0703"
    READ_OUTSIDE = "E0704"
    IMPORT_NOT_SOURCE = "E0705"
    UNUSABLE_PLUGIN = "E0706"


@dataclass(frozen=True)
class Message:
    """A diagnostic without its position: code, text, help line, notes and labels."""

    code: Code
    text: str
    help: str | None = None
    notes: tuple[str, ...] = ()
    labels: tuple[Label, ...] = ()

    def at(self, span: Span | None) -> Diagnostic:
        """The diagnostic of this message at `span`."""
        return Diagnostic(self.code.value, self.text, span, self.help, self.labels, self.notes)


class Located(Protocol):
    """Anything with a source span: an AST node or a typed term."""

    @property
    def span(self) -> Span | None: ...


# ==================================================================== quoting


@lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the parser counts


def source_text(node: Located, sources: dict[str, str]) -> str:
    """The source text of an expression, on one line and at most 40 characters."""
    span = node.span
    text = sources.get(span.file) if span is not None else None
    if span is None or text is None:
        return "expression"
    lines = _lines(text)
    if span.line == span.end_line and 0 < span.line <= len(lines):
        snippet = lines[span.line - 1][span.column - 1 : span.end_column - 1]
    else:
        snippet = lines[span.line - 1][span.column - 1 :] + " …"
    snippet = " ".join(snippet.split())
    return snippet if len(snippet) <= 40 else snippet[:37] + "…"


def dim_bindings(x: object) -> str:
    """The sizes of a carrier's labelled dims: ` (with V = 5, D = 3)`, or nothing."""
    dims = getattr(getattr(x, "shape", None), "dims", ())
    bound = [f"{d.label} = {d.value}" for d in dims if d.label and d.value is not None]
    return f" (with {', '.join(bound)})" if bound else ""


def _strip_rest(x: object) -> object:
    if isinstance(x, Carrier) and x.shape.rest:
        return Carrier(x.kind, Shape(x.shape.dims), x.bound, x.elem)
    return x


def _s(n: int) -> str:
    return "s" * (n != 1)


def carrier_notes(err: Mismatch) -> tuple[str, ...]:
    """A note on how two carriers differ: their shapes with the dims' sizes, or their kinds."""
    if err.reason in (Reason.DIMS_DIFFER, Reason.RANKS_DIFFER) and err.expected is not None:
        found, found_dims = err.found, dim_bindings(err.found)
        if isinstance(found, Obj):
            found, found_dims = f"{found.name}` = `{found.carrier}", ""
        expected = _strip_rest(err.expected)
        return (
            f"the shapes differ: expected `{expected}`{dim_bindings(err.expected)}, "
            f"found `{found}`{found_dims}",
        )
    if err.reason == Reason.CARRIERS_DIFFER and err.expected is not None:
        return (f"expected a `{err.expected}`, found a `{err.found}`",)
    return ()


def signature(name: str, dom: Prod, cod: Prod) -> str:
    """A morphism's signature as users write it: `Name : A -> B`."""
    return f"`{name} : {dom} -> {cod}`"


def same_carrier_note(a: Atom, b: Atom) -> str | None:
    """Explain the newtype lesson when two different objects share a carrier."""
    if isinstance(a, Obj) and isinstance(b, Obj) and carrier_of(a) == carrier_of(b):
        return (
            f"`{a}` and `{b}` are both `{carrier_of(a)}`, but objects are nominal: "
            "composition matches object names, never carriers"
        )
    return None


def describe(atom: Atom) -> str:
    """An atom for a message: objects by name, carriers with their shape."""
    return f"`{atom}`"


def origin_note(prim: str, arguments: Sequence[tuple[str, Atom]]) -> tuple[str, ...]:
    """Where a primitive's shape came from: its array arguments and their dims."""
    if not arguments:
        return ()
    pieces = [f"`{name} : {atom}`" + dim_bindings(atom) for name, atom in arguments]
    return (f"`{prim}` takes its shape from " + " and ".join(pieces),)


# ==================================================================== usage lines


def prim_usage(spec: PrimSpec) -> str:
    args = ", ".join([*spec.param_names, *(f"{s} = …" for s in spec.static_names)])
    return f"`{spec.name}({args})`: {spec.doc}" if args else f"`{spec.name}`: {spec.doc}"


def family_usage(family: Family) -> str:
    """A family's call and type, from its spec: `Momentum(loss, data, lr = 0.1, beta = 0.9)` on
    `MomentumState(loss)`."""
    spec = family.optimizer
    if spec is None:
        return "`MeanLoss(loss, data) : Params(loss) -> Loss`"
    state = f"{spec.state or 'Params'}(loss)"
    if family.role is FamilyRole.INIT:
        init = "".join(f", {_hyper_usage(h)}" for h in spec.init_hyper)
        return f"`{family.name}(loss{init}) : Unit -> {state}`"
    if family.role is FamilyRole.READ:
        return f"`{family.name}(loss) : {state} -> Params(loss)`"
    if family.role is FamilyRole.COUNT:
        return f"`{family.name}(loss) : {state} -> Nat`"
    extra = [_hyper_usage(h) for h in spec.hyper]
    if spec.partial:
        extra += ["model = loss", "only = [W, b]"]
    call = f"{family.name}(loss, data{''.join(', ' + x for x in extra)})"
    return f"`{call}` on `{state}`" if spec.state else f"`{call} : {state} -> {state}`"


def _hyper_usage(hyper: Hyper) -> str:
    value = hyper.default if hyper.default is not None else hyper.example
    return hyper.name if value is None else f"{hyper.name} = {plain_number(value)}"


def plain_number(value: float) -> str:
    """A number as people write it: `0.9`, `1e-8` (not `1e-08`)."""
    mantissa, _, exponent = repr(value).partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


_FUNCTOR_USAGE = {
    "List": "`List(f) : List[A] -> List[B]` for `f : A -> B`",
    "Option": "`Option(f) : Option[A] -> Option[B]` for `f : A -> B`",
}


def functor_usage(name: str) -> str:
    return _FUNCTOR_USAGE[name]


# ==================================================================== E00xx: declarations


def declared_twice(name: str, first: Span) -> Message:
    return Message(
        Code.DECLARED_TWICE,
        f"`{name}` is declared twice",
        "rename one of them",
        labels=(Label(first, "first declared here"),),
    )


def law_declared_twice(name: str) -> Message:
    return Message(Code.DECLARED_TWICE, f"law `{name}` is declared twice")


def standard_library_name(name: str, module: str | None) -> Message:
    where = f" (from `{module}`)" if module else ""
    return Message(
        Code.DECLARED_TWICE,
        f"`{name}` is a standard-library name{where}",
        "choose another name",
    )


def input_named_twice(name: str) -> Message:
    return Message(Code.DECLARED_TWICE, f"input `{name}` is named twice")


def wire_bound_twice(name: str) -> Message:
    return Message(
        Code.DECLARED_TWICE,
        f"wire `{name}` is bound twice",
        "each name in a wiring block is bound once",
    )


def cycle(members: Sequence[str]) -> Message:
    chain = " -> ".join([*members, members[0]])
    return Message(
        Code.CYCLE,
        f"`{members[0]}` is defined in terms of itself ({chain})",
        "a definition cannot use itself; use `^ n` to iterate",
    )


def nested_too_deeply() -> Message:
    return Message(
        Code.CYCLE,
        "the program is nested too deeply to check",
        "name the inner parts with `let` and compose the names",
    )


# ==================================================================== E02xx: composition


def wire_count(
    lname: str, rname: str, gives: Prod, takes: Prod, label: Span, extra_help: str | None
) -> Message:
    return Message(
        Code.WIRE_COUNT,
        f"`{rname}` takes `{takes}` ({len(takes)} wire{_s(len(takes))}), "
        f"but `{lname}` gives `{gives}` ({len(gives)} wire{_s(len(gives))})",
        extra_help,
        labels=(Label(label, f"this gives `{gives}`"),),
    )


def carry_extra_input(last: str, extra: Prod, rname: str, gives: Prod, result: Prod) -> str:
    """Help for a morphism that takes more wires than it is given, the first ones matching."""
    return (
        f"carry the extra input alongside: pair it with `{last} * {extra}` "
        f"(e.g. `(... >> {last}) * {extra} >> {rname}`), or declare it as a port: "
        f"`morphism {rname}[target: {extra}] : {gives} -> {result}`"
    )


def insert_bridge(lname: str, rname: str, bridge: str, found: Atom, want: Atom) -> str:
    """Help naming the declared morphism (or two-step path) that turns `found` into `want`."""
    shown = signature(bridge, Prod((found,)), Prod((want,))) if " " not in bridge else f"`{bridge}`"
    return f"insert {shown}: `{lname} >> {bridge} >> {rname}`"


def insert_on_wire(bridge: str, gives: Prod, wire: int, rname: str) -> str:
    wires = [str(a) for a in gives.atoms]
    wires[wire] = bridge
    return f"insert `{bridge}` on that wire: `{' * '.join(wires)} >> {rname}`"


def raw_value_help(want: Atom, lname: str, rname: str, literal: bool) -> str:
    if literal:
        return (
            f"a raw value is not a `{want}`: build it at its boundary, e.g. "
            f"`data x : {want} = {lname}`, then compose `x >> {rname}`"
        )
    return f"a value enters `{want}` only through a declared morphism with codomain `{want}`"


def composition(
    lname: str,
    rname: str,
    gives: Prod,
    wire: int,
    want: Atom,
    label: Span,
    help: str | None,
    notes: tuple[str, ...],
) -> Message:
    found = gives.atoms[wire]
    where = f" (wire {wire + 1} of {len(gives)})" if len(gives) > 1 else ""
    if isinstance(found, Carrier) and isinstance(want, Obj):
        found_text = (
            f"the integer `{lname}`"
            if found.kind == "Nat" and not found.shape.dims
            else describe(found)
        )
        text = (
            f"expected {describe(want)}, found {found_text}{where}: "
            f"`{rname}` cannot take the output of `{lname}`"
        )
    else:
        text = (
            f"cannot compose `{lname}` with `{rname}`: "
            f"{describe(found)} is not {describe(want)}{where}"
        )
    return Message(
        Code.COMPOSITION, text, help, notes, labels=(Label(label, f"this gives `{gives}`"),)
    )


def applied_to_wrong_wires(name: str, takes: Prod, found: Prod, err: Mismatch) -> Message:
    return Message(
        Code.COMPOSITION,
        f"`{name}` takes `{takes}`, but is applied to `{found}`",
        notes=carrier_notes(err),
    )


def pairing_domains(first: Prod, other: Prod, first_span: Span) -> Message:
    return Message(
        Code.PAIRING_DOMAINS,
        f"the branches of a pairing must share a domain: `{first}` and `{other}`",
        labels=(Label(first_span, f"this takes `{first}`"),),
    )


def nominal_entry(
    name: str,
    side: str,
    declared: Prod,
    inferred: Prod,
    target: object,
    source: object,
    text: str,
    notes: tuple[str, ...],
) -> Message:
    return Message(
        Code.NOMINAL_ENTRY,
        f"`{name}` is declared with {side} `{declared}`, but its body gives `{inferred}`",
        f"a value enters `{target}` only through a declared morphism: make `{name}` "
        f"one, `morphism {name} : {source} -> {declared} = {text}`",
        notes,
    )


def signature_mismatch(
    name: str, side: str, declared: Prod, inferred: Prod, notes: tuple[str, ...]
) -> Message:
    return Message(
        Code.SIGNATURE,
        f"`{name}` is declared with {side} `{declared}`, but its body has {side} `{inferred}`",
        notes=notes,
    )


def wiring_returns(name: str, declared: Prod, found: Prod, err: Mismatch) -> Message:
    return Message(
        Code.SIGNATURE,
        f"`{name}` is declared to return `{declared}`, but returns `{found}`",
        notes=carrier_notes(err),
    )


def argument_shape(
    prim: str,
    pname: str,
    wanted: Carrier,
    ref_name: str,
    atom: Atom,
    notes: tuple[str, ...],
    help: str,
) -> Message:
    return Message(
        Code.ARGUMENT_SHAPE,
        f"`{prim}` needs `{pname}` of shape `{wanted}`, but `{ref_name}` is `{atom}`",
        help,
        notes,
    )


def argument_shape_origin(prim: str, sources: Sequence[tuple[str, Atom]]) -> tuple[str, ...]:
    if not sources:
        return ()
    pieces = [f"`{n} : {t}`{dim_bindings(t)}" for n, t in sources]
    return (f"`{prim}` takes that shape from {' and '.join(pieces)}",)


def declare_param(name: str, carrier: Carrier) -> str:
    return f"declare `param {name} : {carrier}`"


def port_binding_shape(port: str, atom: Atom, point: str, cod: Prod) -> Message:
    return Message(Code.ARGUMENT_SHAPE, f"port `{port}` is `{atom}`, but `{point}` is `{cod}`")


def array_argument(prim: str, pname: str) -> Message:
    return Message(
        Code.ARRAY_ARGUMENT,
        f"`{prim}`'s `{pname}` must name a `param` or a `data` point",
        f"declare it: `param {pname} : Real[...] = zeros`",
    )


def port_two_objects(name: str, first: Atom, second: Atom) -> Message:
    return Message(
        Code.PORT_TWO_OBJECTS,
        f"port `{name}` is used as `{first}` and as `{second}`",
        "one name is one wire: rename one of the ports",
    )


def port_unfed(name: str, missing: Sequence[str], takes: Prod) -> Message:
    return Message(
        Code.PORT_UNFED,
        f"`{name}` declares the port{_s(len(missing))} "
        f"{', '.join(f'`{p}`' for p in missing)}, but its body has no extra "
        f"input to feed: it takes `{takes}`",
        "a port of a primitive-bound morphism feeds the primitive's input after "
        "the domain's, as in `morphism CrossEntropy[target: TokenId] : "
        "Distribution -> Loss = nll`",
    )


# ==================================================================== E03xx: names and uses


def unknown_wire(name: str, hint: str | None) -> Message:
    return Message(
        Code.UNKNOWN_WIRE,
        f"unknown wire `{name}`",
        hint or "wires are the block's inputs and the names bound with `name = ...` above",
    )


def bare_morphism_in_wiring(name: str) -> Message:
    return Message(
        Code.BARE_MORPHISM,
        f"`{name}` is a morphism: inside a wiring block, apply it to wires",
        f"write `{name}(x)`",
    )


def morphism_as_value() -> Message:
    return Message(
        Code.BARE_MORPHISM,
        "inside a wiring block, apply a morphism to wires: `f(x)`",
        "write `f(x)` instead of a bare morphism",
    )


def dim_as_morphism(name: str) -> Message:
    return Message(Code.DIM_AS_MORPHISM, f"`{name}` is a dim, not a morphism")


def structure_as_morphism(kind: str, name: str, parts: Sequence[str]) -> Message:
    """A monoid or preorder named where a morphism goes: its parts are the morphisms."""
    listed = " and ".join(f"`{p}`" for p in parts)
    return Message(
        Code.DIM_AS_MORPHISM,
        f"`{name}` is a {kind}, not a morphism",
        f"use the morphisms it is given by ({listed}) by their own names",
    )


def needs_arguments(name: str, usage: str) -> Message:
    return Message(Code.MISSING_ARGUMENTS, f"`{name}` needs arguments", usage)


def functor_takes_one(name: str) -> Message:
    return Message(Code.MISSING_ARGUMENTS, f"`{name}` takes one morphism: `{name}(f)`")


def family_needs_loss(family: Family) -> Message:
    return Message(Code.MISSING_ARGUMENTS, f"`{family.name}` needs a loss", family_usage(family))


def initialiser_as_morphism(name: str) -> Message:
    return Message(
        Code.INITIALISER_AS_MORPHISM,
        f"`{name}` initialises a `param` or `data`; it is not a morphism",
    )


def unknown_name(name: str, hint: str | None) -> Message:
    return Message(Code.UNKNOWN_NAME, f"unknown name `{name}`", hint)


def import_module(name: str, module: str) -> str:
    return f"`{name}` is in `{module}`: add `import {module}`"


def too_many_arguments(spec: PrimSpec, given: int) -> Message:
    total = len(spec.param_names) + len(spec.static_names)
    return Message(
        Code.WRONG_ARGUMENTS,
        f"`{spec.name}` takes {total} argument(s), got {given}",
        prim_usage(spec),
    )


def no_such_argument(name: str, key: str, usage: str) -> Message:
    return Message(Code.WRONG_ARGUMENTS, f"`{name}` has no argument `{key}`", usage)


def missing_argument(spec: PrimSpec, pname: str) -> Message:
    return Message(
        Code.WRONG_ARGUMENTS, f"`{spec.name}` needs its `{pname}` argument", prim_usage(spec)
    )


def bad_count(prim: str, key: str, limit: int, value: object) -> Message:
    return Message(
        Code.WRONG_ARGUMENTS,
        f"`{prim}`'s `{key}` must be a whole number from 1 to {limit}, not {value}",
    )


def bad_static(spec: PrimSpec, key: str, problem: str) -> Message:
    return Message(Code.BAD_STATIC, f"`{spec.name}`'s `{key}` {problem}", prim_usage(spec))


def train_through_evaluation(
    family: str, text: str, prim: Located, definition: str | None
) -> Message:
    name = getattr(prim, "name", "this primitive")
    inside = f" (in `{definition}`)" if definition is not None else ""
    labels = (Label(prim.span, f"`{name}` is used here"),) if prim.span is not None else ()
    return Message(
        Code.TRAIN_THROUGH_EVALUATION,
        f"`{family}` cannot train `{text}`: it goes through `{name}`{inside}, an evaluation "
        "morphism that no gradient flows through",
        "train a differentiable loss (e.g. `cross_entropy` of the logits) and measure with "
        f"`{name}` in a `let` of its own",
        labels=labels,
    )


def family_takes_only_loss(family: Family) -> Message:
    return Message(
        Code.WRONG_ARGUMENTS, f"`{family.name}` takes only the loss", family_usage(family)
    )


def too_many_hyper(family: Family, count: int) -> Message:
    return Message(
        Code.WRONG_ARGUMENTS,
        f"`{family.name}` takes {count} hyper-parameter(s) after the data",
        family_usage(family),
    )


def hyper_twice(family: Family, key: str, value: float) -> Message:
    return Message(
        Code.WRONG_ARGUMENTS,
        f"`{family.name}` is given `{key}` twice: by position ({value:g}) and by name",
        f"keep one of them: {family_usage(family)}",
    )


def hyper_missing(family: Family, key: str) -> Message:
    return Message(Code.WRONG_ARGUMENTS, f"`{family.name}` needs `{key}`", family_usage(family))


def string_as_morphism() -> Message:
    return Message(Code.STRING_AS_MORPHISM, "a string is not a morphism")


_STRUCT_USAGE = {
    "id": "`id[A]`",
    "copy": "`copy[A]`",
    "discard": "`discard[A]`",
    "swap": "`swap[A, B]`",
    "fst": "`fst[A, B]`",
    "snd": "`snd[A, B]`",
}


def structural_arity(kind: str, allowed: Sequence[int], given: int) -> Message:
    return Message(
        Code.STRUCTURAL_ARITY,
        f"`{kind}` takes {' or '.join(map(str, allowed))} type(s), got {given}",
        _STRUCT_USAGE[kind],
    )


def too_many_bindings(text: str, ports: int, bound: int) -> Message:
    return Message(
        Code.TOO_MANY_BINDINGS,
        f"`{text}` has {ports} port(s), but {bound} are bound",
    )


def binding_not_data(port: str) -> Message:
    return Message(Code.BINDING_NOT_DATA, f"bind port `{port}` to a `data` point")


def not_callable() -> Message:
    return Message(
        Code.NOT_CALLABLE,
        "only named primitives, families and functors can be called",
        "morphisms are applied to wires only inside a wiring block",
    )


def object_called(name: str) -> Message:
    return Message(
        Code.NOT_CALLABLE,
        f"`{name}` is an object, not a function",
        f"build a value of `{name}` at its boundary: `data t : {name} = ...`, "
        f"then compose `t >> ...`",
    )


def morphism_called(name: str) -> Message:
    return Message(
        Code.MORPHISM_CALLED,
        f"`{name}` is a morphism; it is composed, not called",
        f"write `... >> {name}`; apply to wires only inside a wiring block "
        f"`let f(x: A) -> B = {{ return {name}(x) }}`",
    )


def exponent_without_size(exponent: str) -> Message:
    return Message(Code.EXPONENT, f"the exponent `{exponent}` must be a dim with a size")


def not_endomorphism(name: str, dom: Prod, cod: Prod, help: str) -> Message:
    return Message(
        Code.NOT_ENDOMORPHISM,
        f"`^` needs an endomorphism, but `{name}` is `{dom} -> {cod}`",
        help,
    )


def iterate_endomorphism() -> str:
    return "only an endomorphism `A -> A` can be iterated"


def iterate_product_input(dom: Prod, cod: Prod) -> str:
    return (
        f"`{dom} -> {cod}` is a product-input morphism ({len(dom)} inputs, "
        f"{len(cod)} output{_s(len(cod))}), not an endomorphism: make the "
        "extra input a port and bind it to a point (`f[m]`), or write a wiring "
        "block of type `A -> A`"
    )


def iterate_training_step(dom: Prod) -> str:
    return (
        f"a training step must return `{dom}` to be iterated; "
        "`TrainStep(loss, data, lr)` is such a step"
    )


def missing_data(name: str, loss_text: str, loss_dom: Prod) -> Message:
    return Message(
        Code.MISSING_DATA,
        f"`{name}` needs the training data: `{name}({loss_text}, data, ...)`",
        f"the loss takes `{loss_dom}`; pass a `data` point of a list of them",
    )


def mean_of_several(cod: Prod) -> Message:
    return Message(Code.MEAN_OF_SEVERAL, f"`MeanLoss` needs a loss with one output, not `{cod}`")


def data_not_a_list(name: str, elem: Prod, dom: Prod, cod: Prod) -> Message:
    return Message(
        Code.DATA_TYPE,
        f"`{name}`'s data must be a point of a list of `{elem}`, found `{dom} -> {cod}`",
        "declare it with `data name : List[...] = [...]`, or compose a point "
        "with a morphism, e.g. `corpus >> Windowing`",
    )


def data_elements(name: str, holds: Prod, takes: Prod) -> Message:
    return Message(Code.DATA_TYPE, f"`{name}`'s data holds `{holds}`, but the loss takes `{takes}`")


def hyper_out_of_range(optimizer: OptimizerSpec, hyper: Hyper, value: float) -> Message:
    """A hyperparameter outside its kind's range, named as the runtime check names it."""
    bound = hyper.kind.bound_text
    if hyper.kind is HyperKind.RATE:
        return Message(Code.HYPER_PARAMETER, f"invalid learning rate {value}: {bound}")
    if hyper.kind is HyperKind.DECAY:
        what = f"{optimizer.prose} decay rate `{hyper.name}` = {value}"
        return Message(Code.HYPER_PARAMETER, f"invalid {what}: {bound}")
    if hyper.kind is HyperKind.EPSILON:
        return Message(Code.HYPER_PARAMETER, f"invalid {hyper.kind.value} {value}: {bound}")
    what = f"`{hyper.name}` = {plain_number(value)} of `{optimizer.name}`"
    return Message(Code.HYPER_PARAMETER, f"invalid {what}: {bound}")


def option_needs_count(family: Family, key: str) -> Message:
    """A training option or schedule given to a step that does not take them: its state does
    not count its steps (`TrainStep`), or its rate is not its own `lr` (`StateStep`)."""
    spec = family.optimizer
    reason = (
        "its rate is the state's, not an `lr` of its own to schedule"
        if spec is not None and any(kind is FieldKind.COUNT for _, kind in spec.fields)
        else "its state does not count the steps that minibatches and schedules need"
    )
    return Message(
        Code.OPTION_NEEDS_COUNT,
        f"`{family.name}` takes no `{key}`: {reason}",
        f"use `SGD(loss, data, lr = 0.1, {key} = …)`, gradient descent on `SGDState(loss)`, "
        "which counts them",
    )


def not_a_schedule(given: str, known: Sequence[str]) -> Message:
    """`schedule = X` where X is not a schedule applied to its arguments."""
    hint = did_you_mean(given, known) if given else None
    usage = ", ".join(f"`{name}(…)`" for name in known)
    return Message(
        Code.NOT_A_SCHEDULE,
        f"`schedule` takes a learning-rate schedule, not `{given}`"
        if given
        else "`schedule` takes a learning-rate schedule applied to its arguments",
        hint or f"the schedules: {usage}, e.g. `schedule = Cosine(steps = 1000)`",
    )


def schedule_argument(schedule: ScheduleSpec, problem: str) -> Message:
    """A schedule given too many arguments, one it does not have or twice, or missing one:
    `problem` says which (`has no argument `k``)."""
    usage = f"`{schedule.name}({', '.join(_hyper_usage(h) for h in schedule.hyper)})`"
    return Message(Code.WRONG_ARGUMENTS, f"`{schedule.name}` {problem}", usage)


def schedule_out_of_range(schedule: ScheduleSpec, hyper: Hyper, value: float) -> Message:
    bound = hyper.kind.bound_text
    what = f"`{hyper.name}` = {plain_number(value)} of `{schedule.name}`"
    return Message(Code.HYPER_PARAMETER, f"invalid {what}: {bound}")


def batch_without_data(family: Family, text: str) -> Message:
    return Message(
        Code.BATCH_WITHOUT_DATA,
        f"`{family.name}({text}, …)` has no data to split into minibatches: `{text}` takes `Unit`",
        "leave `batch` out: without data each step evaluates the loss once",
    )


def nothing_to_train(family: str, text: str) -> Message:
    return Message(
        Code.NOTHING_TO_TRAIN,
        f"`{family}({text})` has nothing to train: `{text}` uses no param",
        "pass the loss whose params are trained, a morphism built on `param`s",
    )


def train_through_discrete(
    family: str, text: str, box: str, definition: str | None, call: Span
) -> Message:
    inside = f" (in `{definition}`)" if definition is not None else ""
    return Message(
        Code.DISCRETE_GRADIENT,
        f"`{family}({text}, ...)` would differentiate through `{box}`{inside}, whose output "
        "is discrete: no gradient flows back through it to the params before it",
        f"train a loss that stays real from the params to its value; use `{box}` on data, "
        "or after training",
        labels=(Label(call, "trained here"),),
    )


def gradcheck_through_no_gradient(name: str, box: str, evaluation: bool) -> Message:
    """`gradcheck` of a definition that goes through a box without a gradient: E0361 for an
    evaluation morphism (`argmax`), E0330 for a comparison or a count."""
    what = "an evaluation morphism" if evaluation else "whose output is discrete"
    return Message(
        Code.TRAIN_THROUGH_EVALUATION if evaluation else Code.DISCRETE_GRADIENT,
        f"`{name}` goes through `{box}`, {what}: it has no gradient to check",
        f"gradcheck the part of `{name}` before `{box}`",
    )


# ==================================================================== E04xx: types and values


def unknown_type(name: str, hint: str | None) -> Message:
    return Message(
        Code.UNKNOWN_TYPE,
        f"unknown object or type `{name}`",
        hint or f"declare it first, e.g. `object {name} : Real[4]`",
    )


def unknown_dim(name: str, hint: str | None) -> Message:
    return Message(
        Code.UNKNOWN_DIM,
        f"unknown dim `{name}`",
        hint or f"declare it: `dim {name} = 8` (or `dim {name}`, free)",
    )


def not_a_dim() -> Message:
    return Message(Code.NOT_A_DIM, "expected a dim (a size or a dim name)")


def not_a_type_call(name: str) -> Message:
    return Message(
        Code.MALFORMED_CARRIER,
        f"`{name}(...)` is not a type",
        "type-level calls are `Params(f)`, `AdamState(f)`, `MomentumState(f)`",
    )


def functor_type_arity(name: str) -> Message:
    return Message(Code.MALFORMED_CARRIER, f"`{name}` takes one type: `{name}[A]`")


def object_with_arguments(name: str) -> Message:
    return Message(Code.MALFORMED_CARRIER, f"`{name}` is an object and takes no arguments")


def carrier_without_bound(kind: str) -> Message:
    return Message(Code.MALFORMED_CARRIER, f"`{kind}` needs its bound: `{kind}[V]`")


def carrier_with_dims(kind: str) -> Message:
    return Message(Code.MALFORMED_CARRIER, f"`{kind}` takes no dims")


def carrier_without_size(kind: str) -> Message:
    return Message(Code.MALFORMED_CARRIER, f"`{kind}` needs its size: `{kind}[V]`")


def number_as_type(value: int) -> Message:
    return Message(Code.NOT_A_TYPE, f"expected a type, found the number `{value}`")


def not_a_type() -> Message:
    return Message(Code.NOT_A_TYPE, "expected a type")


def nonpositive_dim(name: str, value: int) -> Message:
    return Message(Code.NONPOSITIVE_SIZE, f"dim `{name}` must be positive, not {value}")


def nonpositive_axis(value: int) -> Message:
    return Message(
        Code.NONPOSITIVE_SIZE,
        f"an axis of a carrier must have a positive size, not {value}",
    )


def big_number(value: int | float) -> str:
    """A number for a message, even one too long for `str` (ints past 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 128:
        digits = int(value.bit_length() * 0.30103)
        return f"about 10^{digits}" if value > 0 else f"about -10^{digits}"
    return str(value)


def dim_out_of_range(name: str | None, value: int, limit: int) -> Message:
    what = f"dim `{name}`" if name else "an axis of a carrier"
    return Message(
        Code.OUT_OF_RANGE,
        f"{what} must be from 1 to {limit} (2^63 - 1), not {big_number(value)}",
        "numpy holds sizes in 64-bit integers; no array can have an axis this long",
    )


def power_out_of_range(value: int, limit: int) -> Message:
    return Message(
        Code.OUT_OF_RANGE,
        f"the exponent of `^` must be at most {limit} (2^63 - 1), not {big_number(value)}",
        "iterate fewer times",
    )


def seed_out_of_range(initialiser: str, value: object, limit: int) -> Message:
    shown = big_number(value) if isinstance(value, int | float) else str(value)
    return Message(
        Code.OUT_OF_RANGE,
        f"`{initialiser}`'s `seed` must be a whole number from 0 to {limit}, not {shown}",
        "any seed in that range will do: the same seed always gives the same values",
    )


def over_budget(kind: str, name: str, t: object, count: int, size: str, budget: str) -> Message:
    return Message(
        Code.OVER_BUDGET,
        f"{kind} `{name}` of `{t}`{_unique_bindings(t)} holds {big_number(count)} numbers, "
        f"{size}: more than the memory budget of {budget}",
        "use smaller dims, or raise the budget with CATDSL_MEMORY_BUDGET (see docs/running.md)",
    )


def _unique_bindings(t: object) -> str:
    """`dim_bindings` with each dim named once, over every atom of a product."""
    atoms = t.atoms if isinstance(t, Prod) else (t,)
    seen: dict[str, str] = {}
    for atom in atoms:
        carrier = atom.carrier if isinstance(atom, Obj) else atom
        for d in getattr(getattr(carrier, "shape", None), "dims", ()):
            if d.label and d.value is not None:
                seen.setdefault(d.label, f"{d.label} = {d.value}")
    return f" (with {', '.join(seen.values())})" if seen else ""


def unknown_invariant(name: str) -> Message:
    return Message(
        Code.INVARIANT,
        f"unknown invariant `{name}`",
        "use `finite`, `nonempty`, `positive`, `nonnegative`, or a "
        "comparison on `value`, `len` or `sum` such as `value >= 0`",
    )


def unknown_quantity(name: str) -> Message:
    return Message(
        Code.INVARIANT,
        f"unknown quantity `{name}` in an invariant",
        "compare `value`, `len` or `sum` with a number",
    )


def not_a_member(value: object, obj: Obj, members_name: str, members: tuple) -> Message:
    """A literal value of an object `where value in S` that is not an entry of S."""
    shown = ", ".join(f'"{m}"' if isinstance(m, str) else str(m) for m in members)
    found = f'"{value}"' if isinstance(value, str) else str(value)
    return Message(
        Code.NOT_A_MEMBER,
        f"{found} is not a `{obj}`: `{obj}` holds only the entries of `{members_name}` ({shown})",
        f"add {found} to `{members_name}`, or refer to one of its entries",
        notes=(
            "a reference to an entry that does not exist is a dangling key: in a database "
            "instance, a foreign key naming no row of its table",
        ),
    )


def member_set(name: str, problem: str) -> Message:
    """`where value in NAME` where NAME is not a data point written as a list of values."""
    return Message(
        Code.MEMBER_SET,
        f"`value in {name}`: {problem}",
        "name a `data` point written as a list of numbers or strings: "
        "`data departments : List[Nat] = [1, 2]`",
    )


def length_of_number(carrier: object) -> Message:
    return Message(
        Code.INVARIANT,
        f"`{carrier}` is a single number, so it has no length to check",
        "`len` and `nonempty` are about lists and arrays; for a number, "
        "compare `value`, e.g. `value >= 0`",
    )


def two_numbers_compared() -> Message:
    return Message(
        Code.INVARIANT,
        "this invariant compares two numbers, so it says nothing about the value",
        "compare `value`, `len` or `sum` with a number, e.g. `value >= 0`",
    )


def param_not_real(name: str) -> Message:
    return Message(Code.PARAM_NOT_REAL, f"param `{name}` must be a real array, e.g. `Real[V, D]`")


def param_free_dim(name: str, dim: str) -> Message:
    return Message(
        Code.PARAM_FREE_DIM,
        f"param `{name}` needs a fixed size, but `{dim}` is free",
        f"give it a size: `dim {dim} = 8`",
    )


def param_initialiser(name: str) -> Message:
    return Message(
        Code.PARAM_INITIALISER,
        f"cannot initialise param `{name}` with this expression",
        "use an initialiser (`zeros`, `ones`, `normal(mean, std, seed)`, "
        "`uniform(low, high, seed)`, `course_init(seed, scale)`), a literal array, "
        'or `load("file.npy")`',
    )


def initialiser_argument(name: str, key: str | int, allowed: Sequence[str]) -> Message:
    return Message(
        Code.INITIALISER_ARGUMENT,
        f"`{name}` has no argument {key!r}",
        f"`{name}` takes {', '.join(allowed) or 'no arguments'}",
    )


def number_expected() -> Message:
    return Message(Code.NUMBER_EXPECTED, "expected a number")


def load_arguments() -> Message:
    return Message(Code.BAD_LOAD, '`load` takes one file name: `load("x.npy")`')


def load_suffix(path: str) -> Message:
    return Message(
        Code.BAD_LOAD,
        f"`load` reads .npy or .npz files, not `{path}`",
        "save arrays with numpy.save or numpy.savez",
    )


def string_as_value() -> Message:
    return Message(Code.NOT_A_LITERAL, "a string is not a value here")


def not_a_literal() -> Message:
    return Message(Code.NOT_A_LITERAL, "expected a literal number, `true`/`false`, or a list")


def ragged_literal() -> Message:
    return Message(Code.LITERAL_SHAPE, "ragged literal array")


def ragged_literal_for(name: str) -> Message:
    return Message(
        Code.LITERAL_SHAPE, f"the literal for `{name}` is ragged (rows of different lengths)"
    )


def literal_rank(name: str, carrier: Carrier, rank: int) -> Message:
    return Message(
        Code.LITERAL_SHAPE,
        f"`{name}` expects rank {len(carrier.shape.dims)} (`{carrier}`), "
        f"the literal has rank {rank}",
    )


def literal_shape(name: str, carrier: Carrier, shape: Sequence[int]) -> Message:
    return Message(
        Code.LITERAL_SHAPE,
        f"`{name}` expects shape `{carrier}`{dim_bindings(carrier)}, but the literal "
        f"is {' x '.join(map(str, shape))}",
    )


def literal_components(name: str, t: Prod) -> Message:
    return Message(Code.LITERAL_SHAPE, f"`{name} : {t}` needs {len(t)} components, one per wire")


def literal_object_components(name: str, atom: Atom, t: Prod) -> Message:
    return Message(
        Code.LITERAL_SHAPE,
        f"`{name} : {atom}` needs {len(t)} components, one per wire of `{atom}` = `{t}`",
        f"write a list with one value for each: `[{', '.join('…' for _ in t.atoms)}]`",
    )


def literal_not_index(atom: Atom, value: object) -> Message:
    return Message(Code.LITERAL_SHAPE, f"`{atom}` holds indices, found `{value}`")


def mask_row_closed(name: str, atom: Atom, kind: str, row: tuple[int, ...]) -> Message:
    """A mask literal with a row that leaves no key open (E0350), naming the row."""
    where = f"row {row[-1] if row else 0}" + (f" of element {row[:-1]}" if len(row) > 1 else "")
    closed = "is all `false`" if kind == "AllowMask" else "is all `true`"
    return Message(
        Code.MASK_ROW_CLOSED,
        f"attention mask {where} of `{name}` {closed}: that query may attend to no key",
        f"every row of a `{atom}` needs at least one "
        + ("`true` (true = may attend)" if kind == "AllowMask" else "`false` (true = blocked)"),
    )


_READ_AS = {**MASK_POLARITY, "Bool": "a mask read as true = may attend"}


def mask_polarity(found: str, want: str) -> Message:
    """An allow-mask where a block-mask is expected or the reverse, or a block-mask where a
    `Bool` mask (read as allowing) is expected (E0351)."""
    conversion = "allow_to_block" if want == "BlockMask" else "block_to_allow"
    article = "an" if want[0] in "AEIOU" else "a"
    return Message(
        Code.MASK_POLARITY,
        f"a `{found}` ({MASK_POLARITY[found]}) is not {article} `{want}` ({_READ_AS[want]}): "
        "the mask has the opposite polarity",
        f"convert it explicitly: `{conversion}` turns a `{found}` into the "
        f"`{'BlockMask' if want == 'BlockMask' else 'AllowMask'}` that blocks the same cells "
        "(it flips every cell)",
    )


def polarity_of(a: object, b: object) -> Message | None:
    """The polarity error when `a` (found) and `b` (expected) are masks of opposite kinds, seen
    through their objects; None otherwise."""
    kinds = []
    for atom in (a, b):
        carrier = carrier_of(atom) if isinstance(atom, Obj) else atom
        kinds.append(carrier.kind if isinstance(carrier, Carrier) else None)
    found, want = kinds
    if found == "BlockMask" and want == "Bool":
        return mask_polarity(found, want)
    if found in MASK_POLARITY and want in MASK_POLARITY and found != want:
        assert found is not None and want is not None
        return mask_polarity(found, want)
    return None


def loss_outside_model(loss: str, model: str, missing: str) -> Message:
    """`model = f` whose params do not hold every param of the loss (E0352)."""
    return Message(
        Code.LOSS_OUTSIDE_MODEL,
        f"the state of `{model}` has no param `{missing}`, which `{loss}` trains",
        f"`model` names the morphism whose params the state holds: one that uses every param "
        f"of `{loss}` (and possibly more)",
    )


def only_not_a_list(loss: str, params: Sequence[str]) -> Message:
    """`only = ...` that is not a non-empty list of names (E0353)."""
    return Message(
        Code.ONLY_PARAMS,
        "`only` takes a list of the params the step updates",
        f"the params of `{loss}` are {', '.join(f'`{p}`' for p in params)}: "
        f"e.g. `only = [{params[0]}]`",
    )


def only_not_a_param(item: str, loss: str, params: Sequence[str], twice: bool) -> Message:
    """An entry of `only = [...]` that is not a param of the loss, or is listed twice (E0353)."""
    why = "is listed twice" if twice else f"is not a param of `{loss}`"
    return Message(
        Code.ONLY_PARAMS,
        f"`only` names `{item}`, which {why}",
        f"the params of `{loss}` are {', '.join(f'`{p}`' for p in params)}",
    )


def literal_not_list(atom: Atom) -> Message:
    return Message(Code.LITERAL_SHAPE, f"`{atom}` is a list: write `[...]`")


def literal_list_items(atom: Atom, elem: Prod) -> Message:
    return Message(
        Code.LITERAL_SHAPE,
        f"each item of `{atom}` is `{elem}`: write one "
        f"[{', '.join('…' for _ in elem.atoms)}] per item",
    )


def option_literal(atom: Atom, value: object) -> Message:
    shown = "[]" if value == () else "this literal"
    return Message(
        Code.OPTION_LITERAL,
        f"`{atom}` is an option: its values are `none` and `some(x)`, not {shown}",
        "write `none` for nothing, or `some(x)` for a value x",
    )


def whole_number_literal(atom: Atom, kind: str, value: object) -> Message:
    what = "natural numbers (0, 1, 2, ...)" if kind == "Nat" else "integers"
    shown = str(value).lower() if isinstance(value, bool) else value
    return Message(
        Code.WHOLE_NUMBER_LITERAL,
        f"`{atom}` holds {what}, found `{shown}`",
        "declare it `Real` for a real number" + (", or `Int` for a negative one" * (kind == "Nat")),
    )


def symbol_literal(atom: Atom, value: object) -> Message:
    return Message(
        Code.SYMBOL_LITERAL,
        f"`{atom}` holds symbols, written as strings; found `{value}`",
        f'write the label in quotes: `"{value}"`',
    )


def nested_nothing(atom: Atom) -> Message:
    return Message(
        Code.OPTION_LITERAL,
        f"`some(none)` of `{atom}` cannot be told apart from `none` when it runs",
        "write `none`, or use one `Option` level",
    )


def some_arguments() -> Message:
    return Message(Code.OPTION_LITERAL, "`some` holds exactly one value: `some(x)`")


def optional_not_option(atom: Atom) -> Message:
    return Message(
        Code.NOT_AN_OPTION,
        f"`none` and `some(x)` are values of an `Option`, and `{atom}` is not one",
        f"declare the data as `Option[{atom}]`, or write the value itself",
    )


def index_out_of_range(value: int, atom: Atom, bound: int | None) -> Message:
    return Message(Code.INDEX_RANGE, f"index {value} out of range for `{atom}` (limit {bound})")


def port_several_objects(name: str, t: Prod) -> Message:
    return Message(Code.PORT_SEVERAL_OBJECTS, f"port `{name}` must carry one object, not `{t}`")


# ==================================================================== E05xx-E07xx


def law_sides(name: str, lhs: str, rhs: str, lhs_span: Span) -> Message:
    return Message(
        Code.LAW_SIDES,
        f"the two sides of law `{name}` have different types",
        "a law equates two morphisms with the same domain and codomain",
        (f"the right-hand side is `{rhs}`",),
        (Label(lhs_span, f"this is `{lhs}`"),),
    )


def law_tolerance() -> Message:
    return Message(Code.LAW_TOLERANCE, "a law's tolerance must be non-negative")


def hole_uninferred(label: str) -> Message:
    return Message(
        Code.HOLE,
        f"hole {label}: its type cannot be inferred here",
        "give the definition a signature, e.g. `let f : A -> B = ?`",
    )


def hole(label: str, dom: Prod, cod: Prod, fits: Sequence[str]) -> Message:
    help_text = (
        ("fits: " + ", ".join(f"`{f}`" for f in fits[:6]))
        if fits
        else "no declared morphism has this type"
    )
    return Message(Code.HOLE, f"hole {label} needs a morphism `{dom} -> {cod}`", help_text)


def unknown_module(module: str, hint: str | None, known: Sequence[str]) -> Message:
    return Message(
        Code.UNKNOWN_MODULE,
        f"unknown module `{module}`",
        hint
        or f'the standard library has {", ".join(known)}; import a file with `import "lib.cat"`',
    )


def unknown_plugin(module: str, hint: str | None, given: Sequence[str]) -> Message:
    named = f" (given: {', '.join(given)})" if given else ""
    return Message(
        Code.UNUSABLE_PLUGIN,
        f"no plugin `{module}` is given or installed{named}",
        hint
        or "a plugin is Python code you choose to run: pass `--plugin MODULE` (or "
        "`plugins=[...]` to `catdsl.load`), or install the package that provides it",
    )


def broken_plugin(module: str, reason: str) -> Message:
    return Message(
        Code.UNUSABLE_PLUGIN,
        f"cannot use `{module}`: {reason}",
        "fix or reinstall the package that provides it",
    )


def plugin_names_note(names: Sequence[str]) -> str:
    listed = ", ".join(f"`{n}`" for n in names)
    return f"not reported as unknown, since the plugin may define them: {listed}"


def plugin_clash(name: str, first: str, second: str) -> Message:
    return Message(
        Code.UNUSABLE_PLUGIN,
        f"cannot import `{second}`: its primitive `{name}` is also in `{first}`",
        "import one of the two; a program names each primitive once",
    )


def import_cycle(chain: Sequence[str]) -> Message:
    return Message(
        Code.IMPORT_CYCLE,
        f"import cycle: {' -> '.join(chain)}",
        "move the shared declarations into a third file both import",
    )


def unreadable_import(path: str, reason: object, looked_for: object) -> Message:
    return Message(
        Code.UNREADABLE_IMPORT,
        f"cannot read `{path}`: {reason}",
        f"the path is relative to this file: looked for `{looked_for}`",
    )


def import_outside(path: str, reason: str) -> Message:
    return Message(
        Code.READ_OUTSIDE,
        f"cannot import `{path}`: {reason}",
        "a program reads only files under its own directory; "
        "to allow another directory, pass `--allow-read DIR`",
    )


def load_outside(path: str, reason: str) -> Message:
    return Message(
        Code.READ_OUTSIDE,
        f"cannot load `{path}`: {reason}",
        "a program reads only files under its own directory; "
        "to allow another directory, pass `--allow-read DIR`",
    )


def import_not_source(path: str) -> Message:
    return Message(
        Code.IMPORT_NOT_SOURCE,
        f"cannot import `{path}`: only `.cat` files are imported",
        'name a catdsl source file, e.g. `import "lib.cat"`; data is read with `load("x.npy")`',
    )


def unreadable_file(path: object, reason: object) -> Message:
    return Message(Code.UNREADABLE_IMPORT, f"cannot read `{path}`: {reason}")


# ==================================================================== generics and structures


def generic_arity(name: str, params: Sequence[str], given: int) -> Message:
    written = f"`{name}[{', '.join(params)}]`"
    count = f"{len(params)} object{'s' * (len(params) != 1)}"
    return Message(
        Code.GENERIC_ARITY,
        f"`{name}` takes {count}, got {given}",
        f"it is declared {written}; write one object for each, or none to infer them",
    )


def type_parameter_taken(name: str, owner: str) -> Message:
    return Message(
        Code.TYPE_PARAMETER,
        f"the parameter `{name}` of `{owner}` is already a declared name",
        f"a parameter stands for any object: give it a name of its own, e.g. `{name}0`",
    )


def type_parameter_twice(name: str, owner: str) -> Message:
    return Message(
        Code.TYPE_PARAMETER,
        f"`{owner}` names its parameter `{name}` twice",
        "each parameter of a generic definition has its own name: `Pair[A, B]`",
    )


def functor_map(name: str, mor_var: str, a: str, b: str, expected: str, found: str) -> Message:
    return Message(
        Code.FUNCTOR_MAP,
        f"the morphism map of functor `{name}` does not follow its object map",
        f"for `{mor_var} : {a} -> {b}` it must give `{expected}`; it gives `{found}`",
        ("a functor sends `f : A -> B` to `F(f) : F[A] -> F[B]`, with `F[A]` its object map",),
    )


def not_a_functor(name: str, transformation: str, functors: Sequence[str]) -> Message:
    return Message(
        Code.NOT_A_FUNCTOR,
        f"`{name}` is not a functor, so `{transformation}` cannot go from or to it",
        f"the functors here are {', '.join(f'`{f}`' for f in functors)}; declare one with "
        "`functor F : A ↦ List[A], f ↦ List(f)`",
    )


def structure_field_unknown(kind: str, name: str, field: str, wanted: Sequence[str]) -> Message:
    return Message(
        Code.STRUCTURE_FIELDS,
        f"a {kind} has no `{field}`",
        f"`{name}` is given by {_fields(wanted)}",
    )


def structure_field_missing(kind: str, name: str, field: str, wanted: Sequence[str]) -> Message:
    return Message(
        Code.STRUCTURE_FIELDS,
        f"{kind} `{name}` does not give its `{field}`",
        f"a {kind} is given by {_fields(wanted)}",
    )


def structure_field_twice(kind: str, name: str, field: str) -> Message:
    return Message(
        Code.STRUCTURE_FIELDS,
        f"{kind} `{name}` gives its `{field}` twice",
        "give each part once",
    )


def _fields(wanted: Sequence[str]) -> str:
    example = ", ".join(f"{f} = ..." for f in wanted)
    return f"`where {example}`"


def structure_map(kind: str, name: str, field: str, expected: str, found: str) -> Message:
    roles = {
        "unit": "the unit is a point of the carrier",
        "op": "the operation multiplies two elements of the carrier",
        "le": "the order relates two elements of the carrier to a truth value",
    }
    return Message(
        Code.STRUCTURE_MAP,
        f"the `{field}` of {kind} `{name}` must be `{expected}`, but it is `{found}`",
        roles.get(field),
    )


def functor_without_maps(name: str) -> Message:
    return Message(
        Code.FUNCTOR_WITHOUT_MAPS,
        f"functor `{name}` is declared without its maps",
        "only the built-in `List` and `Option` are declared by name alone; write "
        f"`functor {name} : A ↦ List[A], f ↦ List(f)` with its object and morphism maps",
    )


def instance_note(name: str, args: Sequence[tuple[str, Prod]]) -> str:
    """Which instance of a generic definition a use is: `Twice` at `A = S`."""
    bound = ", ".join(f"{param} = {_shown_arg(arg)}" for param, arg in args)
    return f"here `{name}` is its instance at {bound}"


def _shown_arg(arg: Prod) -> str:
    text = str(arg)
    return f"`{text}`" if not text.startswith("?") else "an object not yet known"


def preorder_needs_logic(name: str) -> Message:
    return Message(
        Code.PREORDER_LOGIC,
        f"preorder `{name}` needs `import std.logic`",
        "its relation is a `Bool`, and its transitivity law is written with std.logic's `and` "
        "and `implies`",
    )


def empty_list_unit(carrier: str) -> str:
    """The help for `unit = []`: an empty list in an expression has no element type."""
    return (
        f"`[]` alone does not say what it is a list of: declare the unit, "
        f"`data no_steps : {carrier} = []`, and give `unit = no_steps`"
    )
