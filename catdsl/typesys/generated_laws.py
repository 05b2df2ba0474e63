"""The laws a declaration carries, written out as the program could have written them.

A functor `F` carries `F.identity` (`F(id[X]) == id[F[X]]`) and `F.composition`
(`F(f >> g) == F(f) >> F(g)`); a natural transformation `alpha : F ⇒ G` carries
`alpha.naturality` (`F(f) >> alpha == alpha >> G(f)`); a monoid carries `left_unit`,
`right_unit` and `associativity`; a preorder `reflexivity` (`copy[C] >> le == discard[C] >>
true`) and `transitivity` (`a ≤ b and b ≤ c implies a ≤ c`, with std.logic's `and` and
`implies`, always true). A law over
morphisms is instantiated at every morphism `f` of the program that fits (a definition with a
body, no ports, and a domain and codomain that can be written), each instance one case of the
law; only morphisms between plain objects (arrays, no lists inside) are used. Each law is text
in a file of its own (`<Name.law>`), parsed and checked like any `law`,
so that its sides are drawn and reported as written here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys.environment import Environment
from catdsl.typesys.generics import mentions_rigid
from catdsl.typesys.laws import LawChecker
from catdsl.typesys.program import CheckedProgram, Definition, Law, Structure
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.types import Carrier, Obj, Prod

MAX_CASES = 24
"""The most instances of one law over morphisms (the first ones in source order)."""


@dataclass(frozen=True)
class _Case:
    """One instance of a generated law: its label and the law's text."""

    label: str
    lhs: str
    rhs: str


class LawGenerator:
    """Makes and checks the laws of a program's functor, natural, monoid and preorder
    declarations."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        laws: LawChecker,
        sources: dict[str, str],
        natural_at: Mapping[str, Prod],
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.laws = laws
        self.sources = sources
        self.natural_at = natural_at  # the object of a transformation declared at one

    def generate(self, program: CheckedProgram) -> None:
        """Add the generated laws of every declaration that checked to `program.laws`."""
        # the morphisms laws are instantiated at: found once, when a functor or a natural
        # transformation first needs them (a program without one skips the search)
        morphisms: list[tuple[str, Definition]] | None = None
        for name, entry in self.env.entries.items():
            if name not in self.env.done:
                continue
            result = self.env.done[name]
            decl = entry.decl
            if isinstance(decl, ast.FunctorDecl | ast.NaturalDecl) and morphisms is None:
                morphisms = list(_candidates(program))
            if isinstance(decl, ast.FunctorDecl) and isinstance(result, Structure):
                assert morphisms is not None
                self._add(program, name, "identity", _identity(name, morphisms))
                self._add(program, name, "composition", _composition(name, morphisms))
            elif isinstance(decl, ast.NaturalDecl) and isinstance(result, Definition):
                assert morphisms is not None
                at = self.natural_at.get(name)
                fitting = [
                    (f, d) for f, d in morphisms if at is None or d.term.dom == d.term.cod == at
                ]
                cases = _naturality(decl, fitting)
                self._add(program, name, "naturality", cases)
            elif isinstance(decl, ast.StructureDecl) and isinstance(result, Structure):
                parts = {f.name: self._text(f.value) for f in decl.fields}
                carrier = self._text(decl.carrier)
                made = (
                    _monoid(parts, carrier) if decl.kind == "monoid" else _preorder(parts, carrier)
                )
                for law, case in made:
                    self._add(program, name, law, [case])

    def _add(
        self,
        program: CheckedProgram,
        owner: str,
        law: str,
        cases: list[_Case],
    ) -> None:
        """Check each case of `owner.law`; those that check make the law (a case that does
        not check, which a declaration that checked never gives, is left out)."""
        name = f"{owner}.{law}"
        checked: list[Law] = []
        for i, case in enumerate(cases[:MAX_CASES]):
            file = f"<{name}>" if i == 0 else f"<{name} {i + 1}>"
            text = f"law generated : {case.lhs} == {case.rhs}\n"
            module, errors = parse(text, file)
            if module is None or errors:
                continue
            (decl,) = module.items
            assert isinstance(decl, ast.LawDecl)
            self.sources[file] = text
            mark = len(self.reporter.diagnostics)
            result = self.laws.check(replace(decl, name=name))
            if result is None:
                del self.reporter.diagnostics[mark:]
                del self.sources[file]
                continue
            checked.append(replace(result, case=case.label, generated=True))
        if checked:
            program.laws[name] = replace(checked[0], cases=tuple(checked[1:]))

    def _text(self, node: ast.Expr | ast.TypeExpr) -> str:
        """The exact source text of a part of a declaration, bracketed unless it is a name."""
        span = node.span
        lines = self.sources[span.file].split("\n")[span.line - 1 : span.end_line]
        lines[-1] = lines[-1][: span.end_column - 1]
        lines[0] = lines[0][span.column - 1 :]
        text = " ".join(" ".join(lines).split())
        simple = isinstance(node, ast.Name | ast.TName | ast.TApply | ast.Structural)
        return text if simple else f"({text})"


def _candidates(program: CheckedProgram) -> Iterator[tuple[str, Definition]]:
    """The morphisms a law over morphisms is instantiated at, in source order."""
    for name, d in program.definitions.items():
        term = d.term
        if d.kind not in ("morphism", "let", "wiring") or d.params:
            continue
        if getattr(term, "body", None) is None or term.ports:
            continue
        if not term.dom.atoms or not term.cod.atoms:
            continue
        if _written(term.dom) is None or _written(term.cod) is None:
            continue
        yield name, d


def _written(p: Prod) -> str | None:
    """A type of plain values as source text, or None: a variable, a record, or a container
    (a functor's laws at a list of lists are left out: their values cannot be sampled)."""
    if mentions_rigid(p):
        return None
    parts = []
    for a in p.atoms:
        if isinstance(a, Obj) and _plain(a.carrier):
            parts.append(a.name)
        elif isinstance(a, Carrier) and _plain(a):
            text = str(a)
            if "?" in text or "*" in text:
                return None
            parts.append(text)
        else:
            return None
    return " * ".join(parts)


def _plain(carrier: Carrier | Prod) -> bool:
    """Whether values of a carrier are arrays: no list or option inside, no record."""
    if isinstance(carrier, Prod):
        return all(isinstance(a, Carrier) and _plain(a) for a in carrier.atoms)
    return carrier.spec.is_array


def _identity(functor: str, morphisms: list[tuple[str, Definition]]) -> list[_Case]:
    seen: list[str] = []
    for _, d in morphisms:
        x = _written(d.term.dom)
        if x is not None and x not in seen:
            seen.append(x)
    return [_Case(f"X = {x}", f"{functor}(id[{x}])", f"id[{functor}[{x}]]") for x in seen]


def _composition(functor: str, morphisms: list[tuple[str, Definition]]) -> list[_Case]:
    cases: list[_Case] = []
    for f, df in morphisms:
        for g, dg in morphisms:
            if len(cases) == MAX_CASES:
                return cases
            if df.term.cod == dg.term.dom:
                cases.append(
                    _Case(
                        f"f = {f}, g = {g}",
                        f"{functor}({f} >> {g})",
                        f"{functor}({f}) >> {functor}({g})",
                    )
                )
    return cases


def _naturality(decl: ast.NaturalDecl, morphisms: list[tuple[str, Definition]]) -> list[_Case]:
    alpha, source, target = decl.name, decl.source, decl.target
    return [
        _Case(f"f = {f}", f"{source}({f}) >> {alpha}", f"{alpha} >> {target}({f})")
        for f, _ in morphisms
    ]


def _monoid(parts: dict[str, str], c: str) -> list[tuple[str, _Case]]:
    unit, op = parts["unit"], parts["op"]
    return [
        ("left_unit", _Case("", f"{unit} * id[{c}] >> {op}", f"id[{c}]")),
        ("right_unit", _Case("", f"id[{c}] * {unit} >> {op}", f"id[{c}]")),
        ("associativity", _Case("", f"{op} * id[{c}] >> {op}", f"id[{c}] * {op} >> {op}")),
    ]


def _preorder(parts: dict[str, str], c: str) -> list[tuple[str, _Case]]:
    le = parts["le"]
    ab = f"id[{c}] * id[{c}] * discard[{c}] >> {le}"
    bc = f"discard[{c}] * id[{c}] * id[{c}] >> {le}"
    ac = f"id[{c}] * discard[{c}] * id[{c}] >> {le}"
    return [
        ("reflexivity", _Case("", f"copy[{c}] >> {le}", f"discard[{c}] >> true")),
        (
            "transitivity",
            _Case(
                "",
                f"⟨{ab}, {bc}, {ac}⟩ >> and * id[Bool] >> implies",
                f"discard[{c} * {c} * {c}] >> true",
            ),
        ),
    ]
