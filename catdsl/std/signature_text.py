"""Primitive signatures written as text, for primitives registered from Python: `"Real[*s] ->
Real[*s]"`, `"Real[*s, n] * Index[*s, n] -> Real[*s]"`, with param types `"Real[n, m]"`.

A signature is a product of carriers, `->`, a product of carriers (`Unit` for none). A carrier
is a kind (`Real`, `Simplex`, `Bool`, `Index`, `Nat`) with its axes in brackets: `*s` first
is a variadic prefix (batch axes), then names (dims, shared across the signature and the param
types) or whole numbers; `Index`'s last argument is its bound. Each use of the primitive gets
fresh variables, as the standard library's signatures do (`std.signatures`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from catdsl.typesys.carriers import CARRIER_KINDS, Axes
from catdsl.typesys.dims import Dim
from catdsl.typesys.primitives import FreshVars, PrimSig
from catdsl.typesys.types import Carrier, Prod, Shape

_CARRIER = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?\s*$")
_NAME = re.compile(r"[A-Za-z_]\w*$")


class SignatureError(ValueError):
    """A signature text that does not parse; the message says where and why."""


@dataclass(frozen=True)
class _Written:
    """A carrier as written: kind, variadic prefix name, axes (names or numbers), bound."""

    kind: str
    rest: str | None
    axes: tuple[str | int, ...]
    bound: str | int | None


@dataclass(frozen=True)
class SignatureText:
    """A parsed signature: its params' carriers, domain and codomain as written."""

    params: tuple[_Written, ...]
    dom: tuple[_Written, ...]
    cod: tuple[_Written, ...]

    def build(self, _static: Mapping[str, object]) -> PrimSig:
        """A fresh instantiation: every name becomes a variable of its own for this use."""
        v = FreshVars()
        carriers = [[_carrier(w, v) for w in part] for part in (self.params, self.dom, self.cod)]
        return PrimSig(tuple(carriers[0]), Prod(tuple(carriers[1])), Prod(tuple(carriers[2])))

    @property
    def inputs(self) -> tuple[_Written, ...]:
        """The kernel's inputs in order: the domain's carriers, then the params'."""
        return (*self.dom, *self.params)


def parse_signature(text: str, params: Mapping[str, str] = {}) -> SignatureText:
    """Parse `text` (and each param's carrier text); `SignatureError` says what is wrong."""
    if text.count("->") != 1:
        raise SignatureError(f"`{text}`: a signature is `DOMAIN -> CODOMAIN`, with one `->`")
    dom_text, cod_text = text.split("->")
    dom = _product(dom_text, text)
    cod = _product(cod_text, text)
    if not cod:
        raise SignatureError(f"`{text}`: the codomain is `Unit`; a primitive computes something")
    written = tuple(_one(t, f"param `{n}`") for n, t in params.items())
    rests = {w.rest for w in (*dom, *cod, *written) if w.rest}
    names = {a for w in (*dom, *cod, *written) for a in (*w.axes, w.bound) if isinstance(a, str)}
    if rests & names:
        clash = sorted(rests & names)[0]
        raise SignatureError(f"`{text}`: `{clash}` is both a variadic prefix and an axis")
    return SignatureText(written, dom, cod)


def _product(text: str, whole: str) -> tuple[_Written, ...]:
    text = text.strip()
    if text == "Unit":
        return ()
    if not text:
        raise SignatureError(f"`{whole}`: a side of `->` is empty (write `Unit` for no input)")
    return tuple(_one(part, f"`{whole}`") for part in _split_product(text))


def _split_product(text: str) -> list[str]:
    """`A[*s, n] * B` at the `*` between carriers (not the `*` of a prefix in brackets)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "*" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _one(text: str, where: str) -> _Written:
    """One carrier written `Kind[*s, a, 3]`."""
    match = _CARRIER.match(text)
    if match is None:
        raise SignatureError(f"{where}: `{text.strip()}` is not a carrier such as `Real[*s, n]`")
    kind, inside = match[1], match[2]
    spec = CARRIER_KINDS.get(kind)
    if spec is None or spec.element:
        arrays = ", ".join(k for k, s in CARRIER_KINDS.items() if not s.element)
        raise SignatureError(f"{where}: `{kind}` is not an array carrier ({arrays})")
    args = [a.strip() for a in inside.split(",")] if inside is not None else []
    if inside is not None and not inside.strip():
        raise SignatureError(f"{where}: `{kind}[]` has empty brackets")
    rest = None
    if args and args[0].startswith("*"):
        rest = args.pop(0)[1:].strip()
        if not _NAME.match(rest):
            raise SignatureError(f"{where}: `*{rest}` must be `*` and a name, as in `*s`")
    values = [_axis(a, where) for a in args]
    bound = values.pop() if spec.bounded and values else None
    if spec.bounded and bound is None:
        raise SignatureError(f"{where}: `{kind}` needs its bound, as in `{kind}[n]`")
    if spec.axes is Axes.NONE and values:
        raise SignatureError(f"{where}: `{kind}` takes no axes")
    if spec.axes is Axes.SOME and not values:
        raise SignatureError(f"{where}: `{kind}` needs at least one axis, as in `{kind}[n]`")
    return _Written(kind, rest, tuple(values), bound)


def _axis(text: str, where: str) -> str | int:
    if text.isdigit():
        return int(text)
    if _NAME.match(text):
        return text
    raise SignatureError(f"{where}: `{text}` is not an axis (a name or a whole number)")


def _carrier(w: _Written, v: FreshVars) -> Carrier:
    def dim(a: str | int) -> Dim:
        return Dim.const(a) if isinstance(a, int) else v.dim(a)

    bound = dim(w.bound) if w.bound is not None else None
    rest = v.rest(w.rest) if w.rest else None
    return Carrier(w.kind, Shape(tuple(dim(a) for a in w.axes), rest), bound)
