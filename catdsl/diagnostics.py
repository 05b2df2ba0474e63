"""Render diagnostics the way rustc does: header, source line, caret underline, help.

One data model (`Diagnostic`) rendered to plain text (colour only when asked) and to JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from catdsl.errors import Diagnostic, Span

_RED, _BLUE, _CYAN, _BOLD, _RESET = "\x1b[31m", "\x1b[34m", "\x1b[36m", "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1].expandtabs(4) if "\t" not in lines[span.line - 1] else None
    return "" if span.line == len(lines) + 1 else None


def _underline(span: Span, line_text: str, mark: str) -> str:
    start = max(span.column - 1, 0)
    if span.end_line == span.line:
        width = max(span.end_column - span.column, 1)
    else:
        width = max(len(line_text) - start, 1)
    return " " * start + mark * width


def render(diag: Diagnostic, sources: dict[str, str], color: bool = False) -> str:
    """One diagnostic as text: `file:line:col: error[CODE]: message`, source, caret, help."""
    where = f"{diag.span}: " if diag.span else ""
    sev = _paint(f"{diag.severity}[{diag.code}]", _RED + _BOLD, color)
    out = [f"{where}{sev}: {_paint(diag.message, _BOLD, color)}"]
    shown = [(diag.span, "^", "")] if diag.span else []
    shown += [(label.span, "-", label.message) for label in diag.labels]
    rows = [(s, m, msg, _source_line(sources, s)) for s, m, msg in shown if s is not None]
    rows = [r for r in rows if r[3] is not None]
    if rows:
        gutter = max(len(str(s.line)) for s, *_ in rows)
        bar = _paint(" " * gutter + " |", _BLUE, color)
        out.append(bar)
        last_file = diag.span.file if diag.span else None
        for span, mark, msg, text in sorted(rows, key=lambda r: (r[0].file, r[0].line, r[1])):
            if span.file != last_file:
                out.append(_paint(f"{' ' * gutter}--> {span}", _BLUE, color))
                last_file = span.file
            number = _paint(f"{span.line:>{gutter}} |", _BLUE, color)
            out.append(f"{number} {text}".rstrip())
            under = _underline(span, text, mark)
            note = f" {msg}" if msg else ""
            out.append(f"{bar} {_paint(under + note, _RED if mark == '^' else _CYAN, color)}")
        out.append(bar)
    for note in diag.notes:
        out.append(f"{' ' * 2}= note: {note}")
    if diag.help:
        out.append(f"{' ' * 2}= {_paint('help', _CYAN + _BOLD, color)}: {diag.help}")
    return "\n".join(out)


def render_all(diags: Iterable[Diagnostic], sources: dict[str, str], color: bool = False) -> str:
    """All diagnostics, separated by blank lines, with a closing count."""
    diags = list(diags)
    parts = [render(d, sources, color) for d in diags]
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''} found")
    return "\n\n".join(parts)


def to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2)
