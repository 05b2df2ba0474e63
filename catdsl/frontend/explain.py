"""`catdsl explain CODE`: the entry of a diagnostic code in `docs/errors.md`.

`docs/errors.md` is the one description of every code. A code has an entry in one of three
forms, and `entries` reads all three:

- a section `### E0201: title`, up to the next heading (the checker's codes, with examples);
- a row `| CODE | meaning | ... |` of a table (the commands' `E08xx` and the run-time `R`
  codes), shown with its column names and the prose that opens the table's section;
- a bullet `- **E0001** ...` of "Codes that cannot occur".

The page is read from the installed package (`catdsl/docs/errors.md`, which the wheel
carries) first, then from the checkout (`docs/errors.md`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

CODE = re.compile(r"[ER]\d{4}")
_HEADING = re.compile(r"^(#{1,6}) ")
_SECTION = re.compile(r"^### ([ER]\d{4}): (.+)$")
_ROW = re.compile(r"^\| ([ER]\d{4}) \|(.*)\|\s*$")
_BULLET = re.compile(r"^- \*\*([ER]\d{4})\*\* ?(.*)$")
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


@dataclass(frozen=True)
class Entry:
    """One code's entry: its title (one line) and its text (Markdown, heading included)."""

    code: str
    title: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "title": self.title, "text": self.text}


class UnknownCode(LookupError):
    """`code` has no entry; `suggestions` are the known codes closest to it."""

    def __init__(self, code: str, suggestions: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.suggestions = suggestions

    def __str__(self) -> str:
        if not CODE.fullmatch(self.code):
            what = f"`{self.code}` is not a diagnostic code (codes look like E0201 or R0412)"
        else:
            what = f"no entry for `{self.code}` in errors.md"
        if self.suggestions:
            names = " or ".join(f"`{s}`" for s in self.suggestions)
            return f"{what}; did you mean {names}?"
        return what


def errors_path(package: Path | None = None) -> Path:
    """`docs/errors.md`: the copy inside the `catdsl` package dir first, then the checkout's."""
    package = package or Path(__file__).resolve().parent.parent
    for candidate in (package / "docs" / "errors.md", package.parent / "docs" / "errors.md"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"errors.md not found (looked in {package / 'docs'} and {package.parent / 'docs'})"
    )


def entries(text: str) -> dict[str, Entry]:
    """Every code's entry in the Markdown `text` of errors.md, by code."""
    lines = text.splitlines()
    found: dict[str, Entry] = {}
    section_start = 0  # the line of the current `##`/`###` heading
    header: list[str] = []  # the current table's column names
    fenced = _fenced(lines)
    for i, line in enumerate(lines):
        if fenced[i]:
            continue
        if _opens_section(line):
            section_start = i
            header = []
        if m := _SECTION.match(line):
            end = next(
                (j for j in range(i + 1, len(lines)) if _opens_section(lines[j]) and not fenced[j]),
                len(lines),
            )
            kept = [ln for ln in lines[i:end] if not _COMMENT.match(ln)]  # the tests' markers
            body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
            found[m.group(1)] = Entry(m.group(1), m.group(2).strip(), body)
        elif line.startswith("| code |"):
            header = [cell.strip() for cell in line.strip().strip("|").split("|")]
        elif (m := _ROW.match(line)) and header:
            cells = [cell.strip() for cell in m.group(2).split("|")]
            found[m.group(1)] = _row_entry(m.group(1), header[1:], cells, lines, section_start)
        elif m := _BULLET.match(line):
            bullet = [m.group(2)]
            for more in lines[i + 1 :]:
                if not more.startswith("  ") or not more.strip():
                    break
                bullet.append(more.strip())
            title = " ".join(bullet)
            text = f"### {m.group(1)}\n\n**{m.group(1)}** {title}"
            found[m.group(1)] = Entry(m.group(1), title, text)
    return found


def _opens_section(line: str) -> bool:
    """A Markdown heading of level 1 to 3."""
    heading = _HEADING.match(line)
    return heading is not None and len(heading.group(1)) <= 3


def _fenced(lines: list[str]) -> list[bool]:
    """For each line, whether it is inside (or is) a ``` fence, where `#` is not a heading."""
    out, inside = [], False
    for line in lines:
        if line.strip().startswith("```"):
            out.append(True)
            inside = not inside
        else:
            out.append(inside)
    return out


def _row_entry(
    code: str, columns: list[str], cells: list[str], lines: list[str], section_start: int
) -> Entry:
    """A table row as an entry: `### CODE: meaning`, the other columns, the section's prose."""
    title = cells[0]
    parts = [f"### {code}: {title}"]
    for name, cell in zip(columns[1:], cells[1:], strict=False):
        parts.append(f"**{name.capitalize()}.** {cell}")
    prose = []
    for line in lines[section_start + 1 :]:
        if line.startswith("|"):
            break
        prose.append(line)
    context = "\n".join(prose).strip()
    if context:
        parts.append(context)
    return Entry(code, title, "\n\n".join(parts))


def suggestions(code: str, known: list[str]) -> list[str]:
    """Up to three known codes close to `code` (`E201` -> `E0201`, `E0299` -> `E0209`, ...)."""
    wanted = code.strip().upper()
    if re.fullmatch(r"[ER]\d{1,3}", wanted):  # a short form: pad the number
        padded = wanted[0] + wanted[1:].zfill(4)
        if padded in known:
            return [padded]
    return difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.75)


def explain(code: str, path: Path | None = None) -> Entry:
    """The entry of `code` (case-insensitive); `UnknownCode` with suggestions if it has none."""
    found = entries((path or errors_path()).read_text(encoding="utf-8"))
    wanted = code.strip().upper()
    if wanted in found:
        return found[wanted]
    raise UnknownCode(code, suggestions(code, list(found)))
