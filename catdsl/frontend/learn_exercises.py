"""The catlings exercise set: one folder per exercise with its broken file, its reference
solution and its metadata, read into `Exercise` records in course order.

A folder is `NN_name/` (NN its place on the ladder) holding `exercise.cat` (the broken or
incomplete program, its goal in its header comment), `solution.cat` (the reference) and
`info.toml`:

| key | meaning |
| --- | --- |
| `title`, `chapter`, `course` | what the exercise is, where it sits in the course |
| `track` | `beginner`, `core`, `intermediate` or `advanced` (never going down the ladder) |
| `boundary` | the class of boundary the broken program crosses, shown once it is solved |
| `expect` | the codes the unsolved exercise fails with (checked by `catdsl learn --verify`) |
| `hints` | the concept, then the fix (the first hint is always the diagnostic's own help) |
| `changes` | the objects, params and data the fix changes (the others must stay as given) |
| `[[values]]` | `name` (and `input`): a value that must equal the solution's; with `fails` |
| | (a code, `R0414`) a value that must be rejected with that code instead |

A malformed set is reported with E0905, naming the folder and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from catdsl.errors import CatError, Diagnostic

TRACKS = ("beginner", "core", "intermediate", "advanced")
FOLDER = re.compile(r"^(\d{2})_([a-z0-9_]+)$")
_TEXT_KEYS = ("title", "track", "chapter", "course", "boundary")
_KEYS = {*_TEXT_KEYS, "expect", "hints", "changes", "values"}
_CODE = re.compile(r"^[ER]\d{4}$")


@dataclass(frozen=True)
class ValueGoal:
    """A definition whose value must equal the solution's (on `input`, for a non-point)."""

    name: str
    input: object = None
    fails: str | None = None  # instead of a value: the code it must be rejected with

    def describe(self) -> str:
        return f"`{self.name}`" if self.input is None else f"`{self.name}` on {self.input}"


@dataclass(frozen=True)
class Exercise:
    """One exercise of the ladder."""

    key: str  # the folder's name, `04_embedding_softmax`
    number: int
    folder: Path
    title: str
    track: str
    chapter: str
    course: str
    boundary: str
    expect: tuple[str, ...]
    hints: tuple[str, ...]
    changes: frozenset[str]
    values: tuple[ValueGoal, ...]

    @property
    def exercise_path(self) -> Path:
        return self.folder / "exercise.cat"

    @property
    def solution_path(self) -> Path:
        return self.folder / "solution.cat"

    @property
    def goal(self) -> str:
        """The exercise file's header comment, without its first (title) line."""
        lines = []
        for line in self.exercise_path.read_text(encoding="utf-8").splitlines()[1:]:
            if not line.startswith("#"):
                break
            lines.append(line[1:].removeprefix(" "))
        return "\n".join(lines).strip("\n")


def default_root(package: Path | None = None) -> Path:
    """The exercise set: inside the installed package first, then the checkout's."""
    package = package or Path(__file__).resolve().parent.parent
    for candidate in (package / "exercises", package.parent / "exercises"):
        if candidate.is_dir():
            return candidate
    return package.parent / "exercises"


def setup_error(message: str, help: str | None = None) -> CatError:
    return CatError([Diagnostic("E0905", message, help=help)])


def load_exercises(root: Path) -> list[Exercise]:
    """Every exercise under `root`, in ladder order; E0905 when one is malformed."""
    if not root.is_dir():
        raise setup_error(
            f"no exercise set at `{root}`", help="pass the folder with `--exercises DIR`"
        )
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        match = FOLDER.match(folder.name)
        if match is None:
            continue
        found.append(_read(folder, int(match.group(1))))
    if not found:
        raise setup_error(f"`{root}` holds no exercise folder (`NN_name/` with info.toml)")
    numbers = [e.number for e in found]
    if len(set(numbers)) != len(numbers):
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        raise setup_error(f"two exercises share the number {twice[0]:02d} in `{root}`")
    return found


def _read(folder: Path, number: int) -> Exercise:
    where = f"{folder.name}/info.toml"
    for name in ("exercise.cat", "solution.cat", "info.toml"):
        if not (folder / name).is_file():
            raise setup_error(f"{folder.name} has no `{name}`")
    try:
        info = tomllib.loads((folder / "info.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise setup_error(f"{where} is not TOML: {err}") from None
    unknown = sorted(set(info) - _KEYS)
    if unknown:
        raise setup_error(f"{where} has an unknown key `{unknown[0]}`")
    text = {}
    for key in _TEXT_KEYS:
        value = info.get(key)
        if not isinstance(value, str) or not value.strip():
            raise setup_error(f"{where} needs `{key}`, a non-empty string")
        text[key] = value
    if text["track"] not in TRACKS:
        raise setup_error(f"{where}: track `{text['track']}` is not one of {', '.join(TRACKS)}")
    expect = _strings(info, "expect", where)
    if not expect or not all(_CODE.match(code) for code in expect):
        raise setup_error(f"{where}: `expect` lists the codes the exercise fails with, e.g. E0201")
    hints = _strings(info, "hints", where)
    if len(hints) != 2:
        raise setup_error(f"{where}: `hints` holds two hints, the concept and then the fix")
    values = []
    for goal in info.get("values", []):
        if not isinstance(goal, dict) or not isinstance(goal.get("name"), str):
            raise setup_error(f"{where}: each `[[values]]` needs a `name`")
        if set(goal) - {"name", "input", "fails"}:
            raise setup_error(f"{where}: `[[values]]` takes only `name`, `input` and `fails`")
        fails = goal.get("fails")
        if fails is not None and not (isinstance(fails, str) and _CODE.match(fails)):
            raise setup_error(f"{where}: `fails` is the code a value is rejected with, e.g. R0414")
        values.append(ValueGoal(goal["name"], goal.get("input"), fails))
    return Exercise(
        key=folder.name,
        number=number,
        folder=folder,
        title=text["title"],
        track=text["track"],
        chapter=text["chapter"],
        course=text["course"],
        boundary=text["boundary"],
        expect=tuple(expect),
        hints=tuple(hints),
        changes=frozenset(_strings(info, "changes", where)),
        values=tuple(values),
    )


def _strings(info: dict, key: str, where: str) -> list[str]:
    value = info.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise setup_error(f"{where}: `{key}` is a list of strings")
    return value
