"""`catdsl learn`: catlings, the course's exercises one at a time, learned by fixing the
diagnostics of typed programs.

The learner works in a folder (the working directory, or `--dir`): each exercise is copied
to `catlings/NN_name.cat` there the first time it comes up, and progress is kept in
`.catlings-progress.json` beside it. `learn` grades the current exercise (learn_grade.py),
shows its goal and diagnostics and, when it passes, moves on; `--watch` re-grades on every
save; `hint` gives one more hint per call; `list`, `reset`, `quiz` and `--verify` (every
reference solution passes and every exercise fails with its expected codes).
"""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catdsl.errors import Diagnostic, Span, render_all
from catdsl.frontend.learn_exercises import TRACKS, Exercise, default_root, load_exercises
from catdsl.frontend.learn_grade import Outcome, grade
from catdsl.frontend.learn_progress import Progress, bar

WORKSPACE = "catlings"
HINT_KINDS = ("from the diagnostic", "the concept", "the fix")

Out = Callable[[str], None]


class LearnUsage(Exception):
    """Bad use of `catdsl learn` (an unknown exercise name): exit code 2."""


@dataclass
class Course:
    """The exercise set (read from `root`) and the learner's folder."""

    exercises: list[Exercise]
    folder: Path
    color: bool = False
    root: Path = Path("exercises")

    @property
    def workspace(self) -> Path:
        return self.folder / WORKSPACE

    def file_of(self, exercise: Exercise) -> Path:
        return self.workspace / f"{exercise.key}.cat"

    def shown(self, exercise: Exercise) -> str:
        """The learner's file, relative to the folder (how it is named on screen)."""
        return f"{WORKSPACE}/{exercise.key}.cat"

    def open(self, exercise: Exercise) -> Path:
        """The learner's copy of the exercise, made from the original the first time."""
        path = self.file_of(exercise)
        if not path.exists():
            self.restore(exercise)
        return path

    def restore(self, exercise: Exercise) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exercise.exercise_path, self.file_of(exercise))

    def current(self, progress: Progress) -> Exercise | None:
        return next((e for e in self.exercises if e.key not in progress.done), None)

    def solved(self, progress: Progress) -> int:
        """How many of this set's exercises are done (a key of a renamed exercise is not)."""
        return sum(e.key in progress.done for e in self.exercises)

    def find(self, name: str) -> Exercise:
        """An exercise by folder name, number (`4`, `04`) or name without its number."""
        for exercise in self.exercises:
            short = exercise.key.split("_", 1)[1]
            if name in (exercise.key, short) or (name.isdigit() and int(name) == exercise.number):
                return exercise
        known = ", ".join(e.key for e in self.exercises)
        raise LearnUsage(f"no exercise `{name}`; the exercises are: {known}")

    def grade(self, exercise: Exercise) -> Outcome:
        path = self.open(exercise)
        outcome = grade(exercise, path)
        # diagnostics name the file as the learner sees it, relative to their folder
        return _relative(outcome, str(path), self.shown(exercise))


def _relative(outcome: Outcome, actual: str, shown: str) -> Outcome:
    from dataclasses import replace

    def place(span: Span) -> Span:
        return replace(span, file=shown) if span.file == actual else span

    def move(d: Diagnostic) -> Diagnostic:
        labels = tuple(replace(label, span=place(label.span)) for label in d.labels)
        return replace(d, span=d.span and place(d.span), labels=labels)

    sources = {shown if k == actual else k: v for k, v in outcome.sources.items()}
    return Outcome([move(d) for d in outcome.diagnostics], sources)


def open_course(exercises: str | None, folder: str | None, color: bool = False) -> Course:
    root = Path(exercises) if exercises else default_root()
    return Course(load_exercises(root), Path(folder or "."), color, root)


# ------------------------------------------------------------------ one step
def show(course: Course, progress: Progress, exercise: Exercise, out: Out) -> bool:
    """Grade the current exercise and show it; when it passes, record it. True if it passed."""
    outcome = course.grade(exercise)
    out(header(course, progress, exercise))
    if not outcome.passed:
        out(render_all(outcome.diagnostics, outcome.sources, color=course.color))
        out(
            f"not solved yet: edit {course.shown(exercise)}; `catdsl learn hint` gives a hint "
            f"({_hints_left(progress, exercise)} left)."
        )
        return False
    progress.mark_done(exercise.key)
    progress.save()
    out(f"solved {exercise.number:02d}: {exercise.title}.")
    out(f"It crossed the {exercise.boundary}.")
    return True


def header(course: Course, progress: Progress, exercise: Exercise) -> str:
    line = f"{exercise.number:02d} · {exercise.track} · {exercise.title}"
    return "\n".join(
        [
            f"catlings {bar(course.solved(progress), len(course.exercises))}",
            "",
            line,
            "─" * len(line),
            f"file: {course.shown(exercise)}   (chapter: {exercise.chapter}; {exercise.course})",
            "",
            exercise.goal,
            "",
        ]
    )


def all_done(course: Course) -> str:
    n = len(course.exercises)
    return (
        f"catlings {bar(n, n)}\n\nAll {n} exercises are solved. "
        "`catdsl learn quiz` asks the course's checkpoint questions."
    )


def run(course: Course, progress: Progress, out: Out) -> int:
    """`catdsl learn`: grade the current exercise; on a pass, go on to the next. Exit 1 when
    an exercise is left unsolved."""
    while (exercise := course.current(progress)) is not None:
        if not show(course, progress, exercise, out):
            return 1
        out("")
    out(all_done(course))
    return 0


def watch(course: Course, progress: Progress, out: Out, stop: threading.Event | None = None) -> int:
    """`catdsl learn --watch`: grade, then re-grade on every save of the current file; a pass
    moves on to the next exercise. Ends when every exercise is solved (0) or `stop` is set."""
    try:
        return _watch(course, progress, out, stop)
    except KeyboardInterrupt:
        out("\nstopped; `catdsl learn --watch` goes on from here.")
        return 130


def _watch(course: Course, progress: Progress, out: Out, stop: threading.Event | None) -> int:
    from watchfiles import watch as changes

    while True:
        exercise = course.current(progress)
        if exercise is None:
            out(all_done(course))
            return 0
        if show(course, progress, exercise, out):
            out("")
            continue
        out(f"watching {course.shown(exercise)}: save it to check again (Ctrl-C stops).\n")
        for _ in changes(
            course.workspace,
            watch_filter=_only(course.file_of(exercise)),
            stop_event=stop,
            debounce=200,
        ):
            break
        if stop is not None and stop.is_set():
            return 0


def _only(path: Path) -> Callable[[object, str], bool]:
    """A watchfiles filter: changes of `path` only (an editor may save by renaming)."""
    wanted = path.resolve()

    def fits(_change: object, changed: str) -> bool:
        return Path(changed).resolve() == wanted

    return fits


# ------------------------------------------------------------------ commands
def hint(course: Course, progress: Progress, out: Out) -> int:
    """One more hint for the current exercise: the diagnostic's own help, then the concept,
    then the fix."""
    exercise = course.current(progress)
    if exercise is None:
        out(all_done(course))
        return 0
    level = min(progress.hints.get(exercise.key, 0) + 1, len(HINT_KINDS))
    title = f"{exercise.number:02d} · {exercise.title}"
    if level == 1:
        outcome = course.grade(exercise)
        if outcome.passed:
            out(f"{title}: it passes already; `catdsl learn` records it and moves on.")
            return 0
        text = diagnostic_hint(outcome.diagnostics[0])
    else:
        text = textwrap.fill(exercise.hints[level - 2], width=92)
    progress.hints[exercise.key] = level
    progress.save()
    out(f"{title}\nhint {level} of {len(HINT_KINDS)}, {HINT_KINDS[level - 1]}:\n\n{text}")
    if level == len(HINT_KINDS):
        out("\nThat was the last hint; `solution.cat` beside the exercise is the reference.")
    return 0


def diagnostic_hint(d: Diagnostic) -> str:
    """The first hint: what the diagnostic itself says to do (its help, else its notes)."""
    lines = [f"error[{d.code}]: {d.message}"]
    if d.help:
        lines.append(f"help: {d.help}")
    lines.extend(f"note: {note}" for note in d.notes)
    lines.append(f"(`catdsl explain {d.code}` tells more about {d.code}.)")
    return "\n".join(lines)


def _hints_left(progress: Progress, exercise: Exercise) -> int:
    return len(HINT_KINDS) - progress.hints.get(exercise.key, 0)


def listing(course: Course, progress: Progress, out: Out) -> int:
    current = course.current(progress)
    out(f"catlings {bar(course.solved(progress), len(course.exercises))}\n")
    for e in course.exercises:
        state = "done" if e.key in progress.done else "current" if e is current else ""
        out(f"  {e.number:02d}  {e.track:<12}  {e.title:<44}  {state}".rstrip())
    return 0


def reset(course: Course, name: str | None, out: Out) -> int:
    """Restore one exercise's file (and forget that it was solved), or everything."""
    if name is None:
        for exercise in course.exercises:
            if course.file_of(exercise).exists():
                course.restore(exercise)
        Progress(course.folder / ".catlings-progress.json").save()
        out(f"every exercise is as it was; progress starts again at {course.exercises[0].key}.")
        return 0
    exercise = course.find(name)
    progress = Progress.load(course.folder)
    course.restore(exercise)
    progress.forget(exercise.key)
    progress.save()
    out(f"{course.shown(exercise)} is as it was, and no longer counted as solved.")
    return 0


def verify(course: Course, out: Out) -> int:
    """Every reference solution passes; every exercise fails with exactly its expected codes;
    the tracks go up the ladder. Problems are E0906."""
    problems: list[Diagnostic] = []
    rung = 0
    for e in course.exercises:
        solution = grade(e, e.solution_path)
        broken = grade(e, e.exercise_path)
        wrong = []
        if not solution.passed:
            wrong.append(f"its solution does not pass ({', '.join(solution.codes)})")
        if broken.codes != sorted(e.expect):
            got = ", ".join(broken.codes) or "nothing: it passes"
            wrong.append(f"the exercise fails with {got}, not {', '.join(sorted(e.expect))}")
        if TRACKS.index(e.track) < rung:
            wrong.append(f"its track `{e.track}` goes down the ladder")
        rung = max(rung, TRACKS.index(e.track))
        if wrong:
            problems.append(Diagnostic("E0906", f"{e.key}: " + "; ".join(wrong)))
            out(f"FAIL {e.key}")
        else:
            out(f"ok   {e.key:<36} fails with {', '.join(e.expect)}; its solution passes")
    if problems:
        out(render_all(problems, {}, color=course.color))
        return 1
    out(f"\n{len(course.exercises)} exercises verified.")
    return 0
