"""The exceptions that carry diagnostics across the public boundary.

Every phase collects `Diagnostic`s (defined with their rendering in `catdsl.diagnostics`); only
the public entry points (`catdsl.load`, the CLI) wrap them in a `CatError`. `Span` and
`Diagnostic` are re-exported here, where most of the code base imports them from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catdsl.diagnostics import Diagnostic, IllegalComposition, Label, Span, render_all

__all__ = [
    "CatError",
    "CatRuntimeError",
    "Diagnostic",
    "IllegalComposition",
    "Label",
    "Span",
]


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
