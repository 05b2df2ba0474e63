"""Errors as values: source spans, diagnostics, and the one exception raised at the boundary.

Every phase collects `Diagnostic`s; only the public entry points (`catdsl.load`, the CLI) wrap
them in a `CatError`. Spans are 1-based; `end_column` is exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    terms: tuple = field(default=(), compare=False)  # the boxes' typed terms, to draw them


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

    def to_json(self) -> dict:
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


@dataclass
class CatError(Exception):
    """Raised by the public API when a program has errors; carries every diagnostic found."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        from catdsl.diagnostics import render_all

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
