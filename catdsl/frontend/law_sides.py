"""Both sides of a checked law as its source writes them, for `catdsl draw FILE LAW`.

The renderer draws `Side`s; reading them off typed terms and source text is the front end's
job, so that rendering depends only on the diagram IR.
"""

from __future__ import annotations

from catdsl.errors import Span
from catdsl.render.commutative import Side
from catdsl.typesys.program import Law
from catdsl.typesys.terms import Seq, Struct, Term

ARROW_TEXT = 40  # an arrow label longer than this is cut short with "…"


def law_sides(law: Law, sources: dict[str, str]) -> tuple[Side, Side]:
    """Both sides of a checked law as its source writes them."""
    return term_side(law.lhs, law.span, sources), term_side(law.rhs, law.span, sources)


def term_side(term: Term, within: Span | None, sources: dict[str, str]) -> Side:
    """A side's text, and one arrow per factor of its top-level `>>` (brackets kept: the
    factors of `(f >> g) >> h` are `f >> g` and `h`). An identity factor, however written
    (`id[A]` or the object `A`), is the arrow `id[A]`, so `A >> f` does not read as `f`."""
    factors = term.parts if isinstance(term, Seq) else (term,)
    steps = [(_shorten(_factor_text(f, within, sources)), str(f.cod)) for f in factors]
    return Side(source_text(term, within, sources), steps)


def source_text(term: Term, within: Span | None, sources: dict[str, str]) -> str:
    """The text of a term in the law, on one line. A term whose span lies outside the law (a
    `data` constant points at its declaration) is given by its name, else by its type."""
    span = term.span
    if span is not None and within is not None and _inside(span, within) and span.file in sources:
        return span_text(sources[span.file], span)
    return getattr(term, "name", None) or f"{term.dom} -> {term.cod}"


def span_text(source: str, span: Span) -> str:
    """The text a span covers, its line breaks and runs of spaces made single spaces."""
    lines = source.splitlines()[span.line - 1 : span.end_line]
    if not lines:
        return ""
    lines[-1] = lines[-1][: span.end_column - 1]
    lines[0] = lines[0][span.column - 1 :]
    return " ".join(" ".join(lines).split())


def _inside(span: Span, within: Span) -> bool:
    """Whether `span` lies within `within`."""
    start, end = (span.line, span.column), (span.end_line, span.end_column)
    outer = (within.line, within.column), (within.end_line, within.end_column)
    return span.file == within.file and outer[0] <= start and end <= outer[1]


def _factor_text(term: Term, within: Span | None, sources: dict[str, str]) -> str:
    """An arrow's label: an identity as `id[A]`, anything else as the source writes it."""
    if isinstance(term, Struct) and term.kind == "id":
        return f"id[{term.dom}]"
    return source_text(term, within, sources)


def _shorten(text: str) -> str:
    """Text cut to `ARROW_TEXT` characters, ending in "…" when cut."""
    return text if len(text) <= ARROW_TEXT else text[: ARROW_TEXT - 1].rstrip() + "…"
