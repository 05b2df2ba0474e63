"""What the checker knows of a standard-library primitive: its spec and its signatures.

The table of primitives is built in `catdsl.std.library` and handed to the checker; the
checker never imports the standard library, and typed terms carry the spec they were checked
against so later phases need not look it up either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Prod, Shape, TVar, dim_ground

MAX_COUNT = 1024
"""The largest count a primitive accepts (`windows(k)`, `concat_heads(n)`)."""

_issued = 0
"""The tag the next `FreshVars` takes: one count for the whole process, so that no two
instantiations share a variable."""


@dataclass(frozen=True)
class PrimSig:
    """One instantiation of a primitive: its param argument types, domain and codomain."""

    params: tuple[Carrier, ...]
    dom: Prod
    cod: Prod
    morphisms: tuple[tuple[Prod, Prod], ...] = ()
    """The domain and codomain each morphism argument must have (`fold`'s `op : b * a -> b`
    and `unit : Unit -> b`), in `PrimSpec.morphism_names` order; their variables are the
    signature's own, so typing an argument types the primitive."""


class NoGradient(Enum):
    """Why no gradient flows back through a primitive, which says how a refusal reads: a
    training step (or `gradcheck`) that would differentiate through it is refused
    (`typesys/no_gradient.py`)."""

    DISCRETE = "discrete"  # its output is a truth value or a count (`le`, `and`, `length`): E0330
    EVALUATION = "evaluation"  # a metric that measures a model (`argmax`, `accuracy`): E0361


@dataclass(frozen=True)
class PrimSpec:
    """A primitive: its module, its arguments (array params, then static keywords with their
    defaults), a builder of fresh signatures given the static values, and what it does.

    `count` names the static argument that sizes a product (`k` of `windows`); `kernel` is the
    numpy reference kernel factory, called `kernel(in_ranks, **static)`, when one is attached.
    `typed_by_kind`: the primitive is typed on several carrier kinds and its kernel is told
    which one a use has, as the static `kind` (the kind of its first input: `sub` refuses a
    negative `Nat`). `no_gradient`, when set, says why no cotangent flows back through it to a
    real input (`NoGradient.DISCRETE`: a truth value or a count; `NoGradient.EVALUATION`: a
    metric); differentiating through it is refused.
    `validate`, when given, checks the static values before a signature is built and returns
    the argument at fault and what is wrong with it (E0360), or None when they are fine.
    `also` lists further modules whose import makes the primitive visible (`layer_norm` is in
    `std.attention` and `std.ml`).
    `morphism_names` are the arguments that are morphisms, written first (`fold(op, unit)`):
    any morphism expression, typed against `PrimSig.morphisms`; the box carries each one's
    diagram, and the kernel receives each as a `semantics.kernel.Morphism` before its arrays.
    """

    name: str
    module: str
    param_names: tuple[str, ...]
    static_names: tuple[str, ...]
    build: Callable[[Mapping[str, object]], PrimSig]
    doc: str
    defaults: Mapping[str, object] = field(default_factory=dict, hash=False)
    count: str | None = None
    kernel: Callable[..., Any] | None = None
    typed_by_kind: bool = False
    no_gradient: NoGradient | None = None
    validate: Callable[[Mapping[str, object]], tuple[str, str] | None] | None = field(
        default=None, compare=False
    )
    also: tuple[str, ...] = ()
    morphism_names: tuple[str, ...] = ()
    axis_names: tuple[str, ...] = ()
    """Static arguments that count an axis from the end (`axis = -1`) and may instead name a
    dim of the input (`axis = F`): the checker finds that dim's place in the input's final
    type and gives the kernel its number."""


class FreshVars:
    """Fresh variables for one instantiation: `v.n` is a dim, `v.rest("s")` a shape prefix,
    `v.atom("a")` an object variable; each instance tags its names apart from all others."""

    def __init__(self) -> None:
        global _issued
        self.tag = _issued
        _issued += 1

    def __getattr__(self, name: str) -> Dim:
        # kept on the instance, so the next `v.n` is a plain attribute read (the same dim)
        dim = self.__dict__[name] = Dim.symbol(f"?{name}#{self.tag}")
        return dim

    def rest(self, name: str = "s") -> str:
        return f"?{name}#{self.tag}"

    def atom(self, name: str) -> TVar:
        return TVar(f"?{name}#{self.tag}")

    def dim(self, name: str) -> Dim:
        return Dim.symbol(f"?{name}#{self.tag}")


def take_tags(count: int) -> int:
    """Take `count` tags, as `count` new `FreshVars` would, and give the first."""
    global _issued
    first = _issued
    _issued += count
    return first


def retagged(p: Prod, old: int, count: int, new: int, memo: dict[int, Carrier]) -> Prod | None:
    """`p` with each variable tagged `old` to `old + count - 1` tagged from `new` on (the same
    variables of another instantiation), when its atoms are carriers whose dims hold no
    variable; None for any other. `memo` keeps an atom shared by several products shared."""
    atoms: list[Carrier] = []
    for a in p.atoms:
        hit = memo.get(id(a))
        if hit is None:
            if type(a) is not Carrier or a.elem is not None:
                return None
            shape, bound = a.shape, a.bound
            if not all(dim_ground(d) for d in shape.dims) or not (
                bound is None or dim_ground(bound)
            ):
                return None
            rest, kind = shape.rest, a.kind
            if rest is None and not kind.startswith("?"):
                hit = a  # ground: the same for every instantiation
            else:
                if rest is not None:
                    rest = _retagged(rest, old, count, new)
                if kind.startswith("?"):
                    kind = _retagged(kind, old, count, new)
                hit = Carrier(kind, Shape(shape.dims, rest), bound)
            memo[id(a)] = hit
        atoms.append(hit)
    return Prod(tuple(atoms))


def _retagged(name: str, old: int, count: int, new: int) -> str:
    head, sep, tag = name.rpartition("#")
    if sep and tag.isdigit() and old <= int(tag) < old + count:
        return f"{head}#{int(tag) - old + new}"
    return name


def issued() -> int:
    """The tag the next `FreshVars` will take: a variable tagged at least this was made
    after the call (a tag is the number after `#` in a variable's name)."""
    return _issued


@dataclass(frozen=True)
class PluginSpec:
    """Primitives from outside the standard library: a plugin that a program imports as
    `import plugin.NAME` (its primitives' `module`), with its primitives by name and where it
    came from (`origin`, for messages: a Python module or an installed package)."""

    name: str
    primitives: Mapping[str, PrimSpec] = field(hash=False)
    origin: str = ""

    @property
    def module(self) -> str:
        """How a program imports it: `plugin.NAME`."""
        return f"{PLUGIN_PREFIX}{self.name}"


PLUGIN_PREFIX = "plugin."
"""`import plugin.NAME` imports the primitives of the plugin NAME."""
