"""`catdsl learn quiz`: the course's chapter checkpoints and its ten-question quiz, with every
answer computed from a program (checked, run, its law checked or differentiated), never
written down. The questions are `exercises/quiz/quiz.toml`; its header lists the answer kinds.

`quiz` asks the ten questions, `quiz checkpoints` the chapter checkpoints, reading one
answer per line from standard input; `--key` prints the answer key instead.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catdsl.frontend.learn_exercises import setup_error

SETS = ("quiz", "checkpoints")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_KINDS = ("check", "run", "law", "vjp", "gradcheck")
_CHECK_FIELDS = ("code", "message", "help", "proposal")


@dataclass(frozen=True)
class Question:
    set: str
    chapter: str
    ask: str
    choices: tuple[str, ...]
    answer: dict
    digits: int

    def describe(self) -> str:
        source = self.answer["program"]
        kind = next(k for k in _KINDS if k in self.answer)
        return f"{kind} {source}"


@dataclass(frozen=True)
class Answer:
    """The computed answer: numbers (compared to `digits` decimals) or a text."""

    numbers: tuple[float, ...] | None
    text: str | None
    digits: int

    def shown(self) -> str:
        if self.numbers is None:
            return str(self.text)
        return ", ".join(f"{x:.{self.digits}f}" for x in self.numbers)

    def accepts(self, reply: str) -> bool:
        if self.numbers is None:
            return _plain(reply) == _plain(str(self.text))
        given = [float(x) for x in NUMBER.findall(reply)]
        if len(given) != len(self.numbers):
            return False
        slack = 0.5 * 10.0**-self.digits + 1e-12
        return all(abs(g - x) <= slack for g, x in zip(given, self.numbers, strict=True))


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").lower().split())


def load_questions(root: Path) -> list[Question]:
    path = root / "quiz" / "quiz.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise setup_error(f"cannot read `{path}`: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise setup_error(f"`{path}` is not TOML: {err}") from None
    out = []
    for i, q in enumerate(data.get("question", []), 1):
        answer = q.get("answer")
        where = f"quiz.toml, question {i}"
        if q.get("set") not in SETS or not isinstance(answer, dict):
            raise setup_error(f"{where}: needs `set` (quiz or checkpoints) and `answer`")
        if "program" not in answer or sum(k in answer for k in _KINDS) != 1:
            raise setup_error(f"{where}: `answer` needs `program` and one of {', '.join(_KINDS)}")
        out.append(
            Question(
                q["set"],
                q.get("chapter", ""),
                q.get("ask", ""),
                tuple(q.get("choices", ())),
                answer,
                int(answer.get("digits", 3)),
            )
        )
    return out


def program_path(root: Path, name: str) -> Path:
    """`programs/...` is the repository's programs folder; anything else is under `root`."""
    return root.parent / name if name.startswith("programs/") else root / name


def compute(question: Question, root: Path) -> Answer:
    """The question's answer, from its program."""
    a = question.answer
    path = program_path(root, a["program"])
    if "check" in a:
        return Answer(None, _checked(path, a["check"], question), question.digits)
    import catdsl

    program = catdsl.load(str(path))
    if "law" in a:
        (report,) = [r for r in program.check_laws() if r.name == a["law"]]
        return _choose(question, "holds" if report.holds else "fails")
    if "gradcheck" in a:
        rows = program.gradcheck(a["gradcheck"]).rows
        return Answer((float(len(rows)),), None, question.digits)
    if "vjp" in a:
        grads = program[a["vjp"]].vjp(a.get("input"), a["cotangent"])
        return Answer(_numbers(grads["inputs"]), None, question.digits)
    values = [program[name](a.get("input")) for name in a["run"]]
    if a.get("count"):
        return Answer(tuple(float(len(_first_leaf(v))) for v in values), None, question.digits)
    if "index" in a:
        values = [np.asarray(v)[a["index"]] for v in values]
    return Answer(_numbers(values), None, question.digits)


def _checked(path: Path, field: str, question: Question) -> str:
    from catdsl.loader import check_file

    program = check_file(path)
    if not program.diagnostics or field not in _CHECK_FIELDS:
        raise setup_error(f"`{path}` should give a diagnostic whose {field} answers the question")
    d = program.diagnostics[0]
    if field == "code":
        text = d.code
    elif field == "message":
        text = d.message
    elif field == "help":
        text = d.help or ""
    else:
        names = re.findall(r"`([A-Za-z_][A-Za-z0-9_']*)", d.help or "")
        if not names:
            raise setup_error(f"`{path}`: its help proposes no morphism")
        text = names[0]
    return _choose(question, text).text or text


def _choose(question: Question, text: str) -> Answer:
    """With choices, the one choice the computed text contains; else the text itself."""
    if not question.choices:
        return Answer(None, text, question.digits)
    fits = [c for c in question.choices if _plain(c) in _plain(text)]
    if len(fits) != 1:
        raise setup_error(
            f"quiz question {question.ask[:40]!r}…: {len(fits)} choices fit the program's output"
        )
    return Answer(None, fits[0], question.digits)


def _first_leaf(value: object) -> np.ndarray:
    """A list's first array (a list of products is a tuple of arrays, one per component)."""
    return np.asarray(value[0] if isinstance(value, tuple) else value)


def _numbers(value: object) -> tuple[float, ...]:
    if isinstance(value, dict):  # a params value: each param's numbers, in declaration order
        return tuple(x for v in value.values() for x in _numbers(v))
    if isinstance(value, list | tuple):
        return tuple(x for v in value for x in _numbers(v))
    return tuple(float(x) for x in np.ravel(np.asarray(value, dtype=np.float64)))


def quiz_command(
    name: str | None,
    key: bool,
    root: Path,
    out: Callable[[str], None],
    read: Callable[[], str | None] | None = None,
) -> int:
    """Ask one set's questions (or print its key); exit 0 when every answer is right."""
    chosen = name or "quiz"
    if chosen not in SETS:
        from catdsl.frontend.learn import LearnUsage

        raise LearnUsage(f"no question set `{chosen}`; the sets are: {', '.join(SETS)}")
    questions = [q for q in load_questions(root) if q.set == chosen]
    answers = [compute(q, root) for q in questions]
    read = read or _read_line
    right = 0
    for i, (q, answer) in enumerate(zip(questions, answers, strict=True), 1):
        out(f"{i}. ({q.chapter}) {q.ask}")
        for letter, choice in zip("abcdefgh", q.choices, strict=False):
            out(f"   {letter}) {choice}")
        if key:
            out(f"   answer: {_lettered(q, answer)}   (from {q.describe()})\n")
            continue
        reply = read()
        if reply is None:
            out("")
            break
        reply = _unletter(q, reply)
        if answer.accepts(reply):
            right += 1
            out("   right.\n")
        else:
            out(f"   not quite: the program says {_lettered(q, answer)} (from {q.describe()}).\n")
    if key:
        return 0
    out(f"{right} of {len(questions)} right.")
    return 0 if right == len(questions) else 1


def _lettered(q: Question, answer: Answer) -> str:
    if q.choices and answer.text in q.choices:
        return f"{'abcdefgh'[q.choices.index(answer.text)]}) {answer.text}"
    return answer.shown()


def _unletter(q: Question, reply: str) -> str:
    """A reply `b` (or `b)`) to a multiple-choice question is that choice's text."""
    letter = reply.strip().rstrip(")").lower()
    if q.choices and len(letter) == 1 and "a" <= letter < "abcdefgh"[len(q.choices)]:
        return q.choices[ord(letter) - ord("a")]
    return reply


def _read_line() -> str | None:
    print("   your answer: ", end="", flush=True)
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None
