"""Mutations of `.cat` programs and the oracle that runs them, shared by the in-suite fuzz tests
(`tests/test_fuzz_frontend.py`) and the long run (`bench/fuzz.py`, `make fuzz`).

A mutation is a pure function `(rng, text, donors) -> text` of one `random.Random`, so a
(class, seed program, seed) triple reproduces its input exactly. The classes:

| class | what it does |
| --- | --- |
| `huge-number` | a number becomes a 300- or 5,000-digit integer, real or exponent |
| `escape` | a string (`import "…"`, `load("…")`) gets `\\x`, `\\N{…}`, `\\0`, unicode escapes |
| `splice` | a prefix of one program joined to a suffix of another |
| `truncate` | the program cut at a random character |
| `long-identifier` | a name (every use, or one) renamed to thousands of characters |
| `deep-nesting` | parentheses, pairings, `List[…]` or list literals hundreds deep |
| `let-chain` | lets naming the one before, hundreds deep, or doubling at every line |
| `token` | tokens deleted, duplicated or swapped |

The oracle (`run_text`): `catdsl.loads` either gives a program or raises `CatError`; for a
program that checks, its points (definitions from `Unit`) run and its laws are checked on a
few samples, when its params and dims are small. Anything but a `CatError` escaping is a
finding.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from conftest import PROGRAMS

Mutation = Callable[[random.Random, str, list[str]], str]

_NUMBER = re.compile(r"(?<![A-Za-z_0-9.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_NAME = re.compile(r"(?<![A-Za-z0-9_'])[A-Za-z_][A-Za-z0-9_']*")
_LET = re.compile(r"^(let [A-Za-z_][A-Za-z0-9_']*(?: *:[^=\n]*)? *= *)(.+)$", re.M)
_TOKEN = re.compile(r"\s+|#[^\n]*|\"[^\"\n]*\"|[A-Za-z_][A-Za-z0-9_']*|\d+\.?\d*|>>|->|.")
KEYWORDS = {"import", "dim", "object", "type", "param", "morphism", "let", "data", "law",
            "where", "within", "and", "true", "false", "return", "std", "ml"}  # fmt: skip


def seed_programs() -> dict[str, str]:
    """The course programs (the mutations' seeds) by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(PROGRAMS.glob("*.cat"))}


def donor_programs() -> list[str]:
    """Every program of the repository, the broken ones included: material for splices."""
    return [p.read_text(encoding="utf-8") for p in sorted(PROGRAMS.rglob("*.cat"))]


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def huge_number(rng: random.Random, text: str, donors: list[str]) -> str:
    """One number (or a new `dim`) becomes 300 or 5,000 digits: an integer, a real, an
    exponent, or negative."""
    count = rng.choice([300, 5000])
    digits = _digits(rng, count)
    form = rng.choice(["int", "real", "exponent", "negative-exponent", "negative"])
    number = {
        "int": digits,
        "real": f"{digits}.5",
        "exponent": f"1e{digits}",
        "negative-exponent": f"1e-{digits}",
        "negative": f"-{digits}",
    }[form]
    spots = list(_NUMBER.finditer(text))
    if not spots:
        return text + f"\ndim Huge = {number}\nobject H : Real[Huge]\n"
    spot = rng.choice(spots)
    return text[: spot.start()] + number + text[spot.end() :]


ESCAPES = [r"\x", r"\x4", r"\x41", r"\N{LATIN SMALL LETTER A}", r"\N{NO SUCH NAME}", r"\N{",
           r"\0", r"\00", r"\u00e9", r"\u", r"\U0001F600", r"\U00110000", r"\ud800", "\\\\",
           r"\"", r"\q", "é", "\u202e", "\x00", "\\"]  # fmt: skip


def string_escape(rng: random.Random, text: str, donors: list[str]) -> str:
    """A string of the program, or a new `import "…"` / `load("…")`, gets odd escapes."""
    body = "".join(rng.choice(ESCAPES) for _ in range(rng.randint(1, 4)))
    body = rng.choice(["", "std/", "../", "/", "x.npy"]) + body + rng.choice(["", ".cat", ".npy"])
    literal = f'"{body}"'
    spots = list(_STRING.finditer(text))
    where = rng.choice(["replace", "import", "load"] if spots else ["import", "load"])
    if where == "replace":
        spot = rng.choice(spots)
        return text[: spot.start()] + literal + text[spot.end() :]
    if where == "import":
        return f"import {literal}\n{text}"
    return f"{text}\nparam fuzz_p : Real[2] = load({literal})\n"


def splice(rng: random.Random, text: str, donors: list[str]) -> str:
    """A prefix of this program joined to a suffix of another (at line or character cuts)."""
    other = rng.choice(donors) if donors else text
    if rng.random() < 0.5:
        lines, others = text.splitlines(True), other.splitlines(True)
        return "".join(lines[: rng.randint(0, len(lines))] + others[rng.randint(0, len(others)) :])
    return text[: rng.randint(0, len(text))] + other[rng.randint(0, len(other)) :]


def truncate(rng: random.Random, text: str, donors: list[str]) -> str:
    return text[: rng.randint(0, len(text))]


def long_identifier(rng: random.Random, text: str, donors: list[str]) -> str:
    """A name renamed to 1,000 to 20,000 characters: every use of it, or just one."""
    names = [m for m in _NAME.finditer(text) if m.group() not in KEYWORDS]
    long = "n" + "".join(rng.choice("abcxyz_0123'") for _ in range(rng.choice([999, 5000, 20000])))
    if not names:
        return f"{text}\nobject {long} : Real[2]\nlet {long}2 = {long} >> {long}\n"
    spot = rng.choice(names)
    if rng.random() < 0.5:
        return re.sub(rf"(?<![A-Za-z0-9_']){re.escape(spot.group())}(?![A-Za-z0-9_'])", long, text)
    return text[: spot.start()] + long + text[spot.end() :]


def deep_nesting(rng: random.Random, text: str, donors: list[str]) -> str:
    """Parentheses or pairings around a definition's body, a `List[…]` type or a list literal,
    of a depth near the parser's limits (50 to 5,000)."""
    depth = rng.choice([50, 150, 199, 200, 201, 400, 1000, 5000])
    kind = rng.choice(["parens", "pairing", "list-type", "literal"])
    lets = list(_LET.finditer(text))
    if kind in ("parens", "pairing") and lets:
        spot = rng.choice(lets)
        body = spot.group(2)
        other = rng.choice(["?", "x", "Unit"])  # short: the size stays linear in the depth
        nested = (
            "(" * depth + body + ")" * depth
            if kind == "parens"
            else "<" * depth + body + f", {other}>" * depth
        )
        return text[: spot.start(2)] + nested + text[spot.end(2) :]
    if kind == "literal":
        return f"{text}\ndata deep_d : Real = {'[' * depth}1{']' * depth}\n"
    return f"{text}\nobject Deep : {'List[' * depth}Real{']' * depth}\nlet deep = Deep >> Deep\n"


def let_chain(rng: random.Random, text: str, donors: list[str]) -> str:
    """A chain of lets, each naming the one before (50 to 2,000 deep), or each composing the
    one before with itself (a term that doubles at every line, up to 2^64 boxes)."""
    names = [m.group(1) for m in re.finditer(r"^let ([A-Za-z_][A-Za-z0-9_']*)", text, re.M)]
    base = rng.choice(names) if names else "Unit"
    chain = [f"let c0 = {base}"]
    if rng.random() < 0.5:
        depth = rng.choice([50, 162, 163, 200, 400, 2000])
        chain += [f"let c{i} = c{i - 1}" for i in range(1, depth)]
    else:
        depth = rng.choice([8, 16, 24, 64])
        chain += [f"let c{i} = c{i - 1} >> c{i - 1}" for i in range(1, depth)]
    return text + "\n" + "\n".join(chain) + "\n"


def token_edit(rng: random.Random, text: str, donors: list[str]) -> str:
    """One to five tokens deleted, duplicated or swapped."""
    tokens = _TOKEN.findall(text) or [""]
    for _ in range(rng.randint(1, 5)):
        i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        operation = rng.choice(["delete", "duplicate", "swap"])
        if operation == "delete" and len(tokens) > 1:
            del tokens[i]
        elif operation == "duplicate":
            tokens.insert(i, tokens[i])
        else:
            tokens[i], tokens[j] = tokens[j], tokens[i]
    return "".join(tokens)


MUTATIONS: dict[str, Mutation] = {
    "huge-number": huge_number,
    "escape": string_escape,
    "splice": splice,
    "truncate": truncate,
    "long-identifier": long_identifier,
    "deep-nesting": deep_nesting,
    "let-chain": let_chain,
    "token": token_edit,
}


def mutate(kind: str, seed: int, text: str, donors: list[str]) -> str:
    """The input of one fuzz case: mutation `kind` with `random.Random(seed)`."""
    return MUTATIONS[kind](random.Random(seed), text, donors)


# ---------------------------------------------------------------------------- the oracle

MAX_ELEMENTS = 100_000  # a param or dim product beyond this is not run ("small sizes")
MAX_WORK = 1_000_000  # points that would apply more boxes than this are not run
MAX_POINTS = 12  # points run per program (the last ones: a chain's deepest)


@dataclass
class Outcome:
    """What one input did: `checked` (no diagnostics), how many points and laws ran."""

    checked: bool = False
    points: int = 0
    laws: int = 0


def run_text(text: str, run: bool = True, samples: int = 2) -> Outcome:
    """Load `text`; for a program that checks (and `run`), run its small points and check its
    laws. Raises whatever escapes other than `CatError` (the finding)."""
    import catdsl
    from catdsl.errors import CatError

    outcome = Outcome()
    try:
        program = catdsl.loads(text, "fuzz.cat")
    except CatError:
        return outcome
    outcome.checked = True
    if not run or not _small(program):
        return outcome
    points = [n for n in program.names if not program[n].dom.atoms and not program[n].ports]
    for name in points[-MAX_POINTS:]:
        morphism = program[name]
        if _work(morphism.term) > MAX_WORK:
            continue
        with contextlib.suppress(CatError):
            morphism()
        outcome.points += 1
    if program.checked.laws:
        with contextlib.suppress(CatError):
            program.check_laws(samples=samples)
        outcome.laws = len(program.checked.laws)
    return outcome


def _small(program: object) -> bool:
    checked = program.checked  # type: ignore[attr-defined]
    if any(v is not None and abs(v) > MAX_ELEMENTS for v in checked.dims.values()):
        return False
    return all(math.prod(info.shape) <= MAX_ELEMENTS for info in checked.params.values())


def _work(term: object) -> int:
    """About how many boxes running a term applies: its parts' work added up, a `^ n` times n.
    A chain of lets that double is 2^n however short its text; shared subterms are visited
    once, and the walk keeps its own stack, so thousands of lets are no deeper for it than one."""
    import dataclasses

    from catdsl.typesys import terms as T

    def parts(node: object) -> list[object]:
        found = []
        for f in dataclasses.fields(node):  # type: ignore[arg-type]
            if not f.repr:
                continue  # the specs a term carries hold no terms
            value = getattr(node, f.name)
            for part in value if isinstance(value, tuple | list) else (value,):
                if dataclasses.is_dataclass(part) and not isinstance(part, type):
                    found.append(part)
        return found

    memo: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(term, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if not expanded:
            if key in memo:
                continue
            memo[key] = 1  # a cycle, should one exist, counts once
            stack.append((node, True))
            stack.extend((part, False) for part in parts(node) if id(part) not in memo)
            continue
        work = max(1, sum(memo[id(part)] for part in parts(node)))
        if isinstance(node, T.Power):
            work *= max(1, node.n)
        memo[key] = min(work, 10**18)
    return memo[id(term)]
