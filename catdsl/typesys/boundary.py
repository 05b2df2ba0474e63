"""A definition's declared signature against its body's, and finishing its typed term."""

from __future__ import annotations

from catdsl.errors import Span
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.resolve import resolve_term
from catdsl.typesys.types import Atom, Prod
from catdsl.typesys.unify import Mismatch, Reason, Subst


class BoundaryChecker:
    """Checks that a body fits the signature its definition declares: inputs flow in,
    outputs flow out."""

    def __init__(self, reporter: Reporter, sources: dict[str, str]) -> None:
        self.reporter = reporter
        self.sources = sources

    def check(
        self,
        body: T.Term,
        dom: Prod,
        cod: Prod,
        subst: Subst,
        name: str,
        span: Span,
        nominal_entry: bool = False,
    ) -> None:
        """`nominal_entry` lets the body's outputs enter the declared objects: only a declared
        morphism builds values of an object."""
        try:
            subst.unify_prod(subst.prod(body.dom), dom)
        except Mismatch as err:
            subst.default_rests(body.dom)
            raise self.mismatch(
                name, "domain", dom, subst.prod(body.dom), err, span, body
            ) from None
        try:
            subst.unify_prod(cod, subst.resolved(body.cod), nominal_entry=nominal_entry)
        except Mismatch as err:
            subst.default_rests(body.cod)
            inferred = subst.prod(body.cod)
            raise self.mismatch(name, "codomain", cod, inferred, err, span, body, dom) from None

    def mismatch(
        self,
        name: str,
        side: str,
        declared: Prod,
        inferred: Prod,
        err: Mismatch,
        span: Span,
        body: T.Term | None = None,
        dom: Prod | None = None,
    ) -> Failed:
        """Report a body whose `side` (domain or codomain) is not the declared one."""
        notes = _origin(body) if body is not None else ()
        if err.reason == Reason.STRUCTURAL_INTO_NOMINAL:
            source = dom if dom is not None else "..."
            text = M.source_text(body, self.sources) if body is not None and body.span else "..."
            message = M.nominal_entry(
                name, side, declared, inferred, err.expected, source, text, notes
            )
        elif (polarity := M.polarity_of(err.found, err.expected)) is not None:
            message = polarity
        else:
            notes = M.carrier_notes(err) + notes
            message = M.signature_mismatch(name, side, declared, inferred, notes)
        return self.reporter.fail(message, span)


def _origin(body: T.Term) -> tuple[str, ...]:
    """Where the shape of a body starting with a primitive came from: its array arguments."""
    prim = body
    while isinstance(prim, T.Seq):
        prim = prim.parts[0]
    if not isinstance(prim, T.Prim) or not prim.args:
        return ()
    arguments: list[tuple[str, Atom]] = []
    for arg in prim.args:
        port = next((p for p in prim.ports if p.name == arg), None)
        if port is not None:
            arguments.append((arg, port.atom))
    return M.origin_note(prim.name, arguments)


def finish(term: T.Term, subst: Subst) -> T.Term:
    """Apply the final bindings everywhere and fill in kernel element ranks."""
    for p in (term.dom, term.cod):
        subst.default_rests(p)
    return resolve_term(term, subst)
