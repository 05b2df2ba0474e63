"""A learner's progress through catlings: which exercises are done and how many hints each
has shown, kept in `.catlings-progress.json` in the learner's folder and replaced atomically
on every change (a crash never leaves half a file). An unreadable file is E0907.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from catdsl.errors import CatError, Diagnostic
from catdsl.files import atomic_output

PROGRESS_FILE = ".catlings-progress.json"
VERSION = 1
BAR_WIDTH = 32


@dataclass
class Progress:
    """Done exercises (by folder name) and the number of hints shown per exercise."""

    path: Path
    done: list[str] = field(default_factory=list)
    hints: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def load(folder: Path) -> Progress:
        path = folder / PROGRESS_FILE
        if not path.exists():
            return Progress(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION:
                raise ValueError(f"version {data.get('version')!r}, not {VERSION}")
            if not isinstance(data["done"], list):
                raise ValueError("`done` is not a list")
            done = [str(key) for key in data["done"]]
            hints = {str(key): int(level) for key, level in data["hints"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise CatError(
                [
                    Diagnostic(
                        "E0907",
                        f"`{path}` is not a catlings progress file ({err})",
                        help="`catdsl learn reset` starts again from the first exercise",
                    )
                ]
            ) from None
        return Progress(path, done, hints)

    def save(self) -> None:
        data = {"version": VERSION, "done": self.done, "hints": self.hints}
        with atomic_output(self.path, what="progress file") as file:
            file.write((json.dumps(data, indent=2) + "\n").encode("utf-8"))

    def mark_done(self, key: str) -> None:
        if key not in self.done:
            self.done.append(key)

    def forget(self, key: str) -> None:
        if key in self.done:
            self.done.remove(key)
        self.hints.pop(key, None)


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[##########......]  5/16 done`: the share of exercises done."""
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>2}/{total} done"
