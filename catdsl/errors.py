"""Errors as values: source spans, diagnostics, their report, and the exceptions that carry
them across the public boundary.

Every phase collects `Diagnostic`s; only the public entry points (`catdsl.load`, the CLI) wrap
them in a `CatError`, whose message is the report rustc would print: header, source line, caret
underline, help (colour only when asked). Spans are 1-based; `end_column` is exclusive. Nothing
here imports the rest of catdsl.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A region of a source file (1-based lines and columns, end column exclusive)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def point(file: str, line: int, column: int) -> Span:
        return Span(file, line, column, line, column + 1)


@dataclass(frozen=True)
class Label:
    """A secondary span with a short message, drawn under its own source line."""

    span: Span
    message: str


@dataclass(frozen=True)
class IllegalComposition:
    """What the renderer needs to draw a composition that does not type-check: the chain's
    boxes as (label, input objects, output objects), the junction that fails and, when the
    checker typed each box, their terms (so each part is drawn as what it is)."""

    definition: str | None
    boxes: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    junction: int  # the wire between boxes[junction] and boxes[junction + 1]
    expected: str
    found: str
    terms: tuple[Any, ...] = field(default=(), compare=False)  # the boxes' typed terms, to draw


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a program: a code (see docs/errors.md), a message, where, and a fix."""

    code: str
    message: str
    span: Span | None = None
    help: str | None = None
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    severity: str = "error"
    figure: IllegalComposition | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        span = self.span
        return {
            "file": span.file if span else None,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "help": self.help,
            "notes": list(self.notes),
        }


_Row = tuple[Span, str, str, str]
"""A span to mark on its source line: the span, its mark (`^` or `-`), a label, the line."""

_RED, _BLUE, _CYAN, _BOLD, _RESET = "\x1b[31m", "\x1b[34m", "\x1b[36m", "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    # lines as the parser counts them: LF, CRLF or a lone CR ends one (a form feed does not)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if text.endswith(("\n", "\r")):
        lines.pop()
    if 1 <= span.line <= len(lines):
        line = lines[span.line - 1]
        # tabs and other control characters show as one space each, so carets line up
        return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in line)
    return "" if span.line == len(lines) + 1 else None


def _underline(span: Span, line_text: str, mark: str) -> str:
    start = max(span.column - 1, 0)
    if span.end_line == span.line:
        width = max(span.end_column - span.column, 1)
    else:
        width = max(len(line_text) - start, 1)
    return " " * start + mark * width


def _underlines(group: list[_Row], text: str, bar: str, color: bool) -> list[str]:
    """One row of carets and dashes for all spans on a line, then each label's message,
    rightmost first on the same row, the others below at their column."""
    group = sorted(group, key=lambda r: r[0].column)
    marks = [" "] * (len(text) + 2)
    for span, mark, _msg, _text in group:
        under = _underline(span, text, mark)
        for i, ch in enumerate(under):
            if ch != " ":
                while i >= len(marks):
                    marks.append(" ")
                marks[i] = ch
    row = "".join(marks).rstrip()
    last = group[-1]
    rows = [row + (f" {last[2]}" if last[2] else "")]
    for span, _mark, msg, _text in reversed(group[:-1]):
        if msg:
            rows.append(" " * (span.column - 1) + msg)
    style = _RED if any(m == "^" for _s, m, _x, _t in group) else _CYAN
    return [f"{bar} {_paint(r, style, color)}" for r in rows]


MAX_SHOWN_LINE = 160
"""Longer source lines (a 4,000-digit number, minified text) are shown cut around the spans."""


def _window(group: list[_Row], text: str) -> tuple[list[_Row], str]:
    """A long line cut to MAX_SHOWN_LINE characters from just before its first span, with `…`
    where text is left out, and the spans moved to match."""
    if len(text) <= MAX_SHOWN_LINE:
        return group, text
    lo = max(0, min(span.column - 1 for span, *_ in group) - 20)
    hi = lo + MAX_SHOWN_LINE
    prefix, suffix = ("…" if lo > 0 else ""), ("…" if hi < len(text) else "")
    shown = prefix + text[lo:hi] + suffix
    shift, limit = lo - len(prefix), len(prefix) + min(hi, len(text)) - lo + 1
    moved: list[_Row] = []
    for span, mark, message, _text in group:
        column = min(max(span.column - shift, 1), limit)
        if span.end_line == span.line:
            end = min(max(span.end_column - shift, column + 1), limit)
            new = Span(span.file, span.line, column, span.line, end)
        else:
            new = Span(span.file, span.line, column, span.end_line, span.end_column)
        moved.append((new, mark, message, shown))
    return moved, shown


def render(diag: Diagnostic, sources: dict[str, str], color: bool = False) -> str:
    """One diagnostic as text: `file:line:col: error[CODE]: message`, source, caret, help."""
    where = f"{diag.span}: " if diag.span else ""
    sev = _paint(f"{diag.severity}[{diag.code}]", _RED + _BOLD, color)
    out = [f"{where}{sev}: {_paint(diag.message, _BOLD, color)}"]
    shown = [(diag.span, "^", "")] if diag.span else []
    shown += [(label.span, "-", label.message) for label in diag.labels]
    rows: list[_Row] = []
    for span, mark, message in shown:
        line_text = _source_line(sources, span)
        if line_text is not None:
            rows.append((span, mark, message, line_text))
    indent = "  "
    if rows:
        gutter = max(len(str(s.line)) for s, *_ in rows)
        indent = " " * (gutter + 1)  # `= help` lines up with the gutter's bar, as in rustc
        bar = _paint(" " * gutter + " |", _BLUE, color)
        out.append(bar)
        last_file = diag.span.file if diag.span else None
        by_line: dict[tuple[str, int], list[_Row]] = {}
        for row in rows:
            by_line.setdefault((row[0].file, row[0].line), []).append(row)
        for (file, line), group in sorted(by_line.items()):
            if file != last_file:
                out.append(_paint(f"{' ' * gutter}--> {file}:{line}", _BLUE, color))
                last_file = file
            group, text = _window(group, group[0][3])
            out.append(f"{_paint(f'{line:>{gutter}} |', _BLUE, color)} {text}".rstrip())
            out.extend(_underlines(group, text, bar, color))
        out.append(bar)
    for note in diag.notes:
        out.append(f"{indent}= note: {note}")
    if diag.help:
        out.append(f"{indent}= {_paint('help', _CYAN + _BOLD, color)}: {diag.help}")
    return "\n".join(out)


def render_all(diags: Iterable[Diagnostic], sources: dict[str, str], color: bool = False) -> str:
    """All diagnostics, separated by blank lines, with a closing count."""
    diags = list(diags)
    parts = [render(d, sources, color) for d in diags]
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''} found")
    return "\n\n".join(parts)


@dataclass
class CatError(Exception):
    """Raised by the public API when a program has errors; carries every diagnostic found."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.sources, color=False)

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


class CatRuntimeError(Exception):
    """Raised inside the interpreter; converted to a `CatError` with the box's span at the edge."""

    def __init__(self, code: str, message: str, span: Span | None = None, help: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(code, message, span, help)

    def at(self, span: Span | None) -> CatRuntimeError:
        """Attach a span when the raiser did not know it (kernels never see source)."""
        if self.diagnostic.span is None and span is not None:
            d = self.diagnostic
            self.diagnostic = Diagnostic(d.code, d.message, span, d.help, d.labels, d.notes)
        return self
