"""`catdsl check --classify`: name each definition by the shape of its boundary, counting its
inputs first — ordinary morphism, endomorphism, product-input morphism, product-input morphism
returning its first factor (which is not an endomorphism), state endomorphism, or a point.

An endomorphism built on params is one only while they are fixed; training changes them, and
the boundary that changes is the state's. The classification reads the checked types alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from catdsl.typesys.program import CheckedProgram, Definition
from catdsl.typesys.types import Obj, Prod, Record


@dataclass(frozen=True)
class Classified:
    """One definition: its name, its type as written, its class and why."""

    name: str
    type_text: str
    kind: str
    why: str

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type_text, "class": self.kind, "why": self.why}


def classify(checked: CheckedProgram) -> list[Classified]:
    """Every morphism, let and wiring block of the program, in declaration order."""
    return [
        _classify(d)
        for d in checked.definitions.values()
        if d.kind in ("morphism", "let", "wiring")
    ]


def _classify(definition: Definition) -> Classified:
    term = definition.term
    dom, cod = term.dom, term.cod
    text = f"{dom} -> {cod}"
    params = [p.name for p in term.ports if p.kind == "param"]
    ports = [p.name for p in term.ports if p.kind == "port"]
    inputs = len(dom.atoms)
    if ports and inputs:  # a port is an input from above: it counts
        listed = ", ".join(f"`{p}`" for p in ports)
        returns_first = len(cod.atoms) == 1 and cod.atoms[0] == dom.atoms[0]
        return Classified(
            definition.name,
            f"{text} with port(s) {listed}",
            "product-input morphism returning its first factor"
            if returns_first
            else "product-input morphism",
            f"{inputs + len(ports)} inputs counting the port(s) {listed}; closing them over "
            f"named values (`f[M]`) fixes the context and leaves `{text}`",
        )
    if inputs == 0:
        return Classified(definition.name, text, "point", "no input: a constant of its codomain")
    if inputs == 1 and dom == cod:
        (atom,) = dom.atoms
        if isinstance(atom, Record):
            return Classified(
                definition.name,
                text,
                "state endomorphism",
                f"one input, `{atom}`, and the same state out: a step of training",
            )
        fixed = (
            f"; an endomorphism only while its params ({', '.join(params)}) are fixed"
            if params
            else ""
        )
        return Classified(
            definition.name, text, "endomorphism", f"one input and the same object out{fixed}"
        )
    if inputs == 1:
        atom = dom.atoms[0]
        carrier = atom.carrier if isinstance(atom, Obj) else None
        if isinstance(carrier, Prod) and len(carrier.atoms) > 1 and cod.atoms == carrier.atoms[:1]:
            return Classified(
                definition.name,
                text,
                "ordinary morphism",
                f"one input, the product object `{atom}`, returning its first factor: unary "
                "out of the product, still not an endomorphism",
            )
        return Classified(definition.name, text, "ordinary morphism", "one input, another out")
    if len(cod.atoms) == 1 and cod.atoms[0] == dom.atoms[0]:
        return Classified(
            definition.name,
            text,
            "product-input morphism returning its first factor",
            f"{inputs} inputs and `{cod}` out: not an endomorphism, which would need "
            f"`{dom} -> {dom}`",
        )
    return Classified(
        definition.name, text, "product-input morphism", f"{inputs} inputs, `{cod}` out"
    )
